/**
 * No acknowledged write is lost when PostgreSQL dies hard: clients PUT and
 * POST items and save workflows; every PostgreSQL process is SIGKILLed
 * mid-load and the cluster restarted on the same directory and port. Every
 * write that got a 2xx must be there with its value (or a value sent later);
 * while the database was down the service must answer 503 (not 500, not
 * hang), and it must recover by itself. The negative control runs the same
 * load with synchronous_commit = off, which may lose acknowledged writes.
 */
import { randomUUID } from 'node:crypto';
import test from 'ava';
import type { Service } from '../../src/service.ts';
import { faultUser, startFaultCluster, startFaultService, superuser, until, type FaultCluster } from './cluster.ts';

const CLIENTS = 16;
const REQUEST_TIMEOUT_MS = 8_000;

const faultTest = process.env.SANDBAR_FAULTS === '1' ? test.serial : test.serial.skip;

/** What a client sent to one key (or workflow), in order, and the last of those that got a 2xx. */
interface History {
  sent: string[];
  acked: number;
}

interface Phase {
  name: 'before' | 'down' | 'after';
  statuses: Map<number | string, number>;
}

interface LoadResult {
  items: Map<string, History>;
  workflows: Map<string, History>;
  phases: Record<Phase['name'], Phase>;
  killed: number;
  acknowledged: number;
}

async function send(service: Service, method: string, path: string, token: string, json: unknown): Promise<{ status: number | string; body: any }> {
  try {
    const res = await fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(json),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* keep text */
    }
    if (res.status === 503 && !res.headers.get('retry-after')) return { status: '503 without retry-after', body };
    return { status: res.status, body };
  } catch (error) {
    return { status: (error as Error).name === 'TimeoutError' ? 'timeout' : `network: ${String(error)}`, body: null };
  }
}

async function runLoad(cluster: FaultCluster, t: import('ava').ExecutionContext, beforeLoad?: () => Promise<void>): Promise<LoadResult> {
  const service = await startFaultService(cluster);
  try {
    const user = await faultUser(service);
    const project = await (await fetch(`${service.url}/api/projects`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'durability' }) })).json() as { id: string };
    const created = await send(service, 'POST', `/api/projects/${project.id}/collections`, user.token, { name: 'durable' });
    if (created.status !== 201) throw new Error(`collection: ${created.status} ${JSON.stringify(created.body)}`);
    const workflowIds = Array.from({ length: CLIENTS }, () => randomUUID());
    for (const [c, id] of workflowIds.entries()) {
      const r = await send(service, 'PUT', `/api/projects/${project.id}/workflows/${id}`, user.token, { action: 'new', name: `wf-${c}`, definition: { seq: 0 } });
      if (r.status !== 201) throw new Error(`workflow: ${r.status} ${JSON.stringify(r.body)}`);
    }

    await beforeLoad?.();
    const items = new Map<string, History>();
    const workflows = new Map<string, History>(workflowIds.map((id) => [id, { sent: ['0'], acked: 0 }]));
    const phases: LoadResult['phases'] = {
      before: { name: 'before', statuses: new Map() },
      down: { name: 'down', statuses: new Map() },
      after: { name: 'after', statuses: new Map() },
    };
    let phase: Phase = phases.before;
    let stop = false;
    let acknowledged = 0;
    const record = (p: Phase, status: number | string) => p.statuses.set(status, (p.statuses.get(status) ?? 0) + 1);
    const history = (map: Map<string, History>, key: string) => {
      let h = map.get(key);
      if (!h) map.set(key, (h = { sent: [], acked: -1 }));
      return h;
    };

    const client = async (c: number) => {
      const workflowId = workflowIds[c]!;
      let lockVersion = 1;
      let seq = 0;
      for (let i = 0; !stop; i++) {
        seq += 1;
        const roll = (i * 7 + c) % 10;
        const p = phase;
        if (roll < 6) {
          // PUT one of this client's 20 keys: overwrites, so "or a later one" matters.
          const key = `c${c}-k${seq % 20}`;
          const value = JSON.stringify({ c, seq });
          const h = history(items, key);
          h.sent.push(value);
          const index = h.sent.length - 1;
          const r = await send(service, 'PUT', `/collections/durable/${key}`, user.token, { value });
          record(p, r.status);
          if (r.status === 200) {
            h.acked = Math.max(h.acked, index);
            acknowledged += 1;
          }
        } else if (roll < 8) {
          // POST a batch of fresh keys.
          const batch = Array.from({ length: 5 }, (_, j) => ({ key: `c${c}-b${seq}-${j}`, value: `batch ${seq} ${j}` }));
          const indexes = batch.map((b) => {
            const h = history(items, b.key);
            h.sent.push(b.value);
            return h.sent.length - 1;
          });
          const r = await send(service, 'POST', '/collections/durable', user.token, { items: batch });
          record(p, r.status);
          if (r.status === 200) {
            batch.forEach((b, j) => {
              const h = items.get(b.key)!;
              h.acked = Math.max(h.acked, indexes[j]!);
            });
            acknowledged += batch.length;
          }
        } else {
          const h = workflows.get(workflowId)!;
          h.sent.push(String(seq));
          const index = h.sent.length - 1;
          const r = await send(service, 'PUT', `/api/projects/${project.id}/workflows/${workflowId}`, user.token, {
            action: 'edit',
            name: `wf-${c}`,
            definition: { seq },
            lock_version: lockVersion,
          });
          record(p, r.status);
          if (r.status === 200) {
            lockVersion = r.body.lock_version;
            h.acked = Math.max(h.acked, index);
            acknowledged += 1;
          } else if (r.status === 409 && typeof r.body?.lock_version === 'number') {
            // An in-doubt save did commit after all: carry on from where the database is.
            lockVersion = r.body.lock_version;
          }
        }
        if (phase.name === 'down') await new Promise((r) => setTimeout(r, 20));
      }
    };

    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    await until('200 acknowledged writes before the crash', () => acknowledged >= 200, 30_000);
    const killed = await cluster.killAll();
    phase = phases.down;
    const ackedAtKill = acknowledged;
    // Down for a while, with the load still running and readiness probed.
    await until('the load to meet the dead database', () => [...phases.down.statuses.values()].reduce((a, b) => a + b, 0) >= 50, 15_000);
    const readyWhileDown = (await fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).status;
    // From here a request may meet the database up or still down.
    phase = phases.after;
    const ackedAtRestart = acknowledged;
    await cluster.restart();
    try {
      await until('writes acknowledged again after the restart, by the same service', () => acknowledged >= ackedAtRestart + 200, 30_000);
    } catch (error) {
      t.log(`after the restart: ${[...phases.after.statuses.entries()].map(([k, v]) => `${k}:${v}`).join(' ')}`);
      throw error;
    }
    stop = true;
    await Promise.all(clients);
    const ready = await fetch(`${service.url}/readyz`);
    t.log(`killed ${killed} postgres processes after ${ackedAtKill} acknowledged writes; /readyz while down ${readyWhileDown}, after ${ready.status}`);
    t.is(readyWhileDown, 503);
    t.is(ready.status, 200);
    return { items, workflows, phases, killed, acknowledged };
  } finally {
    await service.stop();
  }
}

