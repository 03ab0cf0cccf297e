import test from 'ava';
import { createTestProject, createTestRun, createTestUser, ok } from '../helpers/identity.ts';
import { race, type RaceRequest } from '../helpers/race.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

test('item writes racing the deletion of their collection answer 200 or 404, never 5xx or 422, and leave no orphans', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  await ok(s.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'doomed' } }));
  const run = await createTestRun(s, owner, project.id);
  // Enough items that the deletion takes several batches while writes keep arriving.
  await s.sql`
    insert into app.items (collection_id, project_id, key, value)
    select c.id, c.project_id, 'seed-' || g, repeat('x', 100)
      from app.collections c, generate_series(1, 20000) g
     where c.project_id = ${project.id} and c.name = 'doomed'`;

  const write = (proc: number, client: number, i: number): RaceRequest => {
    const key = `k-${proc}-${client}-${i}`;
    switch (i % 3) {
      case 0:
        return { method: 'PUT', path: `/collections/doomed/${key}`, token: run.token, json: { value: 'v' } };
      case 1:
        return {
          method: 'POST',
          path: `/collections/${project.id}/doomed`,
          token: owner.token,
          headers: { 'x-api-version': '2' },
          json: { items: Array.from({ length: 50 }, (_, j) => ({ key: `${key}-${j}`, value: 'v' })) },
        };
      default:
        return { method: 'DELETE', path: `/collections/doomed/seed-${client * 10 + i}`, token: run.token };
    }
  };
  const results = await race({
    baseUrl: s.url,
    processes: 2,
    clientsPerProcess: 12,
    requestsFor: (proc, client) =>
      proc === 0 && client === 0
        ? [{ method: 'DELETE', path: `/api/projects/${project.id}/collections/doomed`, token: owner.token }]
        : Array.from({ length: 30 }, (_, i) => write(proc, client, i)),
  });

  const deletion = results.find((r) => r.process === 0 && r.client === 0)!;
  t.is(deletion.status, 204, JSON.stringify(deletion.body));
  const writes = results.filter((r) => !(r.process === 0 && r.client === 0));
  const bad = writes.filter((r) => r.status !== 200 && r.status !== 404);
  t.deepEqual(bad, []);
  for (const r of writes.filter((w) => w.status === 404)) t.is((r.body as { error: string }).error, 'not_found');
  // How the interleaving fell is timing; what it may never produce is asserted above.
  t.log(`writes: ${writes.filter((r) => r.status === 200).length} × 200, ${writes.filter((r) => r.status === 404).length} × 404`);

  const [left] = await s.sql`
    select (select count(*)::int from app.collections where project_id = ${project.id}) as collections,
           (select count(*)::int from app.items where project_id = ${project.id}) as items`;
  if (left!.items !== 0) {
    // Seen once in CI (stop 15, 101 items left, not reproduced since): say which writes they were.
    const rows = await s.sql`
      select key, id, xmin::text as xmin, created_at from app.items where project_id = ${project.id} order by id limit 20`;
    t.log('items left behind:', JSON.stringify(rows));
    t.log('the deletion ended at', JSON.stringify(deletion));
  }
  t.deepEqual({ ...left }, { collections: 0, items: 0 });
  // Later writes find nothing.
  t.is((await s.request('/collections/doomed/k', { method: 'PUT', token: run.token, json: { value: 'v' } })).status, 404);
});

test('concurrent batch upserts into one collection keep item_count and byte_size exact', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  await ok(s.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'busy' } }));
  const results = await race({
    baseUrl: s.url,
    processes: 2,
    clientsPerProcess: 8,
    // Overlapping keys across clients: inserts and updates of the same rows interleave.
    requestsFor: (proc, client) =>
      Array.from({ length: 4 }, (_, i) => ({
        method: 'POST',
        path: '/collections/busy',
        token: owner.token,
        json: { items: Array.from({ length: 100 }, (_, j) => ({ key: `k-${(client * 37 + i * 11 + j) % 300}`, value: 'v'.repeat(1 + ((proc + j) % 7)) })) },
      })),
  });
  t.deepEqual(results.filter((r) => r.status !== 200), []);
  const [row] = await s.sql`
    select c.item_count::int as kept_count, c.byte_size::int as kept_size,
           (select count(*)::int from app.items i where i.collection_id = c.id) as real_count,
           (select coalesce(sum(octet_length(i.key) + octet_length(i.value)), 0)::int from app.items i where i.collection_id = c.id) as real_size
      from app.collections c where c.project_id = ${project.id} and c.name = 'busy'`;
  t.is(row!.kept_count, row!.real_count);
  t.is(row!.kept_size, row!.real_size);
});
