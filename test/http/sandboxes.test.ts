/**
 * Sandboxes over HTTP: the QA scenario of the sandboxes issue (steps 1–5, in
 * order, on one project), then access rules and input validation of
 * GET /api/projects/:id/merge-preview and POST /api/projects/:id/merge.
 */
import test from 'ava';
import { addMember, createTestProject, createTestRun, createTestSandbox, createTestUser, ok, type TestUser } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

/** Creates collection `name` in the project with items (key, value); returns its id. */
async function collectionWithItems(projectId: string, name: string, items: Array<[string, string]> = []): Promise<string> {
  const [c] = await s.sql<[{ id: string }]>`insert into app.collections (project_id, name) values (${projectId}, ${name}) returning id`;
  for (const [key, value] of items) {
    await s.sql`insert into app.items (collection_id, project_id, key, value) values (${c.id}, ${projectId}, ${key}, ${value})`;
  }
  return c.id;
}

async function itemsOf(projectId: string, name: string): Promise<Array<[string, string]>> {
  const rows = await s.sql<{ key: string; value: string }[]>`
    select i.key, i.value from app.items i join app.collections c on c.id = i.collection_id
    where c.project_id = ${projectId} and c.name = ${name} order by i.id`;
  return rows.map((r) => [r.key, r.value]);
}

async function collectionNames(projectId: string): Promise<string[]> {
  const rows = await s.sql<{ name: string }[]>`select name from app.collections where project_id = ${projectId} order by name`;
  return rows.map((r) => r.name);
}

const merge = (token: string, sandboxId: string, json: unknown = {}) =>
  s.request(`/api/projects/${sandboxId}/merge`, { method: 'POST', token, json });

const preview = (token: string, sandboxId: string, query = '') =>
  s.request(`/api/projects/${sandboxId}/merge-preview${query}`, { token });

// ---- the QA scenario ------------------------------------------------------------
// Driven through the public APIs as a QA engineer would: the management API
// creates and deletes collections, the collections data API writes items.

const qa = {} as {
  owner: TestUser;
  parentId: string;
  sandboxId: string;
  parentPatients: Array<[string, string]>;
  sandboxPatients: Array<[string, string]>;
};

async function createCollection(token: string, projectId: string, name: string): Promise<void> {
  const res = await s.request(`/api/projects/${projectId}/collections`, { method: 'POST', token, json: { name } });
  if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
}

/** Writes items with the v2 data API (by project id). */
async function putItems(token: string, projectId: string, name: string, items: Array<[string, string]>): Promise<void> {
  const res = await s.request(`/collections/${projectId}/${name}`, {
    method: 'POST',
    token,
    headers: { 'x-api-version': '2' },
    json: { items: items.map(([key, value]) => ({ key, value })) },
  });
  if (res.status !== 200) throw new Error(`writing ${name}: ${res.status} ${await res.text()}`);
}

test.serial('QA 1: provisioning a sandbox of a project with `patients` gives the sandbox an empty `patients`', async (t) => {
  qa.owner = await createTestUser(s);
  qa.parentId = (await createTestProject(s, qa.owner, 'Clinic')).id;
  qa.parentPatients = [
    ['p1', '{"name":"Ada"}'],
    ['p2', '{"name":"Grace"}'],
    ['p3', '{"name":"Edsger"}'],
  ];
  await createCollection(qa.owner.token, qa.parentId, 'patients');
  await putItems(qa.owner.token, qa.parentId, 'patients', qa.parentPatients);
  await createCollection(qa.owner.token, qa.parentId, 'visits');
  await putItems(qa.owner.token, qa.parentId, 'visits', [['v1', '2026-01-01'], ['v2', '2026-02-01']]);
  const res = await s.request(`/api/projects/${qa.parentId}/sandboxes`, { method: 'POST', token: qa.owner.token, json: { name: 'Clinic staging' } });
  t.is(res.status, 201);
  qa.sandboxId = ((await res.json()) as { id: string }).id;
  t.deepEqual(await collectionNames(qa.sandboxId), ['patients', 'visits']);
  t.deepEqual(await itemsOf(qa.sandboxId, 'patients'), []);
  t.deepEqual(await itemsOf(qa.sandboxId, 'visits'), []);
});

