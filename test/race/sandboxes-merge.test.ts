/**
 * Merges and provisions racing from separate OS processes: they serialize on
 * the projects' advisory locks, so no client sees a deadlock or a 5xx, exactly
 * one merge does the work while the others find it done, and the data ends
 * consistent (parent names = sandbox names, no orphan items, parent items intact).
 */
import test from 'ava';
import { createTestProject, createTestSandbox, createTestUser, type TestUser } from '../helpers/identity.ts';
import { race, type RaceRequest, type RaceResult } from '../helpers/race.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

async function collection(projectId: string, name: string, items: number): Promise<void> {
  const [c] = await s.sql<[{ id: string }]>`insert into app.collections (project_id, name) values (${projectId}, ${name}) returning id`;
  await s.sql`insert into app.items (collection_id, project_id, key, value)
              select ${c.id}, ${projectId}, 'k' || i, repeat('v', 100) from generate_series(1, ${items}::int) i`;
}

async function names(projectId: string): Promise<string[]> {
  const rows = await s.sql<{ name: string }[]>`select name from app.collections where project_id = ${projectId} order by name`;
  return rows.map((r) => r.name);
}

/** A parent with `shared-*` (kept) and `doomed-*` collections, and a sandbox that dropped the doomed ones and added `new-*`. */
async function divergedPair(owner: TestUser) {
  const parent = await createTestProject(s, owner);
  for (let i = 0; i < 5; i++) await collection(parent.id, `shared-${i}`, 50);
  for (let i = 0; i < 5; i++) await collection(parent.id, `doomed-${i}`, 200);
  const sandbox = await createTestSandbox(s, owner, parent.id);
  await s.sql`delete from app.collections where project_id = ${sandbox.id} and name like 'doomed-%'`;
  for (let i = 0; i < 5; i++) await collection(sandbox.id, `new-${i}`, 10);
  return { parent, sandbox, before: await names(parent.id) };
}

function assertNoServerErrors(t: import('ava').ExecutionContext, results: RaceResult[]): void {
  const bad = results.filter((r) => r.status >= 500 || r.status === 0);
  t.deepEqual(bad, [], 'no 5xx, no dropped connection');
  t.false(JSON.stringify(results).includes('deadlock'), 'no deadlock reached a client');
}

async function assertConsistent(t: import('ava').ExecutionContext, parentId: string, sandboxId: string): Promise<void> {
  t.deepEqual(await names(parentId), await names(sandboxId), 'parent names = sandbox names');
  const [orphans] = await s.sql`select count(*)::int as n from app.items i
    where not exists (select 1 from app.collections c where c.id = i.collection_id and c.project_id = i.project_id)`;
  t.is(orphans!.n, 0, 'no orphan items');
  const counts = await s.sql<{ name: string; n: number }[]>`
    select c.name, count(i.id)::int as n from app.collections c left join app.items i on i.collection_id = c.id
    where c.project_id = ${parentId} group by c.name order by c.name`;
  t.deepEqual(
    Object.fromEntries(counts.map((c) => [c.name, c.n])),
    { 'new-0': 0, 'new-1': 0, 'new-2': 0, 'new-3': 0, 'new-4': 0, 'shared-0': 50, 'shared-1': 50, 'shared-2': 50, 'shared-3': 50, 'shared-4': 50 },
    'shared collections keep their items; new ones arrive empty',
  );
}

test.serial('two merges and a provision at once: serialized, the second merge finds nothing to do', async (t) => {
  const owner = await createTestUser(s);
  const { parent, sandbox, before } = await divergedPair(owner);
  const requests: RaceRequest[] = [
    { method: 'POST', path: `/api/projects/${sandbox.id}/merge`, token: owner.token, json: {} },
    { method: 'POST', path: `/api/projects/${sandbox.id}/merge`, token: owner.token, json: { target_id: parent.id } },
    { method: 'POST', path: `/api/projects/${parent.id}/sandboxes`, token: owner.token, json: { name: 'raced' } },
  ];
  const results = await race({ baseUrl: s.url, processes: 3, clientsPerProcess: 1, requestsFor: (proc) => [requests[proc]!] });
  assertNoServerErrors(t, results);
  const byProc = results.sort((a, b) => a.process - b.process);
  t.deepEqual(byProc.map((r) => r.status), [200, 200, 201]);

  const merges = byProc.slice(0, 2).map((r) => r.body as { created: string[]; deleted: Array<{ name: string; item_count: number }> });
  const worked = merges.filter((m) => m.created.length + m.deleted.length > 0);
  t.is(worked.length, 1, 'exactly one merge did the work');
  t.deepEqual(worked[0]!.created, ['new-0', 'new-1', 'new-2', 'new-3', 'new-4']);
  t.deepEqual(worked[0]!.deleted.map((d) => [d.name, d.item_count]), [0, 1, 2, 3, 4].map((i) => [`doomed-${i}`, 200]));
  const idle = merges.find((m) => m !== worked[0])!;
  t.deepEqual([idle.created, idle.deleted], [[], []], 'the second merge saw the first one\'s result');

  await assertConsistent(t, parent.id, sandbox.id);
  // The provision ran wholly before or wholly after the merge that did the work.
  const provisioned = (byProc[2]!.body as { id: string }).id;
  const cloned = await names(provisioned);
  t.true([JSON.stringify(before), JSON.stringify(await names(parent.id))].includes(JSON.stringify(cloned)), cloned.join(','));
  const [events] = await s.sql`select count(*)::int as n from app.audit_events where project_id = ${parent.id} and action = 'sandbox.merge'`;
  t.is(events!.n, 2);
});

