import test from 'ava';
import { addMember, createTestProject, createTestRun, createTestUser, ok, type TestUser } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

interface Collection {
  id: string;
  project_id: string;
  name: string;
  item_count: number;
  byte_size: number;
  created_at: string;
  updated_at: string;
}

const create = (u: TestUser | { token: string }, projectId: string, name: unknown) =>
  s.request(`/api/projects/${projectId}/collections`, { method: 'POST', token: u.token, json: { name } });
const list = async (u: TestUser | { token: string }, projectId: string) =>
  (await ok<{ collections: Collection[] }>(s.request(`/api/projects/${projectId}/collections`, { token: u.token }))).collections;

test('create, list with item_count and byte_size, rename and delete a collection', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  const res = await create(owner, project.id, 'patients');
  t.is(res.status, 201);
  const created = (await res.json()) as Collection;
  t.like(created, { project_id: project.id, name: 'patients', item_count: 0, byte_size: 0 });

  const dup = await create(owner, project.id, 'patients');
  t.is(dup.status, 409);
  t.is(((await dup.json()) as { error: string }).error, 'conflict');

  await ok(create(owner, project.id, 'visits'));
  await ok(s.request('/collections/patients', { method: 'POST', token: owner.token, json: { items: [{ key: 'ab', value: 'xyz' }, { key: 'é', value: '😀' }] } }));
  let rows = await list(owner, project.id);
  t.deepEqual(rows.map((c) => [c.name, c.item_count, c.byte_size]), [['patients', 2, 2 + 3 + 2 + 4], ['visits', 0, 0]]);

  // Updating a value changes the size, not the count; deleting changes both.
  await ok(s.request('/collections/patients/ab', { method: 'PUT', token: owner.token, json: { value: 'x' } }));
  await ok(s.request('/collections/patients/é', { method: 'DELETE', token: owner.token }));
  rows = await list(owner, project.id);
  t.deepEqual(rows.map((c) => [c.name, c.item_count, c.byte_size]), [['patients', 1, 3], ['visits', 0, 0]]);
  const [view] = await s.sql`select item_count, byte_size from app.collection_stats where collection_id = ${created.id}`;
  t.deepEqual({ ...view }, { item_count: '1', byte_size: '3' });

  const clash = await s.request(`/api/projects/${project.id}/collections/patients`, { method: 'PATCH', token: owner.token, json: { name: 'visits' } });
  t.is(clash.status, 409);
  const renamed = await ok<Collection>(s.request(`/api/projects/${project.id}/collections/patients`, { method: 'PATCH', token: owner.token, json: { name: 'people' } }));
  t.like(renamed, { id: created.id, name: 'people', item_count: 1 });
  t.is((await s.request('/collections/patients/ab', { token: owner.token })).status, 404);
  t.is(((await ok<{ value: string }>(s.request('/collections/people/ab', { token: owner.token })))).value, 'x');
  const missing = await s.request(`/api/projects/${project.id}/collections/patients`, { method: 'PATCH', token: owner.token, json: { name: 'x' } });
  t.is(missing.status, 404);

  const del = await s.request(`/api/projects/${project.id}/collections/people`, { method: 'DELETE', token: owner.token });
  t.is(del.status, 204);
  t.deepEqual((await list(owner, project.id)).map((c) => c.name), ['visits']);
  const [left] = await s.sql`select count(*)::int as n from app.items where collection_id = ${created.id}`;
  t.is(left!.n, 0);
  t.is((await s.request(`/api/projects/${project.id}/collections/people`, { method: 'DELETE', token: owner.token })).status, 404);
});

test('names: a URL-safe slug of 1–255 characters; anything else, or unknown fields, is 422', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  for (const name of ['', 'Has Caps', 'with space', 'slash/name', '-leading', 'trailing-', 'a'.repeat(256), 'nul\u0000', 42, null]) {
    const res = await create(owner, project.id, name);
    t.is(res.status, 422, JSON.stringify(name));
  }
  const extra = await s.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'ok', project_id: project.id } });
  t.is(extra.status, 422);
  for (const name of ['a', 'a.b-c_d', 'x'.repeat(255), '2024-data']) t.is((await create(owner, project.id, name)).status, 201, name);
  const rename = await s.request(`/api/projects/${project.id}/collections/a`, { method: 'PATCH', token: owner.token, json: { name: 'Bad Name' } });
  t.is(rename.status, 422);
});

test('the same name in two projects is fine', async (t) => {
  const owner = await createTestUser(s);
  const a = await createTestProject(s, owner);
  const b = await createTestProject(s, owner);
  t.is((await create(owner, a.id, 'shared')).status, 201);
  t.is((await create(owner, b.id, 'shared')).status, 201);
});