test.serial('QA 2: items added to the sandbox never reach the parent on merge', async (t) => {
  qa.sandboxPatients = [['t1', '{"name":"Test Patient"}'], ['p1', '{"name":"Overwritten?"}']];
  // Job code in the sandbox writes by name (v1) with its run token.
  const run = await createTestRun(s, qa.owner, qa.sandboxId);
  const write = await s.request('/collections/patients', {
    method: 'POST',
    token: run.token,
    json: { items: qa.sandboxPatients.map(([key, value]) => ({ key, value })) },
  });
  t.is(write.status, 200);
  const res = await merge(qa.owner.token, qa.sandboxId);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { sandbox_id: qa.sandboxId, target_id: qa.parentId, created: [], deleted: [] });
  t.deepEqual(await itemsOf(qa.parentId, 'patients'), qa.parentPatients);
  t.deepEqual(await itemsOf(qa.sandboxId, 'patients'), qa.sandboxPatients, 'the sandbox is kept, with its items');
});

test.serial('QA 3: a collection created in the sandbox appears empty in the parent after a merge', async (t) => {
  await createCollection(qa.owner.token, qa.sandboxId, 'staging-only');
  await putItems(qa.owner.token, qa.sandboxId, 'staging-only', [['s1', 'x']]);
  const res = await merge(qa.owner.token, qa.sandboxId);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { sandbox_id: qa.sandboxId, target_id: qa.parentId, created: ['staging-only'], deleted: [] });
  t.deepEqual(await collectionNames(qa.parentId), ['patients', 'staging-only', 'visits']);
  t.deepEqual(await itemsOf(qa.parentId, 'staging-only'), []);
});

test.serial('QA 4: a collection deleted in the sandbox is deleted with its items from the parent, as the preview warned', async (t) => {
  const removed = await s.request(`/api/projects/${qa.sandboxId}/collections/visits`, { method: 'DELETE', token: qa.owner.token });
  t.is(removed.status, 204);
  const visitsBytes = 'v1'.length + '2026-01-01'.length + 'v2'.length + '2026-02-01'.length;
  const [stats] = await s.sql<[{ byte_size: string }]>`
    select st.byte_size::text from app.collection_stats st join app.collections c on c.id = st.collection_id
    where c.project_id = ${qa.parentId} and c.name = 'visits'`;
  t.is(Number(stats.byte_size), visitsBytes);

  const before = await preview(qa.owner.token, qa.sandboxId);
  t.is(before.status, 200);
  t.deepEqual(await before.json(), {
    sandbox_id: qa.sandboxId,
    target_id: qa.parentId,
    to_create: [],
    to_delete: [{ name: 'visits', item_count: 2, byte_size: visitsBytes }],
    warning: `Merging will permanently delete 1 collection missing from the sandbox from the target, including 2 items (${visitsBytes} bytes): visits. This cannot be undone.`,
  });
  t.deepEqual(await itemsOf(qa.parentId, 'visits'), [['v1', '2026-01-01'], ['v2', '2026-02-01']], 'a preview changes nothing');

  const res = await merge(qa.owner.token, qa.sandboxId);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), {
    sandbox_id: qa.sandboxId,
    target_id: qa.parentId,
    created: [],
    deleted: [{ name: 'visits', item_count: 2, byte_size: visitsBytes }],
  });
  t.deepEqual(await collectionNames(qa.parentId), ['patients', 'staging-only']);
  const [orphans] = await s.sql`select count(*)::int as n from app.items i where not exists (select 1 from app.collections c where c.id = i.collection_id)`;
  t.is(orphans!.n, 0);
  t.deepEqual(await itemsOf(qa.parentId, 'patients'), qa.parentPatients);
});

