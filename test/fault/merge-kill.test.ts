/**
 * The service process killed (SIGKILL) while a big merge runs: the merge is
 * either wholly applied or not at all. `sandbar serve` runs as a child process
 * on a dedicated cluster; we wait until pg_stat_activity shows the merge's
 * statement running, then kill -9 the child.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { faultUser, freePort, startFaultCluster, startFaultService, superuser, until } from './cluster.ts';

const faultTest = process.env.SANDBAR_FAULTS === '1' ? test.serial : test.serial.skip;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const DOOMED = 5;
const ITEMS_PER_DOOMED = 100_000;

faultTest('service killed with SIGKILL mid-merge: the merge is wholly applied or not at all', async (t) => {
  t.timeout(300_000);
  const cluster = await startFaultCluster({ fsync: 'on', synchronous_commit: 'on' });
  const sql = superuser(cluster.url);
  try {
    // Sign the token with the key the child will load from the same data directory.
    const setup = await startFaultService(cluster);
    const user = await faultUser(setup);
    await setup.stop();

    const [parent] = await sql<[{ id: string }]>`insert into app.projects (name) values ('merge-kill') returning id`;
    await sql`insert into app.project_users (project_id, user_id, role) values (${parent.id}, ${user.id}, 'owner')`;
    for (let i = 0; i < 3; i++) await sql`insert into app.collections (project_id, name) values (${parent.id}, ${`shared-${i}`})`;
    for (let i = 0; i < DOOMED; i++) {
      const [c] = await sql<[{ id: string }]>`insert into app.collections (project_id, name) values (${parent.id}, ${`doomed-${i}`}) returning id`;
      await sql`insert into app.items (collection_id, project_id, key, value)
                select ${c.id}, ${parent.id}, 'k' || g, 'value ' || g from generate_series(1, ${ITEMS_PER_DOOMED}::int) g`;
    }
    const [sandbox] = await sql<[{ id: string }]>`select id from app.create_sandbox(${parent.id}, 'sb', ${user.id})`;
    await sql`delete from app.collections where project_id = ${sandbox.id} and name like 'doomed-%'`;
    await sql`insert into app.collections (project_id, name) values (${sandbox.id}, 'brand-new')`;
    const names = async (projectId: string) =>
      (await sql<{ name: string }[]>`select name from app.collections where project_id = ${projectId} order by name`).map((r) => r.name);
    const before = await names(parent.id);
    const sandboxNames = await names(sandbox.id);
    const [{ n: itemsBefore }] = await sql<[{ n: number }]>`select count(*)::int as n from app.items where project_id = ${parent.id}`;

    const port = await freePort();
    const child = spawn(process.execPath, [path.join(root, 'bin/sandbar.js'), 'serve'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: cluster.url, PORT: String(port), HOST: '127.0.0.1', SANDBAR_DATA_DIR: cluster.dir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    const base = `http://127.0.0.1:${port}`;
    await until('the child service to listen', async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200, 60_000, 100);

    const merge = fetch(`${base}/api/projects/${sandbox.id}/merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: '{}',
    }).then(
      (r) => `answered ${r.status}`,
      (e: unknown) => `cut: ${String(e)}`,
    );
    await until(
      "the merge's statement to run",
      async () =>
        (await sql`select 1 from pg_stat_activity where application_name = 'sandbar-long' and state = 'active' and query ilike '%merge_sandbox%'`).length > 0,
      60_000,
      10,
    );
    child.kill('SIGKILL');
    t.is(await exited, 'SIGKILL');
    const client = await merge;
    t.log(`merge request: ${client}`);

    // The orphaned backend finishes or notices its client is gone, then rolls back unless it had committed.
    await until(
      "the dead service's sessions to end",
      async () => (await sql`select 1 from pg_stat_activity where application_name in ('sandbar', 'sandbar-long')`).length === 0,
      120_000,
      100,
    );
    const after = await names(parent.id);
    const [{ n: itemsAfter }] = await sql<[{ n: number }]>`select count(*)::int as n from app.items where project_id = ${parent.id}`;
    const [{ n: orphans }] = await sql<[{ n: number }]>`
      select count(*)::int as n from app.items i where not exists (select 1 from app.collections c where c.id = i.collection_id)`;
    const [{ n: audits }] = await sql<[{ n: number }]>`
      select count(*)::int as n from app.audit_events where project_id = ${parent.id} and action = 'sandbox.merge'`;
    const applied = JSON.stringify(after) === JSON.stringify(sandboxNames);
    t.log(`outcome: ${applied ? 'wholly applied' : 'not applied'}; parent items ${itemsBefore} → ${itemsAfter}; audit rows ${audits}`);
    t.is(orphans, 0);
    if (applied) {
      t.is(itemsAfter, 0, 'every item of the deleted collections is gone (the shared ones were empty)');
      t.is(audits, 1);
    } else {
      t.deepEqual(after, before, 'not applied: the parent has exactly its old collections');
      t.is(itemsAfter, itemsBefore, 'not applied: every item is still there');
      t.is(audits, 0);
    }
    // Either way the next service merges cleanly.
    const again = await startFaultService(cluster);
    try {
      const res = await fetch(`${again.url}/api/projects/${sandbox.id}/merge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      t.is(res.status, 200);
      t.deepEqual(await names(parent.id), sandboxNames);
    } finally {
      await again.stop();
    }
  } finally {
    await sql.end();
    await cluster.destroy();
  }
});
