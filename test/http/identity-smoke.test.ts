import test from 'ava';
import { addMember, createTestProject, createTestRun, createTestSandbox, createTestUser, ok } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

test('a user creates a project, becomes its owner, and sees it listed', async (t) => {
  const alice = await createTestUser(s);
  const res = await s.request('/api/projects', { method: 'POST', token: alice.token, json: { name: 'Cat Shelter' } });
  t.is(res.status, 201);
  const project = (await res.json()) as { id: string; name: string; parent_id: null; created_at: string };
  t.like(project, { name: 'Cat Shelter', parent_id: null });
  const list = await ok<{ projects: Array<{ id: string; role: string }> }>(s.request('/api/projects', { token: alice.token }));
  t.deepEqual(list.projects.map((p) => [p.id, p.role]), [[project.id, 'owner']]);
});

test('a sandbox copies the parent members and makes the caller owner', async (t) => {
  const alice = await createTestUser(s);
  const bob = await createTestUser(s);
  const parent = await createTestProject(s, alice);
  await addMember(s, alice, parent.id, bob, 'admin');
  const sandbox = await createTestSandbox(s, bob, parent.id, 'staging');
  t.is(sandbox.parent_id, parent.id);
  const members = await ok<{ members: Array<{ email: string; role: string }> }>(s.request(`/api/projects/${sandbox.id}/members`, { token: alice.token }));
  t.deepEqual(
    members.members.map((m) => [m.email, m.role]).sort(),
    [[alice.email, 'owner'], [bob.email, 'owner']].sort(),
  );
});

test('a run token reaches exactly its run project', async (t) => {
  const alice = await createTestUser(s);
  const a = await createTestProject(s, alice);
  const b = await createTestProject(s, alice);
  const res = await s.request(`/api/projects/${a.id}/runs`, { method: 'POST', token: alice.token, json: {} });
  t.is(res.status, 201);
  const run = (await res.json()) as { id: string; token: string; options: { project_id: string } };
  t.deepEqual(run.options, { project_id: a.id });
  t.is((await s.request(`/api/projects/${a.id}`, { token: run.token })).status, 200);
  t.is((await s.request(`/api/projects/${b.id}`, { token: run.token })).status, 404);
  const again = await createTestRun(s, alice, a.id);
  t.truthy(again.token);
});

test('a uuid is any 8-4-4-4-12 hex string, as PostgreSQL takes it, whatever its version and variant bits', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const workflowId = '11111111-1111-1111-1111-111111111111';
  // In SQL: the workflows routes (src/workflows) still refuse such an id; a run's workflow must exist in its project.
  await s.sql`insert into app.workflows (id, project_id, name, definition) values (${workflowId}, ${project.id}, 'intake', '{}')`;
  const res = await s.request(`/api/projects/${project.id}/runs`, { method: 'POST', token: alice.token, json: { workflow_id: workflowId } });
  t.is(res.status, 201);
  const run = (await res.json()) as { id: string };
  t.deepEqual([...(await s.sql`select workflow_id from app.runs where id = ${run.id}`)], [{ workflow_id: workflowId }]);
  const notHex = await s.request(`/api/projects/${project.id}/runs`, { method: 'POST', token: alice.token, json: { workflow_id: '11111111-1111-1111-1111-11111111111g' } });
  t.is(notHex.status, 422);
  t.deepEqual(await notHex.json(), { error: 'invalid', message: 'workflow_id: Invalid UUID' });
});

test('no token is 401 with WWW-Authenticate: Bearer', async (t) => {
  const res = await s.request('/api/projects');
  t.is(res.status, 401);
  t.regex(res.headers.get('www-authenticate') ?? '', /^Bearer/);
  t.deepEqual(await res.json(), { error: 'unauthorized', message: 'A valid bearer token is required.' });
});
