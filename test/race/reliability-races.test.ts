/**
 * Races from separate OS processes (2 × 32 clients unless said otherwise) on
 * what must have exactly one winner or one consistent end, checked in the data
 * afterwards. Workflow-id and release-handle races live in
 * test/race/workflows-new-save.test.ts and test/race/fleet-releases.test.ts;
 * merge ∥ merge ∥ provision alone in test/race/sandboxes-merge.test.ts.
 */
import test from 'ava';
import { createTestProject, createTestRun, createTestSandbox, createTestUser, ok } from '../helpers/identity.ts';
import { race, type RaceResult } from '../helpers/race.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

function assertNoServerErrors(t: import('ava').ExecutionContext, results: RaceResult[]): void {
  const bad = results.filter((r) => r.status >= 500 || r.status === 0);
  t.deepEqual(bad, [], 'no 5xx, no dropped connection');
  t.false(/deadlock|40P01|40001/.test(JSON.stringify(results)), 'no deadlock or serialization failure reached a client');
}

const tally = (results: RaceResult[]) =>
  results.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});

/** Every collection's kept counters equal what its items add up to, and no item lacks its collection. */
async function assertCountersAndNoOrphans(t: import('ava').ExecutionContext, projectIds: string[]): Promise<void> {
  const wrong = await s.sql`
    select c.project_id, c.name, c.item_count, c.byte_size, count(i.id) as actual_count,
           coalesce(sum(octet_length(i.key) + octet_length(i.value)), 0) as actual_bytes
      from app.collections c left join app.items i on i.collection_id = c.id
     where c.project_id = any(${projectIds}::uuid[])
     group by c.id
    having c.item_count <> count(i.id) or c.byte_size <> coalesce(sum(octet_length(i.key) + octet_length(i.value)), 0)`;
  t.deepEqual([...wrong], [], 'item_count and byte_size match the items');
  const [orphans] = await s.sql`select count(*)::int as n from app.items i
    where not exists (select 1 from app.collections c where c.id = i.collection_id and c.project_id = i.project_id)`;
  t.is(orphans!.n, 0, 'no orphan items');
}

test('64 clients create the same collection name: exactly one 201, the rest 409', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  const results = await race({
    baseUrl: s.url,
    requestsFor: () => [{ method: 'POST', path: `/api/projects/${project.id}/collections`, token: owner.token, json: { name: 'contested' } }],
  });
  assertNoServerErrors(t, results);
  t.deepEqual(tally(results), { 201: 1, 409: 63 });
  const rows = await s.sql`select id from app.collections where project_id = ${project.id} and name = 'contested'`;
  t.is(rows.length, 1);
  t.is((results.find((r) => r.status === 201)!.body as { id: string }).id, rows[0]!.id);
});

test('64 clients PUT different values to the same item key: all 200, one row, its value one of those sent', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  await ok(s.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'lww' } }));
  const run = await createTestRun(s, owner, project.id);
  const valueOf = (proc: number, client: number, round: number) => JSON.stringify({ proc, client, round });
  const results = await race({
    baseUrl: s.url,
    requestsFor: (proc, client) =>
      [0, 1, 2].map((round) => ({ method: 'PUT', path: '/collections/lww/the-key', token: run.token, json: { value: valueOf(proc, client, round) } })),
  });
  assertNoServerErrors(t, results);
  t.deepEqual(tally(results), { 200: 192 });
  t.true(results.every((r) => JSON.stringify(r.body) === JSON.stringify({ upserted: 1, error: null })));
  const rows = await s.sql<{ value: string }[]>`
    select i.value from app.items i join app.collections c on c.id = i.collection_id where c.project_id = ${project.id} and i.key = 'the-key'`;
  t.is(rows.length, 1);
  const sent = new Set(results.map((r) => valueOf(r.process, r.client, r.index)));
  t.true(sent.has(rows[0]!.value), rows[0]!.value);
  // What readers see is what is stored: last write wins, not a blend.
  const read = await ok<{ value: string }>(s.request('/collections/lww/the-key', { token: run.token }));
  t.is(read.value, rows[0]!.value);
  await assertCountersAndNoOrphans(t, [project.id]);
});

