import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createTestProject, createTestUser } from '../helpers/identity.ts';
import { race, type RaceResult } from '../helpers/race.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
/** A server with a bigger hot pool, so that many save transactions can be held open at once. */
let wide: TestServer;
const WIDE_POOL = 16;
test.before(async () => {
  // One after the other: both share the test data dir, where the first creates the signing key.
  s = await startTestServer();
  wide = await startTestServer({ SANDBAR_DB_POOL_MAX: String(WIDE_POOL) });
});
test.after.always(() => Promise.all([s?.stop(), wide?.stop()]));

const summary = (results: RaceResult[]) =>
  JSON.stringify(results.map((r) => [r.status, (r.body as { error?: string } | null)?.error ?? null, r.networkError ?? null]));

import type { ExecutionContext } from 'ava';
type Ctx = ExecutionContext;

function raceNewSaves(server: TestServer, token: string, projectId: string, id: string): Promise<RaceResult[]> {
  return race({
    baseUrl: server.url,
    processes: 2,
    clientsPerProcess: 32,
    requestsFor: (proc, client) => [
      {
        method: 'PUT',
        path: `/api/projects/${projectId}/workflows/${id}`,
        token,
        json: { action: 'new', name: 'Contended', definition: { proc, client } },
      },
    ],
  });
}

async function assertOneRowOneCreate(t: Ctx, server: TestServer, id: string, results: RaceResult[]): Promise<void> {
  t.is(results.length, 64);
  t.false(results.some((r) => r.status >= 500 || r.status === 0), summary(results));
  t.false(results.some((r) => /duplicate key|23505/.test(JSON.stringify(r.body))), summary(results));

  const created = results.filter((r) => r.status === 201);
  const updated = results.filter((r) => r.status === 200);
  const stale = results.filter((r) => r.status === 409);
  t.is(created.length, 1, summary(results));
  t.is(created.length + updated.length + stale.length, 64, summary(results));
  for (const r of stale) t.like(r.body, { error: 'stale_workflow' });
  t.like(created[0]!.body, { kind: 'new', lock_version: 1 });
  for (const r of updated) t.like(r.body, { kind: 'existing' });

  const rows = await server.sql`select lock_version from app.workflows where id = ${id}`;
  t.is(rows.length, 1);
  // Every success wrote exactly one snapshot, numbered 1..n without gaps, and the draft is the last of them.
  const versions = (await server.sql`select version from app.workflow_snapshots where workflow_id = ${id} order by version`).map((r) => r.version);
  t.deepEqual(versions, Array.from({ length: created.length + updated.length }, (_, i) => i + 1));
  t.is(rows[0]!.lock_version, versions.length);
  const successVersions = [...created, ...updated].map((r) => (r.body as { lock_version: number }).lock_version).sort((a, b) => a - b);
  t.deepEqual(successVersions, versions);
  for (const r of stale) t.true((r.body as { lock_version: number }).lock_version >= 2);
}

test('64 clients saving action new for one fresh id: one row, one 201, the rest 200 or 409 stale, no 5xx, no duplicate key', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = randomUUID();
  await assertOneRowOneCreate(t, s, id, await raceNewSaves(s, alice.token, project.id, id));
});

/**
 * Left alone, the first insert often commits before the next transaction
 * starts, and the loser-of-the-insert-race path is never taken. Here a share
 * lock on the table (which a row lock does not need, but an insert does) holds
 * every racing transaction at its insert until WIDE_POOL of them wait there, so
 * at least WIDE_POOL - 1 of them lose the insert race for certain.
 */
test('saves held at their insert until all collide still make one row and one 201', async (t) => {
  const alice = await createTestUser(wide);
  const project = await createTestProject(wide, alice);
  const id = randomUUID();
  let racing!: Promise<RaceResult[]>;
  await wide.sql.begin(async (tx) => {
    await tx`lock table app.workflows in share mode`;
    racing = raceNewSaves(wide, alice.token, project.id, id);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [{ n }] = (await wide.sql`
        select count(*)::int as n from pg_locks l
        where l.relation = 'app.workflows'::regclass and l.mode = 'RowExclusiveLock' and not l.granted`) as unknown as [{ n: number }];
      if (n >= WIDE_POOL) break;
      if (Date.now() > deadline) throw new Error(`only ${n} saves reached their insert`);
      await new Promise((r) => setImmediate(r));
    }
  });
  await assertOneRowOneCreate(t, wide, id, await racing);
});