test.serial('QA 5: v1 by name is ambiguous for a PAT reaching both, exact for a run token; v2 reads each by id', async (t) => {
  const ambiguous = await s.request('/collections/patients', { token: qa.owner.token });
  t.is(ambiguous.status, 409);
  t.like(await ambiguous.json(), { message: 'Multiple collections found with this name. Use API v2 with a project_id.' });

  for (const [projectId, expected] of [
    [qa.parentId, qa.parentPatients],
    [qa.sandboxId, qa.sandboxPatients],
  ] as const) {
    const run = await createTestRun(s, qa.owner, projectId);
    const v1 = await s.request('/collections/patients', { token: run.token });
    t.is(v1.status, 200, `v1 with a run token of ${projectId}`);
    const v1Body = (await v1.json()) as { items: Array<{ key: string; value: string }>; cursor: string | null };
    t.deepEqual(v1Body.items.map((i) => [i.key, i.value]), expected);
    t.is(v1Body.cursor, null);

    const v2 = await s.request(`/collections/${projectId}/patients`, { token: qa.owner.token, headers: { 'x-api-version': '2' } });
    t.is(v2.status, 200, `v2 for ${projectId}`);
    const v2Body = (await v2.json()) as { items: Array<{ key: string; value: string }> };
    t.deepEqual(v2Body.items.map((i) => [i.key, i.value]), expected);
  }
});

// ---- access ---------------------------------------------------------------------------

test('merging needs manage on the target and read on the sandbox; previewing needs read on both', async (t) => {
  const owner = await createTestUser(s);
  const [admin, editor, viewer, stranger, sandboxOnly] = await Promise.all([1, 2, 3, 4, 5].map(() => createTestUser(s)));
  const parent = await createTestProject(s, owner);
  await addMember(s, owner, parent.id, admin!, 'admin');
  await addMember(s, owner, parent.id, editor!, 'editor');
  await addMember(s, owner, parent.id, viewer!, 'viewer');
  const sandbox = await createTestSandbox(s, owner, parent.id);
  await addMember(s, owner, sandbox.id, sandboxOnly!, 'owner');
  const parentRun = await createTestRun(s, owner, parent.id);
  const sandboxRun = await createTestRun(s, owner, sandbox.id);

  const cases: Array<[string, string, number, number]> = [
    ['owner', owner.token, 200, 200],
    ['admin', admin!.token, 200, 200],
    ['editor', editor!.token, 200, 403],
    ['viewer', viewer!.token, 200, 403],
    ['non-member', stranger!.token, 404, 404],
    ['sandbox-only owner', sandboxOnly!.token, 404, 404],
    ['run token of the parent', parentRun.token, 404, 404],
    ['run token of the sandbox', sandboxRun.token, 404, 404],
  ];
  for (const [who, token, previewStatus, mergeStatus] of cases) {
    t.is((await preview(token, sandbox.id)).status, previewStatus, `preview as ${who}`);
    t.is((await merge(token, sandbox.id)).status, mergeStatus, `merge as ${who}`);
  }
  const anonymous = await s.request(`/api/projects/${sandbox.id}/merge`, { method: 'POST', json: {} });
  t.is(anonymous.status, 401);
  t.is((await s.request(`/api/projects/${sandbox.id}/merge-preview`)).status, 401);
  const events = await s.sql`select actor_id from app.audit_events where project_id = ${parent.id} order by id`;
  t.deepEqual(events.map((e) => e.actor_id), [owner.id, admin!.id], 'only the allowed merges ran, each recorded with its actor');
});

