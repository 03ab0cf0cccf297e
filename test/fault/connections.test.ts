/**
 * Clients that vanish mid-stream or mid-upload leave no open transaction and
 * no leaked connection; more slow streams than the long pool has connections
 * queue (or get 503 with Retry-After) while point reads keep working.
 */
import net from 'node:net';
import test from 'ava';
import { createTestProject, createTestRun, createTestUser, ok, type TestUser } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ITEMS = 20_000;
const VALUE = 'v'.repeat(1000);

interface World {
  s: TestServer;
  owner: TestUser;
  projectId: string;
  runToken: string;
}

async function world(env: Record<string, string> = {}): Promise<World> {
  const s = await startTestServer(env);
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  await ok(s.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'stream' } }));
  await s.sql`
    insert into app.items (collection_id, project_id, key, value)
    select c.id, c.project_id, 'k' || i, ${VALUE} from app.collections c, generate_series(1, ${ITEMS}::int) i
     where c.project_id = ${project.id} and c.name = 'stream'`;
  return { s, owner, projectId: project.id, runToken: (await createTestRun(s, owner, project.id)).token };
}

/** The service's sessions that are doing something or holding a transaction open. */
async function busySessions(s: TestServer): Promise<Array<{ application_name: string; state: string; query: string }>> {
  return s.sql`
    select application_name, state, left(query, 80) as query from pg_stat_activity
     where datname = ${s.name} and application_name in ('sandbar', 'sandbar-long')
       and (state <> 'idle' or xact_start is not null)`;
}

async function until(what: string, condition: () => Promise<boolean> | boolean, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends `head` on a raw socket, waits for the first bytes of the answer (or `afterWrite`), then resets the connection. */
function hangUp(s: TestServer, head: string, options: { body?: Buffer; waitForAnswer: boolean }): Promise<string> {
  const u = new URL(s.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let received = '';
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
    socket.write(head);
    if (options.body) socket.write(options.body);
    if (options.waitForAnswer) {
      socket.once('data', (d) => {
        received = d.toString('latin1', 0, 64);
        socket.resetAndDestroy();
      });
    } else {
      // Let the server start reading the upload, then vanish.
      setTimeout(() => socket.resetAndDestroy(), 100);
    }
  });
}

test('clients that hang up mid-stream, mid-download or mid-upload leave no transaction open and no connection leaked', async (t) => {
  t.timeout(120_000);
  const { s, owner, projectId, runToken } = await world();
  try {
    const cuts: string[] = [];
    // More cut streams than the long pool (4) has connections: a leak would exhaust it.
    for (let i = 0; i < 10; i++) {
      cuts.push(await hangUp(s, `GET /collections/stream?limit=10000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${runToken}\r\n\r\n`, { waitForAnswer: true }));
      cuts.push(
        await hangUp(s, `GET /api/projects/${projectId}/collections/stream/download HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${owner.token}\r\n\r\n`, {
          waitForAnswer: true,
        }),
      );
      const partial = Buffer.alloc(1024 * 1024, 'a');
      partial.write('{"items":[{"key":"up","value":"', 0);
      await hangUp(
        s,
        `POST /collections/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${runToken}\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n`,
        { body: partial, waitForAnswer: false },
      );
    }
    t.true(cuts.every((c) => c.startsWith('HTTP/1.1 200')), 'every cut stream had started');
    let seen: unknown[] = [];
    await until(
      "the service's sessions to be idle with no transaction open",
      async () => {
        seen = await busySessions(s);
        return seen.length === 0 && s.service.db.stats().inFlight.long === 0 && s.service.db.stats().inFlight.hot === 0;
      },
      15_000,
    ).catch((error: Error) => t.fail(`${error.message}: ${JSON.stringify(seen)} ${JSON.stringify(s.service.db.stats())}`));
    t.log(`30 hang-ups (10 streams, 10 downloads, 10 uploads); then busy sessions ${seen.length}, in flight ${JSON.stringify(s.service.db.stats().inFlight)}`);

    // The pools still work: a whole stream and a write go through.
    const res = await s.request('/collections/stream?limit=10000', { token: runToken, signal: AbortSignal.timeout(30_000) });
    t.is(res.status, 200);
    const page = (await res.json()) as { items: unknown[] };
    t.is(page.items.length, 10_000);
    t.is((await s.request('/collections/stream/after', { method: 'PUT', token: runToken, json: { value: 'ok' } })).status, 200);
    const [row] = await s.sql`select count(*)::int as n from app.items where project_id = ${projectId} and key = 'up'`;
    t.is(row!.n, 0, 'no half-uploaded body was acted upon');
  } finally {
    await s.stop();
  }
});