test('merge ∥ merge ∥ provision ∥ item writes into a collection the merge deletes: consistent, no 5xx, no deadlock', async (t) => {
  t.timeout(180_000);
  const owner = await createTestUser(s);
  for (let round = 0; round < 2; round++) {
    const parent = await createTestProject(s, owner);
    for (const name of ['shared', 'doomed', 'doomed-big']) {
      await ok(s.request(`/api/projects/${parent.id}/collections`, { method: 'POST', token: owner.token, json: { name } }));
    }
    // Big enough that deleting it takes a while, so writes into its sibling overlap the merge.
    await s.sql`insert into app.items (collection_id, project_id, key, value)
                select c.id, c.project_id, 'seed-' || g, repeat('x', 50) from app.collections c, generate_series(1, 20000) g
                 where c.project_id = ${parent.id} and c.name in ('doomed-big', 'shared')`;
    const sandbox = await createTestSandbox(s, owner, parent.id);
    await s.sql`delete from app.collections where project_id = ${sandbox.id} and name like 'doomed%'`;
    await ok(s.request(`/api/projects/${sandbox.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'fresh' } }));
    const names = async (projectId: string) =>
      (await s.sql<{ name: string }[]>`select name from app.collections where project_id = ${projectId} order by name`).map((r) => r.name);
    const before = await names(parent.id);
    const v2 = { 'x-api-version': '2' };

    const results = await race({
      baseUrl: s.url,
      processes: 2,
      clientsPerProcess: 16,
      requestsFor: (proc, client) => {
        if (client < 2) return [{ method: 'POST', path: `/api/projects/${sandbox.id}/merge`, token: owner.token, json: {} }];
        if (client < 4) return [{ method: 'POST', path: `/api/projects/${parent.id}/sandboxes`, token: owner.token, json: { name: `p-${proc}-${client}` } }];
        // Writers into the doomed collections (and the kept one) of the parent, before, during and after the merge.
        return Array.from({ length: 6 }, (_, i) => {
          const collection = ['doomed', 'doomed-big', 'shared'][(client + i) % 3]!;
          return i % 2 === 0
            ? { method: 'PUT', path: `/collections/${parent.id}/${collection}/w-${proc}-${client}-${i}`, token: owner.token, headers: v2, json: { value: `v${i}` } }
            : {
                method: 'POST',
                path: `/collections/${parent.id}/${collection}`,
                token: owner.token,
                headers: v2,
                json: { items: [0, 1, 2].map((j) => ({ key: `b-${proc}-${client}-${i}-${j}`, value: 'b' })) },
              };
        });
      },
    });
    assertNoServerErrors(t, results);
    t.log(`round ${round}: ${JSON.stringify(tally(results))}`);
    const merges = results.filter((r) => r.client < 2);
    const provisions = results.filter((r) => r.client >= 2 && r.client < 4);
    const writes = results.filter((r) => r.client >= 4);
    t.true(merges.every((r) => r.status === 200));
    t.true(provisions.every((r) => r.status === 201));
    // A write lands before the merge deletes its collection (200) or finds it gone (404); nothing else.
    t.true(writes.every((r) => r.status === 200 || r.status === 404), JSON.stringify(tally(writes)));
    t.true(writes.filter((r) => (r.body as { upserted?: number })?.upserted !== undefined).every((r) => r.status === 200));
    const worked = merges.filter((r) => {
      const b = r.body as { created: string[]; deleted: unknown[] };
      return b.created.length + b.deleted.length > 0;
    });
    t.is(worked.length, 1, 'exactly one merge did the work');

    const after = await names(parent.id);
    t.deepEqual(after, await names(sandbox.id), 'parent names = sandbox names');
    for (const p of provisions) {
      const cloned = await names((p.body as { id: string }).id);
      t.true([JSON.stringify(before), JSON.stringify(after)].includes(JSON.stringify(cloned)), `provisioned ${cloned.join(',')}`);
    }
    // Every acknowledged write into the kept collection is there; none into a deleted one survived.
    const keptWrites = writes.filter((r) => r.status === 200 && ['shared'].includes(['doomed', 'doomed-big', 'shared'][(r.client + r.index) % 3]!));
    const [{ n: sharedNew }] = await s.sql<[{ n: number }]>`
      select count(*)::int as n from app.items i join app.collections c on c.id = i.collection_id
       where c.project_id = ${parent.id} and c.name = 'shared' and i.key not like 'seed-%'`;
    t.is(sharedNew, keptWrites.reduce((n, r) => n + (r.index % 2 === 0 ? 1 : 3), 0));
    const [{ n: doomedLeft }] = await s.sql<[{ n: number }]>`
      select count(*)::int as n from app.items where project_id = ${parent.id}
         and collection_id not in (select id from app.collections where project_id = ${parent.id})`;
    t.is(doomedLeft, 0);
    await assertCountersAndNoOrphans(t, [parent.id, sandbox.id, ...provisions.map((p) => (p.body as { id: string }).id)]);
  }
});