interface Verified {
  verified: number;
  lost: string[];
}

async function verify(cluster: FaultCluster, r: LoadResult): Promise<Verified> {
  const sql = superuser(cluster.url);
  try {
    const rows = await sql<{ key: string; value: string }[]>`
      select i.key, i.value from app.items i join app.collections c on c.id = i.collection_id where c.name = 'durable'`;
    const stored = new Map(rows.map((row) => [row.key, row.value]));
    const wfs = await sql<{ id: string; seq: string }[]>`select id, definition->>'seq' as seq from app.workflows`;
    const storedWf = new Map(wfs.map((w) => [w.id, w.seq]));
    const lost: string[] = [];
    let verified = 0;
    const check = (kind: string, key: string, h: History, value: string | undefined) => {
      if (h.acked < 0) return;
      verified += 1;
      // Present with the acknowledged value or one sent after it (an in-doubt later write may have landed).
      const at = value === undefined ? -1 : h.sent.lastIndexOf(value);
      if (at < h.acked) lost.push(`${kind} ${key}: acknowledged ${h.sent[h.acked]}, found ${value ?? 'nothing'}`);
    };
    for (const [key, h] of r.items) check('item', key, h, stored.get(key));
    for (const [id, h] of r.workflows) check('workflow', id, h, storedWf.get(id));
    return { verified, lost };
  } finally {
    await sql.end();
  }
}

const describe = (p: Phase) => [...p.statuses.entries()].map(([k, v]) => `${k}:${v}`).join(' ');

faultTest('durability: SIGKILL every PostgreSQL process mid-load (synchronous_commit on) — no acknowledged write lost, 503 while down, recovery without restart', async (t) => {
  t.timeout(180_000);
  const cluster = await startFaultCluster({ fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' });
  try {
    const r = await runLoad(cluster, t);
    const v = await verify(cluster, r);
    t.log(`before: ${describe(r.phases.before)} | down: ${describe(r.phases.down)} | after: ${describe(r.phases.after)}`);
    t.log(`${r.acknowledged} writes acknowledged; ${v.verified} keys/workflows with an acknowledged write verified; ${v.lost.length} lost`);
    t.deepEqual(v.lost, []);
    for (const p of Object.values(r.phases)) {
      for (const status of p.statuses.keys()) {
        // 409: a workflow save in doubt at the crash that did commit; the client then resyncs its lock_version.
        // A request sent while the database was down may still end 200 when it is back in time: what may not
        // happen is a 500, a timeout (hang) or a dropped connection.
        const allowed = [200, 409, 503];
        t.true(allowed.includes(status as number), `${p.name}: unexpected ${status}`);
      }
    }
    t.true((r.phases.down.statuses.get(503) ?? 0) > 0, 'the service answered 503 while the database was down');
    t.true((r.phases.after.statuses.get(200) ?? 0) > 0);
  } finally {
    await cluster.destroy();
  }
});

faultTest('negative control: the same crash with synchronous_commit off can lose acknowledged writes', async (t) => {
  t.timeout(180_000);
  // Durable while the schema and fixtures are made (losing those would only show that everything was lost);
  // then, for the load only, commits return before their WAL is written, and the WAL writer writes at most every 10 s.
  const cluster = await startFaultCluster({ fsync: 'on', synchronous_commit: 'on' });
  try {
    const r = await runLoad(cluster, t, async () => {
      const sql = superuser(cluster.adminUrl);
      try {
        await sql`checkpoint`;
        await sql`alter system set synchronous_commit = off`;
        await sql`alter system set wal_writer_delay = '10s'`;
        await sql`alter system set wal_writer_flush_after = '1GB'`;
        await sql`select pg_reload_conf()`;
      } finally {
        await sql.end();
      }
    });
    const v = await verify(cluster, r);
    t.log(`${r.acknowledged} writes acknowledged; ${v.verified} verified; ${v.lost.length} acknowledged writes LOST with synchronous_commit off`);
    for (const l of v.lost.slice(0, 3)) t.log(l);
    // Not asserted either way: losing writes here is allowed, and shows the crash is hard enough to matter.
    t.pass();
  } finally {
    await cluster.destroy();
  }
});