/** A stream whose reader takes the first bytes and then stops reading, holding the cursor (and its connection) open. */
function stalledReader(s: TestServer, token: string) {
  const u = new URL(s.url);
  const socket = net.connect(Number(u.port), u.hostname);
  let bytes = 0;
  let status = '';
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const started = new Promise<void>((resolve) => {
    socket.on('data', (d) => {
      if (!status) status = d.toString('latin1', 0, 12);
      bytes += d.length;
      if (bytes > 0) resolve();
    });
  });
  socket.on('error', () => undefined);
  socket.write(`GET /collections/stream?limit=10000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
  return {
    started: started.then(() => socket.pause()),
    get status() {
      return status;
    },
    async finish() {
      socket.resume();
      await ended;
      return bytes;
    },
  };
}

test('pool exhaustion: more slow streams than long-pool connections queue or get 503 + Retry-After; point reads and writes keep working', async (t) => {
  t.timeout(120_000);
  const { s, runToken } = await world({ SANDBAR_DB_LONG_POOL_MAX: '1' });
  try {
    // The one long connection is taken by a stalled reader: its cursor waits on the client.
    const stalled = stalledReader(s, runToken);
    await stalled.started;
    t.is(stalled.status, 'HTTP/1.1 200');
    // More streams than connections: each must queue behind it (or be refused with 503), never fail otherwise.
    const extra = Array.from({ length: 6 }, () =>
      s.request('/collections/stream?limit=10000', { token: runToken, signal: AbortSignal.timeout(60_000) }).then(async (r) => ({
        status: r.status,
        retryAfter: r.headers.get('retry-after'),
        items: r.status === 200 ? ((await r.json()) as { items: unknown[] }).items.length : (await r.text(), 0),
      })),
    );
    // Meanwhile, on the hot pool, point reads and writes are served.
    for (let i = 1; i <= 20; i++) {
      const read = await s.request(`/collections/stream/k${i}`, { token: runToken, signal: AbortSignal.timeout(10_000) });
      t.is(read.status, 200);
      t.is(((await read.json()) as { value: string }).value, VALUE);
      const write = await s.request(`/collections/stream/w${i}`, { method: 'PUT', token: runToken, json: { value: 'w' }, signal: AbortSignal.timeout(10_000) });
      t.is(write.status, 200);
    }
    t.is((await fetch(`${s.url}/healthz`)).status, 200);
    const [waiting] = await s.sql`
      select count(*)::int as n from pg_stat_activity where datname = ${s.name} and application_name = 'sandbar-long'`;
    t.log(`long-pool sessions while exhausted: ${waiting!.n}; pool stats ${JSON.stringify(s.service.db.stats())}`);
    t.true(waiting!.n <= 1);

    // Let the stalled reader go: the queued streams then run.
    const bytes = await stalled.finish();
    t.true(bytes > 10_000_000);
    const results = await Promise.all(extra);
    t.log(`queued streams: ${results.map((r) => r.status).join(', ')}`);
    for (const r of results) {
      t.true(r.status === 200 || (r.status === 503 && r.retryAfter !== null), `status ${r.status}`);
      if (r.status === 200) t.is(r.items, 10_000);
    }
    t.is((await fetch(`${s.url}/healthz`)).status, 200);
  } finally {
    await s.stop();
  }
});
