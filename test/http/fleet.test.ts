import test from 'ava';
import { addMember, createTestProject, createTestRun, createTestUser, ok, type TestUser } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

interface Release {
  id: string;
  server_id: string;
  name: string | null;
  release_command: string | null;
  effective_handle: string | null;
}

async function setup(): Promise<{ owner: TestUser; projectId: string; serverId: string }> {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  const server = await ok<{ id: string }>(
    s.request(`/api/projects/${project.id}/servers`, { method: 'POST', token: owner.token, json: { name: 'web-1' } }),
  );
  return { owner, projectId: project.id, serverId: server.id };
}

function createRelease(serverId: string, token: string, json: unknown) {
  return s.request(`/api/servers/${serverId}/releases`, { method: 'POST', token, json });
}

async function body(res: Response | Promise<Response>): Promise<{ status: number; body: any }> {
  const r = await res;
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

// ---- servers ----

test('an admin creates servers; names are unique per project; viewers list them', async (t) => {
  const owner = await createTestUser(s);
  const viewer = await createTestUser(s);
  const project = await createTestProject(s, owner);
  await addMember(s, owner, project.id, viewer, 'viewer');
  const created = await body(s.request(`/api/projects/${project.id}/servers`, { method: 'POST', token: owner.token, json: { name: 'web-1' } }));
  t.is(created.status, 201);
  t.like(created.body, { project_id: project.id, name: 'web-1' });
  t.deepEqual(Object.keys(created.body).sort(), ['created_at', 'id', 'name', 'project_id']);

  const again = await body(s.request(`/api/projects/${project.id}/servers`, { method: 'POST', token: owner.token, json: { name: 'web-1' } }));
  t.is(again.status, 409);
  t.is(again.body.error, 'conflict');

  await ok(s.request(`/api/projects/${project.id}/servers`, { method: 'POST', token: owner.token, json: { name: 'db-1' } }));
  const list = await ok<{ servers: Array<{ name: string }> }>(s.request(`/api/projects/${project.id}/servers`, { token: viewer.token }));
  t.deepEqual(list.servers.map((x) => x.name), ['db-1', 'web-1']);
});

test('creating a server needs manage; a project the token cannot reach is 404', async (t) => {
  const owner = await createTestUser(s);
  const editor = await createTestUser(s);
  const stranger = await createTestUser(s);
  const project = await createTestProject(s, owner);
  await addMember(s, owner, project.id, editor, 'editor');
  const path = `/api/projects/${project.id}/servers`;
  t.is((await s.request(path, { method: 'POST', token: editor.token, json: { name: 'x' } })).status, 403);
  t.is((await s.request(path, { method: 'POST', token: stranger.token, json: { name: 'x' } })).status, 404);
  t.is((await s.request(path, { token: stranger.token })).status, 404);
  t.is((await s.request(path, { method: 'POST', json: { name: 'x' } })).status, 401);
  const rows = await s.sql`select count(*)::int as n from app.servers where project_id = ${project.id}`;
  t.is(rows[0]!.n, 0);
});

test('a server body is allow-listed', async (t) => {
  const { owner, projectId } = await setup();
  const other = await createTestProject(s, owner);
  for (const json of [{ name: 'x', project_id: other.id }, { name: 'x', id: '00000000-0000-0000-0000-000000000000' }, { name: '' }, { name: 'a\u0000b' }, {}]) {
    const res = await body(s.request(`/api/projects/${projectId}/servers`, { method: 'POST', token: owner.token, json }));
    t.is(res.status, 422, JSON.stringify(json));
  }
  const rows = await s.sql`select count(*)::int as n from app.servers where project_id = ${other.id}`;
  t.is(rows[0]!.n, 0);
});

// ---- releases: create and the friendly pre-check ----

test('a release is created with its effective handle: the name, else the command basename', async (t) => {
  const { owner, serverId } = await setup();
  const named = await body(createRelease(serverId, owner.token, { name: 'api', release_command: '/opt/x/bin/server' }));
  t.is(named.status, 201);
  t.like(named.body, { server_id: serverId, name: 'api', release_command: '/opt/x/bin/server', effective_handle: 'api' });
  t.deepEqual(Object.keys(named.body).sort(), ['created_at', 'effective_handle', 'id', 'name', 'release_command', 'server_id', 'updated_at']);
  const derived = await body(createRelease(serverId, owner.token, { release_command: '/opt/worker/bin/worker' }));
  t.is(derived.status, 201);
  t.like(derived.body, { name: null, effective_handle: 'worker' });
});

test('a name clashing with a handle gets a 409 naming the release that holds it', async (t) => {
  const { owner, serverId } = await setup();
  const holder = await ok<Release>(createRelease(serverId, owner.token, { release_command: '/opt/foo/bin/foo' }));
  const res = await body(createRelease(serverId, owner.token, { name: 'foo' }));
  t.is(res.status, 409);
  t.deepEqual(res.body, {
    error: 'conflict',
    message: `The handle "foo" is already held by release ${holder.id} on this server (the basename of its release command "/opt/foo/bin/foo"); choose another name.`,
    effective_handle: 'foo',
    conflicting_release_id: holder.id,
  });
});

test('a derived basename clashing with a name gets a 409 asking for an explicit name', async (t) => {
  const { owner, serverId } = await setup();
  const holder = await ok<Release>(createRelease(serverId, owner.token, { name: 'foo' }));
  const res = await body(createRelease(serverId, owner.token, { release_command: '/opt/foo/bin/foo' }));
  t.is(res.status, 409);
  t.deepEqual(res.body, {
    error: 'conflict',
    message: `The release command's basename "foo" is already the handle of release ${holder.id} on this server (its name); set an explicit name for this release.`,
    effective_handle: 'foo',
    conflicting_release_id: holder.id,
  });
  // The advice works.
  const named = await body(createRelease(serverId, owner.token, { name: 'foo-2', release_command: '/opt/foo/bin/foo' }));
  t.is(named.status, 201);
  const rows = await s.sql`select effective_handle from app.releases where server_id = ${serverId} order by effective_handle`;
  t.deepEqual(rows.map((r) => r.effective_handle), ['foo', 'foo-2']);
});

test('a trailing slash, a slash in a name, NUL bytes and unknown fields are 422', async (t) => {
  const { owner, serverId } = await setup();
  for (const json of [
    { release_command: '/a/b/foo/' },
    { release_command: '/' },
    { name: 'a/b' },
    { name: 'a\u0000b' },
    { release_command: '/bin/a\u0000' },
    { name: 'x', effective_handle: 'y' },
    { name: 'x', id: '00000000-0000-0000-0000-000000000000' },
    { name: 'x', project_id: '00000000-0000-0000-0000-000000000000' },
    { name: 42 },
    { name: 'x'.repeat(256) },
    { release_command: `/${'x'.repeat(5000)}` },
  ]) {
    const res = await body(createRelease(serverId, owner.token, json));
    t.is(res.status, 422, JSON.stringify(json).slice(0, 80));
    t.is(res.body.error, 'invalid');
  }
  const rows = await s.sql`select count(*)::int as n from app.releases where server_id = ${serverId}`;
  t.is(rows[0]!.n, 0);
});

test('logs-only releases have no handle and coexist', async (t) => {
  const { owner, serverId } = await setup();
  const a = await body(createRelease(serverId, owner.token, {}));
  const b = await body(createRelease(serverId, owner.token, { name: null, release_command: null }));
  const c = await body(createRelease(serverId, owner.token, { name: '', release_command: '' }));
  t.deepEqual([a.status, b.status, c.status], [201, 201, 201]);
  t.deepEqual([a.body.effective_handle, b.body.effective_handle, c.body.effective_handle], [null, null, null]);
});

// ---- reads ----

test('the list is sorted by handle with logs-only releases last', async (t) => {
  const { owner, serverId } = await setup();
  await ok(createRelease(serverId, owner.token, {}));
  await ok(createRelease(serverId, owner.token, { release_command: '/srv/bin/zeta' }));
  await ok(createRelease(serverId, owner.token, { name: 'alpha' }));
  await ok(createRelease(serverId, owner.token, { name: 'mu', release_command: '/srv/bin/other' }));
  const list = await ok<{ releases: Release[] }>(s.request(`/api/servers/${serverId}/releases`, { token: owner.token }));
  t.deepEqual(list.releases.map((r) => r.effective_handle), ['alpha', 'mu', 'zeta', null]);
});

test('a release is fetched by its handle, including derived and non-ASCII handles', async (t) => {
  const { owner, serverId } = await setup();
  const worker = await ok<Release>(createRelease(serverId, owner.token, { release_command: '/opt/w/bin/worker' }));
  const accented = await ok<Release>(createRelease(serverId, owner.token, { name: 'café prod' }));
  t.deepEqual(await ok(s.request(`/api/servers/${serverId}/releases/worker`, { token: owner.token })), worker);
  t.deepEqual(await ok(s.request(`/api/servers/${serverId}/releases/${encodeURIComponent('café prod')}`, { token: owner.token })), accented);
  for (const handle of ['nope', 'opt%2Fw%2Fbin%2Fworker', 'a%00b']) {
    const res = await body(s.request(`/api/servers/${serverId}/releases/${handle}`, { token: owner.token }));
    t.is(res.status, 404, handle);
    t.is(res.body.error, 'not_found');
  }
  // Not percent-encoded UTF-8 (a truncated sequence): no path of any route, refused before routing.
  const malformed = await body(s.request(`/api/servers/${serverId}/releases/%E0%A4%A`, { token: owner.token }));
  t.deepEqual([malformed.status, malformed.body], [400, { error: 'bad_request', message: 'The request path is not valid percent-encoded UTF-8.' }]);
});

// ---- patch and delete ----

test('a patch renames a release, recomputes its handle and never collides with itself', async (t) => {
  const { owner, serverId } = await setup();
  const r = await ok<Release>(createRelease(serverId, owner.token, { release_command: '/opt/a/bin/api' }));
  const path = `/api/servers/${serverId}/releases/${r.id}`;
  // Naming it after its own derived handle is no clash.
  const same = await body(s.request(path, { method: 'PATCH', token: owner.token, json: { name: 'api' } }));
  t.is(same.status, 200);
  t.like(same.body, { name: 'api', release_command: '/opt/a/bin/api', effective_handle: 'api' });
  const renamed = await body(s.request(path, { method: 'PATCH', token: owner.token, json: { name: null, release_command: '/opt/b/bin/api-v2' } }));
  t.is(renamed.status, 200);
  t.like(renamed.body, { name: null, release_command: '/opt/b/bin/api-v2', effective_handle: 'api-v2' });
  const bad = await body(s.request(path, { method: 'PATCH', token: owner.token, json: { release_command: '/opt/b/' } }));
  t.is(bad.status, 422);
});

test('a patch that would take another release’s handle is 409 and changes nothing', async (t) => {
  const { owner, serverId } = await setup();
  const holder = await ok<Release>(createRelease(serverId, owner.token, { name: 'web' }));
  const r = await ok<Release>(createRelease(serverId, owner.token, { name: 'worker', release_command: '/opt/x/bin/web' }));
  const path = `/api/servers/${serverId}/releases/${r.id}`;
  const byName = await body(s.request(path, { method: 'PATCH', token: owner.token, json: { name: 'web' } }));
  t.is(byName.status, 409);
  t.regex(byName.body.message, /^The handle "web" is already held by release .* choose another name\.$/);
  t.is(byName.body.conflicting_release_id, holder.id);
  // Dropping the name exposes the derived basename "web".
  const derived = await body(s.request(path, { method: 'PATCH', token: owner.token, json: { name: null } }));
  t.is(derived.status, 409);
  t.regex(derived.body.message, /set an explicit name for this release\.$/);
  const [row] = await s.sql`select name, effective_handle from app.releases where id = ${r.id}`;
  t.deepEqual({ ...row }, { name: 'worker', effective_handle: 'worker' });
});

test('a patch body is allow-listed and must change something', async (t) => {
  const { owner, serverId } = await setup();
  const r = await ok<Release>(createRelease(serverId, owner.token, { name: 'x' }));
  for (const json of [{}, { effective_handle: 'y' }, { id: '00000000-0000-0000-0000-000000000000' }, { name: 'y', server_id: serverId }]) {
    const res = await body(s.request(`/api/servers/${serverId}/releases/${r.id}`, { method: 'PATCH', token: owner.token, json }));
    t.is(res.status, 422, JSON.stringify(json));
  }
});

test('delete removes the release; a second delete is 404', async (t) => {
  const { owner, serverId } = await setup();
  const r = await ok<Release>(createRelease(serverId, owner.token, { name: 'gone' }));
  const path = `/api/servers/${serverId}/releases/${r.id}`;
  t.is((await s.request(path, { method: 'DELETE', token: owner.token })).status, 204);
  t.is((await s.request(path, { method: 'DELETE', token: owner.token })).status, 404);
  t.is((await s.request(`/api/servers/${serverId}/releases/gone`, { token: owner.token })).status, 404);
  t.is((await s.request(path, { method: 'PATCH', token: owner.token, json: { name: 'back' } })).status, 404);
});

// ---- authorization ----

test('release roles: viewers read, editors and run tokens write', async (t) => {
  const { owner, projectId, serverId } = await setup();
  const viewer = await createTestUser(s);
  const editor = await createTestUser(s);
  await addMember(s, owner, projectId, viewer, 'viewer');
  await addMember(s, owner, projectId, editor, 'editor');
  const run = await createTestRun(s, owner, projectId);
  const r = await ok<Release>(createRelease(serverId, owner.token, { name: 'base' }));

  t.is((await s.request(`/api/servers/${serverId}/releases`, { token: viewer.token })).status, 200);
  t.is((await s.request(`/api/servers/${serverId}/releases/base`, { token: viewer.token })).status, 200);
  const denied = await body(createRelease(serverId, viewer.token, { name: 'v' }));
  t.is(denied.status, 403);
  t.is(denied.body.error, 'forbidden');
  t.is((await s.request(`/api/servers/${serverId}/releases/${r.id}`, { method: 'PATCH', token: viewer.token, json: { name: 'v' } })).status, 403);
  t.is((await s.request(`/api/servers/${serverId}/releases/${r.id}`, { method: 'DELETE', token: viewer.token })).status, 403);

  t.is((await createRelease(serverId, editor.token, { name: 'e' })).status, 201);
  t.is((await createRelease(serverId, run.token, { name: 'r' })).status, 201);
  t.is((await s.request(`/api/servers/${serverId}/releases/${r.id}`, { method: 'PATCH', token: editor.token, json: { name: 'base2' } })).status, 200);
});

test('a server in a project the token cannot reach is indistinguishable from a missing one', async (t) => {
  const { owner, serverId } = await setup();
  const stranger = await createTestUser(s);
  const strangerProject = await createTestProject(s, stranger);
  const strangerRun = await createTestRun(s, stranger, strangerProject.id);
  const r = await ok<Release>(createRelease(serverId, owner.token, { name: 'secret' }));
  const missing = '00000000-0000-4000-8000-000000000000';
  const requests = (id: string): Array<[string, string, unknown?]> => [
    ['GET', `/api/servers/${id}/releases`],
    ['GET', `/api/servers/${id}/releases/secret`],
    ['POST', `/api/servers/${id}/releases`, { name: 'mine' }],
    ['PATCH', `/api/servers/${id}/releases/${r.id}`, { name: 'mine' }],
    ['DELETE', `/api/servers/${id}/releases/${r.id}`],
  ];
  for (const token of [stranger.token, strangerRun.token]) {
    for (const id of [serverId, missing]) {
      for (const [method, path, json] of requests(id)) {
        const res = await body(s.request(path, { method, token, ...(json ? { json } : {}) }));
        t.deepEqual(res, { status: 404, body: { error: 'not_found', message: 'No such server.' } }, `${method} ${path}`);
      }
    }
  }
  t.is((await s.request('/api/servers/not-a-uuid/releases', { token: owner.token })).status, 404);
  t.is((await s.request(`/api/servers/${serverId}/releases`)).status, 401);
  const [row] = await s.sql`select name from app.releases where id = ${r.id}`;
  t.is(row!.name, 'secret');
});

test('a release id from another server is not found through this one (BOLA)', async (t) => {
  const { owner, projectId, serverId } = await setup();
  const other = await ok<{ id: string }>(
    s.request(`/api/projects/${projectId}/servers`, { method: 'POST', token: owner.token, json: { name: 'web-2' } }),
  );
  const r = await ok<Release>(createRelease(other.id, owner.token, { name: 'theirs' }));
  t.is((await s.request(`/api/servers/${serverId}/releases/${r.id}`, { method: 'PATCH', token: owner.token, json: { name: 'x' } })).status, 404);
  t.is((await s.request(`/api/servers/${serverId}/releases/${r.id}`, { method: 'DELETE', token: owner.token })).status, 404);
  t.is((await s.request(`/api/servers/${serverId}/releases/theirs`, { token: owner.token })).status, 404);
  const [row] = await s.sql`select server_id, name from app.releases where id = ${r.id}`;
  t.deepEqual({ ...row }, { server_id: other.id, name: 'theirs' });
});

test('the same handle on two servers is fine', async (t) => {
  const { owner, projectId, serverId } = await setup();
  const other = await ok<{ id: string }>(
    s.request(`/api/projects/${projectId}/servers`, { method: 'POST', token: owner.token, json: { name: 'web-2' } }),
  );
  t.is((await createRelease(serverId, owner.token, { name: 'api' })).status, 201);
  t.is((await createRelease(other.id, owner.token, { release_command: '/bin/api' })).status, 201);
});