test('a merge refuses a root project and a target that is not an ancestor (422)', async (t) => {
  const owner = await createTestUser(s);
  const root = await createTestProject(s, owner);
  const other = await createTestProject(s, owner);
  await collectionWithItems(other.id, 'precious', [['k', 'v']]);
  const child = await createTestSandbox(s, owner, root.id);
  const grandchild = await createTestSandbox(s, owner, child.id);

  const rootMerge = await merge(owner.token, root.id);
  t.is(rootMerge.status, 422);
  t.like(await rootMerge.json(), { error: 'not_a_sandbox' });
  t.is((await preview(owner.token, root.id)).status, 422);

  for (const target of [other.id, grandchild.id, child.id]) {
    const res = await merge(owner.token, child.id, { target_id: target });
    t.is(res.status, 422);
    t.like(await res.json(), { error: 'target_not_ancestor' });
  }
  t.deepEqual(await collectionNames(other.id), ['precious']);

  // The grandchild may merge into its grandparent, named explicitly.
  await collectionWithItems(grandchild.id, 'deep');
  const previewed = await ok(preview(owner.token, grandchild.id, `?target=${root.id}`));
  t.like(previewed, { target_id: root.id, to_create: ['deep'], to_delete: [] });
  t.is(
    previewed.warning,
    'Merging will create 1 new collection in the target, empty (items in the sandbox are not copied): deep.',
  );
  const merged = await ok(merge(owner.token, grandchild.id, { target_id: root.id }));
  t.deepEqual(merged, { sandbox_id: grandchild.id, target_id: root.id, created: ['deep'], deleted: [] });
  t.deepEqual(await collectionNames(root.id), ['deep']);
  t.deepEqual(await collectionNames(child.id), [], 'the project in between is untouched');
});

test('a preview with nothing to do says so', async (t) => {
  const owner = await createTestUser(s);
  const parent = await createTestProject(s, owner);
  await collectionWithItems(parent.id, 'patients', [['k', 'v']]);
  const sandbox = await createTestSandbox(s, owner, parent.id);
  t.deepEqual(await ok(preview(owner.token, sandbox.id)), {
    sandbox_id: sandbox.id,
    target_id: parent.id,
    to_create: [],
    to_delete: [],
    warning: 'Merging changes nothing: the target already has exactly the collections of the sandbox. Items are never copied.',
  });
});

test('malformed input is a 4xx, never a 5xx', async (t) => {
  const owner = await createTestUser(s);
  const parent = await createTestProject(s, owner);
  const sandbox = await createTestSandbox(s, owner, parent.id);
  const cases: Array<[Promise<Response>, number]> = [
    [merge(owner.token, sandbox.id, { target_id: 'not-a-uuid' }), 422],
    [merge(owner.token, sandbox.id, { target_id: 42 }), 422],
    [merge(owner.token, sandbox.id, { target_id: parent.id, sandbox_id: parent.id }), 422],
    [merge(owner.token, sandbox.id, ['x']), 422],
    [merge(owner.token, sandbox.id, { target_id: 'a\u0000b' }), 422],
    [merge(owner.token, 'not-a-uuid'), 404],
    [merge(owner.token, '00000000-0000-0000-0000-000000000000'), 404],
    [preview(owner.token, sandbox.id, '?target=nope'), 400],
    [preview(owner.token, sandbox.id, `?target=${parent.id}&target=${parent.id}`), 400],
    [preview(owner.token, sandbox.id, '?extra=1'), 400],
    [preview(owner.token, 'x'), 404],
    [s.request(`/api/projects/${sandbox.id}/merge`, { method: 'POST', token: owner.token, body: '{"target_id":', headers: { 'content-type': 'application/json' } }), 400],
  ];
  for (const [res, status] of cases) t.is((await res).status, status);
  // The query string is read before the token, as on every route that takes one: no token, still 400.
  t.is((await s.request(`/api/projects/${sandbox.id}/merge-preview?extra=1`)).status, 400);
  const malformed = await s.request(`/api/projects/${sandbox.id}/merge-preview?target=%FF`);
  t.deepEqual([malformed.status, await malformed.json()], [400, { error: 'bad_request', message: 'The query string is not valid percent-encoded UTF-8.' }]);
  // No body at all, or an explicit null target, means the parent.
  t.is((await s.request(`/api/projects/${sandbox.id}/merge`, { method: 'POST', token: owner.token })).status, 200);
  t.deepEqual(await ok(merge(owner.token, sandbox.id, { target_id: null })), { sandbox_id: sandbox.id, target_id: parent.id, created: [], deleted: [] });
});