test.serial('many merges and provisions of the parent and of the sandbox from two processes: no deadlock, one end state', async (t) => {
  const owner = await createTestUser(s);
  const { parent, sandbox, before } = await divergedPair(owner);
  const results = await race({
    baseUrl: s.url,
    processes: 2,
    clientsPerProcess: 6,
    requestsFor: (proc, client) => {
      switch (client % 3) {
        case 0:
          return [{ method: 'POST', path: `/api/projects/${sandbox.id}/merge`, token: owner.token, json: {} }];
        case 1:
          return [{ method: 'POST', path: `/api/projects/${parent.id}/sandboxes`, token: owner.token, json: { name: `p-${proc}-${client}` } }];
        default:
          // A sandbox of the sandbox: takes the sandbox's lock, the one the merges take too.
          return [{ method: 'POST', path: `/api/projects/${sandbox.id}/sandboxes`, token: owner.token, json: { name: `s-${proc}-${client}` } }];
      }
    },
  });
  assertNoServerErrors(t, results);
  const merges = results.filter((r) => r.client % 3 === 0);
  t.true(merges.every((r) => r.status === 200));
  t.true(results.filter((r) => r.client % 3 !== 0).every((r) => r.status === 201));
  const worked = merges.filter((r) => {
    const b = r.body as { created: string[]; deleted: unknown[] };
    return b.created.length + b.deleted.length > 0;
  });
  t.is(worked.length, 1, 'exactly one merge did the work');

  await assertConsistent(t, parent.id, sandbox.id);
  const after = await names(parent.id);
  for (const r of results.filter((x) => x.client % 3 === 1)) {
    const cloned = await names((r.body as { id: string }).id);
    t.true([JSON.stringify(before), JSON.stringify(after)].includes(JSON.stringify(cloned)), cloned.join(','));
  }
  const sandboxNames = await names(sandbox.id);
  for (const r of results.filter((x) => x.client % 3 === 2)) {
    t.deepEqual(await names((r.body as { id: string }).id), sandboxNames);
  }
});

test.serial('two sandboxes merging into one parent at once: the parent ends with the names of the one that merged last', async (t) => {
  const owner = await createTestUser(s);
  for (let round = 0; round < 3; round++) {
    const parent = await createTestProject(s, owner);
    await collection(parent.id, 'shared', 10);
    // Big enough that deleting it takes a while, so the two merges overlap.
    await collection(parent.id, 'doomed', 20_000);
    const first = await createTestSandbox(s, owner, parent.id);
    const second = await createTestSandbox(s, owner, parent.id);
    await s.sql`delete from app.collections where project_id in (${first.id}, ${second.id}) and name = 'doomed'`;
    await collection(first.id, 'only-first', 1);
    await collection(second.id, 'only-second', 1);

    const results = await race({
      baseUrl: s.url,
      processes: 2,
      clientsPerProcess: 1,
      requestsFor: (proc) => [{ method: 'POST', path: `/api/projects/${proc === 0 ? first.id : second.id}/merge`, token: owner.token, json: {} }],
    });
    assertNoServerErrors(t, results);
    t.deepEqual(results.map((r) => r.status), [200, 200]);
    // Serialized merges: the audit event written last names the sandbox whose names the parent must now have.
    const [last] = await s.sql<[{ sandbox_id: string }]>`
      select details->>'sandbox_id' as sandbox_id from app.audit_events where project_id = ${parent.id} order by id desc limit 1`;
    t.deepEqual(await names(parent.id), await names(last.sandbox_id), `round ${round}`);
    const [orphans] = await s.sql`select count(*)::int as n from app.items i
      where not exists (select 1 from app.collections c where c.id = i.collection_id)`;
    t.is(orphans!.n, 0);
  }
});