test('creating, renaming and deleting need manage; listing needs read; unreachable projects are 404', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  await ok(create(owner, project.id, 'existing'));
  const editor = await createTestUser(s);
  const viewer = await createTestUser(s);
  const admin = await createTestUser(s);
  const stranger = await createTestUser(s);
  await addMember(s, owner, project.id, editor, 'editor');
  await addMember(s, owner, project.id, viewer, 'viewer');
  await addMember(s, owner, project.id, admin, 'admin');
  const run = await createTestRun(s, owner, project.id);

  for (const [who, createStatus, listStatus] of [
    [viewer, 403, 200],
    [editor, 403, 200],
    [run, 403, 200],
    [stranger, 404, 404],
  ] as const) {
    t.is((await create(who, project.id, 'nope')).status, createStatus);
    t.is((await s.request(`/api/projects/${project.id}/collections`, { token: who.token })).status, listStatus);
    t.is((await s.request(`/api/projects/${project.id}/collections/existing`, { method: 'PATCH', token: who.token, json: { name: 'other' } })).status, createStatus);
    t.is((await s.request(`/api/projects/${project.id}/collections/existing`, { method: 'DELETE', token: who.token })).status, createStatus);
    t.is((await s.request(`/api/projects/${project.id}/collections/existing/download`, { token: who.token })).status, listStatus);
  }
  t.is((await create(admin, project.id, 'by-admin')).status, 201);
  t.deepEqual((await list(owner, project.id)).map((c) => c.name), ['by-admin', 'existing']);
  t.is((await s.request('/api/projects/not-a-uuid/collections', { token: owner.token })).status, 404);
  t.is((await s.request(`/api/projects/${project.id}/collections`)).status, 401);
});

test('download: a JSON array attachment of every item in id order, [] when empty, 404 for no such collection', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  await ok(create(owner, project.id, 'patients'));
  let res = await s.request(`/api/projects/${project.id}/collections/patients/download`, { token: owner.token });
  t.is(res.status, 200);
  t.is(res.headers.get('content-disposition'), 'attachment; filename="patients.json"');
  t.regex(res.headers.get('content-type') ?? '', /^application\/json/);
  t.is(await res.text(), '[]');

  const items = Array.from({ length: 250 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i, s: 'quote " and \\ and \n' }) }));
  await ok(s.request('/collections/patients', { method: 'POST', token: owner.token, json: { items } }));
  // An item whose key is "download" is still an item on the data API.
  await ok(s.request('/collections/patients/download', { method: 'PUT', token: owner.token, json: { value: 'd' } }));
  t.is((await ok<{ value: string }>(s.request('/collections/patients/download', { token: owner.token }))).value, 'd');

  res = await s.request(`/api/projects/${project.id}/collections/patients/download`, { token: owner.token });
  t.is(res.status, 200);
  const body = (await res.json()) as Array<{ key: string; value: string; created: string; updated: string }>;
  t.is(body.length, 251);
  t.deepEqual(body.slice(0, 250).map((i) => [i.key, i.value]), items.map((i) => [i.key, i.value]));
  t.is(body[250]!.key, 'download');
  t.is((await s.request(`/api/projects/${project.id}/collections/nothing/download`, { token: owner.token })).status, 404);
});

test('download takes no filters: ?key= or any other query parameter is 400, never every item', async (t) => {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  await ok(create(owner, project.id, 'patients'));
  await ok(s.request('/collections/patients', { method: 'POST', token: owner.token, json: { items: [{ key: 'k1', value: 'a' }, { key: 'j1', value: 'b' }] } }));
  for (const [query, key] of [['key=k*', 'key'], ['limit=1', 'limit'], ['created_after=2020-01-01T00:00:00Z', 'created_after']]) {
    const res = await s.request(`/api/projects/${project.id}/collections/patients/download?${query}`, { token: owner.token });
    t.is(res.status, 400, query);
    t.deepEqual(await res.json(), { error: 'bad_request', message: `Unrecognized key: "${key}"` }, query);
  }
  // Refused before the project is looked up, so the answer says nothing about which projects exist.
  const stranger = await createTestUser(s);
  const res = await s.request(`/api/projects/${project.id}/collections/patients/download?key=k*`, { token: stranger.token });
  t.is(res.status, 400);
  t.deepEqual(await res.json(), { error: 'bad_request', message: 'Unrecognized key: "key"' });
  // And the collections list alike.
  const listed = await s.request(`/api/projects/${project.id}/collections?name=patients`, { token: owner.token });
  t.is(listed.status, 400);
  t.deepEqual(await listed.json(), { error: 'bad_request', message: 'Unrecognized key: "name"' });
});
