import { randomUUID } from 'node:crypto';
import test from 'ava';
import { addMember, createTestProject, createTestRun, createTestUser, ok, type TestUser } from '../helpers/identity.ts';
import { MAX_DEFINITION_DEPTH } from '../../src/workflows/routes.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

const path = (projectId: string, id: string, rest = '') => `/api/projects/${projectId}/workflows/${id}${rest}`;

function put(user: TestUser | { token: string }, projectId: string, id: string, json: unknown) {
  return s.request(path(projectId, id), { method: 'PUT', token: user.token, json });
}

async function answer(res: Promise<Response>): Promise<[number, any]> {
  const r = await res;
  const text = await r.text();
  return [r.status, text ? JSON.parse(text) : null];
}

async function rows(id: string) {
  return [...(await s.sql`select project_id, name, definition, lock_version, deleted_at is not null as deleted from app.workflows where id = ${id}`)];
}

async function snapshotVersions(id: string): Promise<number[]> {
  return (await s.sql`select version from app.workflow_snapshots where workflow_id = ${id} order by version`).map((r) => r.version as number);
}

test('save, reconnect and save again with action new: 201 then 200 update, one row, two snapshots', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = randomUUID();
  const [status, body] = await answer(put(alice, project.id, id, { action: 'new', name: 'Intake', definition: { jobs: ['a'] } }));
  t.is(status, 201);
  t.like(body, { kind: 'new', id, project_id: project.id, name: 'Intake', lock_version: 1 });
  t.deepEqual(Object.keys(body).sort(), ['created_at', 'id', 'kind', 'lock_version', 'name', 'project_id', 'updated_at']);

  // The client lost the response, reconnects, and still believes the workflow is new.
  const [again, againBody] = await answer(put(alice, project.id, id, { action: 'new', name: 'Intake', definition: { jobs: ['a', 'b'] } }));
  t.is(again, 200);
  t.like(againBody, { kind: 'existing', id, lock_version: 2 });
  t.deepEqual(await rows(id), [{ project_id: project.id, name: 'Intake', definition: { jobs: ['a', 'b'] }, lock_version: 2, deleted: false }]);
  t.deepEqual(await snapshotVersions(id), [1, 2]);
});

test('an edit with the current lock_version saves; a stale one is 409 stale_workflow with the current lock_version', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = randomUUID();
  await ok(put(alice, project.id, id, { action: 'new', name: 'Locked', definition: { v: 1 } }));
  const [status, body] = await answer(put(alice, project.id, id, { action: 'edit', name: 'Locked', definition: { v: 2 }, lock_version: 1 }));
  t.is(status, 200);
  t.like(body, { kind: 'existing', lock_version: 2 });

  const [stale, staleBody] = await answer(put(alice, project.id, id, { action: 'edit', name: 'Locked', definition: { v: 'lost' }, lock_version: 1 }));
  t.is(stale, 409);
  t.deepEqual(staleBody, {
    error: 'stale_workflow',
    message: `Workflow ${id} is at lock_version 2, not 1; reload it and save again.`,
    lock_version: 2,
  });
  // A late "new" retry after someone else's edit must not clobber it either.
  const [lateNew, lateNewBody] = await answer(put(alice, project.id, id, { action: 'new', name: 'Locked', definition: { v: 'lost' } }));
  t.is(lateNew, 409);
  t.like(lateNewBody, { error: 'stale_workflow', lock_version: 2 });
  t.deepEqual(await rows(id), [{ project_id: project.id, name: 'Locked', definition: { v: 2 }, lock_version: 2, deleted: false }]);

  const [missing, missingBody] = await answer(put(alice, project.id, id, { action: 'edit', name: 'Locked', definition: {} }));
  t.is(missing, 422);
  t.is(missingBody.error, 'lock_version_required');
});

test('an id of another project the token reaches is 403 wrong_project everywhere, and that workflow stays unchanged', async (t) => {
  const alice = await createTestUser(s);
  const home = await createTestProject(s, alice);
  const elsewhere = await createTestProject(s, alice);
  const id = randomUUID();
  await ok(put(alice, home.id, id, { action: 'new', name: 'Home', definition: { home: true } }));
  const requests: Array<[string, RequestInit & { json?: unknown }]> = [
    [path(elsewhere.id, id), { method: 'PUT', json: { action: 'new', name: 'Home', definition: {} } }],
    [path(elsewhere.id, id), { method: 'PUT', json: { action: 'edit', name: 'Home', definition: {}, lock_version: 1 } }],
    [path(elsewhere.id, id), { method: 'GET' }],
    [path(elsewhere.id, id, '?version=1'), { method: 'GET' }],
    [path(elsewhere.id, id), { method: 'DELETE' }],
    [path(elsewhere.id, id, '/reset'), { method: 'POST' }],
  ];
  for (const [url, init] of requests) {
    const [status, body] = await answer(s.request(url, { ...init, token: alice.token }));
    t.is(status, 403, `${init.method} ${url}`);
    t.deepEqual(body, { error: 'wrong_project', message: `Workflow ${id} belongs to another project, not ${elsewhere.id}.` });
  }
  t.deepEqual(await rows(id), [{ project_id: home.id, name: 'Home', definition: { home: true }, lock_version: 1, deleted: false }]);
});

test('an id of a project the token cannot reach answers exactly like an unknown id', async (t) => {
  const alice = await createTestUser(s);
  const mallory = await createTestUser(s);
  const victim = await createTestProject(s, alice);
  const own = await createTestProject(s, mallory);
  const id = randomUUID();
  await ok(put(alice, victim.id, id, { action: 'new', name: 'Secret', definition: { secret: true } }));

  for (const [method, rest, json] of [
    ['GET', '', undefined],
    ['GET', '?version=1', undefined],
    ['PUT', '', { action: 'edit', name: 'Mine', definition: {}, lock_version: 1 }],
    ['DELETE', '', undefined],
    ['POST', '/reset', undefined],
  ] as const) {
    const unknown = randomUUID();
    // Through mallory's own project: a foreign id is just not found.
    const [fStatus, fBody] = await answer(s.request(path(own.id, id, rest), { method, token: mallory.token, json }));
    const [uStatus, uBody] = await answer(s.request(path(own.id, unknown, rest), { method, token: mallory.token, json }));
    t.is(fStatus, 404, `${method} ${rest}`);
    t.deepEqual(fBody, { error: 'workflow_not_found', message: `No workflow ${id} in project ${own.id}.` });
    t.deepEqual([uStatus, uBody], [404, { error: 'workflow_not_found', message: `No workflow ${unknown} in project ${own.id}.` }]);
    // Through the victim's project: no such project, whether or not the workflow exists.
    const [vStatus, vBody] = await answer(s.request(path(victim.id, id, rest), { method, token: mallory.token, json }));
    const [vuStatus, vuBody] = await answer(s.request(path(victim.id, unknown, rest), { method, token: mallory.token, json }));
    t.deepEqual([vStatus, vBody], [404, { error: 'not_found', message: 'No such project.' }], `${method} ${rest}`);
    t.deepEqual([vuStatus, vuBody], [vStatus, vBody]);
  }
  // Saving "new" with a foreign id: the id is unusable, but nothing says where it lives.
  const [status, body] = await answer(put(mallory, own.id, id, { action: 'new', name: 'Mine', definition: {} }));
  t.deepEqual([status, body], [404, { error: 'workflow_not_found', message: `No workflow ${id} in project ${own.id}.` }]);
  t.deepEqual(await rows(id), [{ project_id: victim.id, name: 'Secret', definition: { secret: true }, lock_version: 1, deleted: false }]);
});

test('a run token of the workflow project reaches it; a run token of another project gets workflow_not_found', async (t) => {
  const alice = await createTestUser(s);
  const a = await createTestProject(s, alice);
  const b = await createTestProject(s, alice);
  const runA = await createTestRun(s, alice, a.id);
  const runB = await createTestRun(s, alice, b.id);
  const id = randomUUID();
  const [created] = await answer(put(runA, a.id, id, { action: 'new', name: 'By run', definition: {} }));
  t.is(created, 201);
  const [other, otherBody] = await answer(s.request(path(b.id, id), { token: runB.token }));
  t.deepEqual([other, otherBody], [404, { error: 'workflow_not_found', message: `No workflow ${id} in project ${b.id}.` }]);
});

test('viewers read but may not write; editors write', async (t) => {
  const alice = await createTestUser(s);
  const viewer = await createTestUser(s);
  const editor = await createTestUser(s);
  const project = await createTestProject(s, alice);
  await addMember(s, alice, project.id, viewer, 'viewer');
  await addMember(s, alice, project.id, editor, 'editor');
  const id = randomUUID();
  const [denied, deniedBody] = await answer(put(viewer, project.id, id, { action: 'new', name: 'V', definition: {} }));
  t.deepEqual([denied, deniedBody.error], [403, 'forbidden']);
  t.is((await answer(put(editor, project.id, id, { action: 'new', name: 'V', definition: {} })))[0], 201);
  t.is((await answer(s.request(path(project.id, id), { token: viewer.token })))[0], 200);
  for (const [method, rest, json] of [
    ['PUT', '', { action: 'edit', name: 'V', definition: {}, lock_version: 1 }],
    ['DELETE', '', undefined],
    ['POST', '/reset', undefined],
  ] as const) {
    const [status, body] = await answer(s.request(path(project.id, id, rest), { method, token: viewer.token, json }));
    t.deepEqual([status, body.error], [403, 'forbidden'], `${method} ${rest}`);
  }
  t.deepEqual(await snapshotVersions(id), [1]);
});

test('a deleted workflow can be read but not saved or reset; its name is free again', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = randomUUID();
  await ok(put(alice, project.id, id, { action: 'new', name: 'Doomed', definition: { v: 1 } }));
  t.is((await s.request(path(project.id, id), { method: 'DELETE', token: alice.token })).status, 204);
  t.is((await s.request(path(project.id, id), { method: 'DELETE', token: alice.token })).status, 204, 'DELETE is idempotent');

  const [status, body] = await answer(s.request(path(project.id, id), { token: alice.token }));
  t.is(status, 200);
  t.like(body, { kind: 'existing', id, name: 'Doomed', lock_version: 1, definition: { v: 1 } });
  t.truthy(body.deleted_at);

  for (const json of [
    { action: 'new', name: 'Doomed', definition: {} },
    { action: 'edit', name: 'Doomed', definition: {}, lock_version: 1 },
  ]) {
    const [s409, b409] = await answer(put(alice, project.id, id, json));
    t.deepEqual([s409, b409], [409, { error: 'workflow_deleted', message: `Workflow ${id} was deleted.` }]);
  }
  const [reset, resetBody] = await answer(s.request(path(project.id, id, '/reset'), { method: 'POST', token: alice.token }));
  t.deepEqual([reset, resetBody.error], [409, 'workflow_deleted']);

  const list = await ok(s.request(`/api/projects/${project.id}/workflows`, { token: alice.token }));
  t.deepEqual(list, { workflows: [] });
  const all = await ok(s.request(`/api/projects/${project.id}/workflows?include_deleted=true`, { token: alice.token }));
  t.deepEqual(all.workflows.map((w: any) => [w.id, w.deleted_at !== null]), [[id, true]]);
  t.is((await answer(put(alice, project.id, randomUUID(), { action: 'new', name: 'Doomed', definition: {} })))[0], 201);
  t.deepEqual(await snapshotVersions(id), [1]);
});

test('GET ?version=N answers that snapshot; a missing one is snapshot_not_found; a malformed one is 400', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = randomUUID();
  await ok(put(alice, project.id, id, { action: 'new', name: 'Versions', definition: { v: 1 } }));
  await ok(put(alice, project.id, id, { action: 'edit', name: 'Versions', definition: { v: 2 }, lock_version: 1 }));
  const [status, body] = await answer(s.request(path(project.id, id, '?version=1'), { token: alice.token }));
  t.is(status, 200);
  t.like(body, { kind: 'version', id, version: 1, lock_version: 2, definition: { v: 1 } });
  const current = await ok(s.request(path(project.id, id), { token: alice.token }));
  t.like(current, { kind: 'existing', version: 2, lock_version: 2, definition: { v: 2 } });
  const [missing, missingBody] = await answer(s.request(path(project.id, id, '?version=3'), { token: alice.token }));
  t.deepEqual([missing, missingBody], [404, { error: 'snapshot_not_found', message: `Workflow ${id} has no version 3.` }]);
  for (const q of ['?version=abc', '?version=-1', '?version=1e3', '?version=9999999999', '?version=1&version=2', '?other=1']) {
    const [bad, badBody] = await answer(s.request(path(project.id, id, q), { token: alice.token }));
    t.deepEqual([bad, badBody.error], [400, 'bad_request'], q);
  }
});

test('reset restores the newest snapshot and answers the workflow', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = randomUUID();
  await ok(put(alice, project.id, id, { action: 'new', name: 'Reset', definition: { v: 1 } }));
  await s.sql`update app.workflows set definition = '{"v": "drift"}' where id = ${id}`;
  const [status, body] = await answer(s.request(path(project.id, id, '/reset'), { method: 'POST', token: alice.token }));
  t.is(status, 200);
  t.like(body, { id, project_id: project.id, name: 'Reset', definition: { v: 1 }, lock_version: 1, deleted_at: null });
});

test('the list shows live workflows by name, without definitions', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const b = randomUUID();
  const a = randomUUID();
  await ok(put(alice, project.id, b, { action: 'new', name: 'beta', definition: { big: 'x' } }));
  await ok(put(alice, project.id, a, { action: 'new', name: 'alpha', definition: {} }));
  const list = await ok(s.request(`/api/projects/${project.id}/workflows`, { token: alice.token }));
  t.deepEqual(list.workflows.map((w: any) => [w.id, w.name, w.lock_version]), [[a, 'alpha', 1], [b, 'beta', 1]]);
  t.deepEqual(Object.keys(list.workflows[0]).sort(), ['created_at', 'deleted_at', 'id', 'lock_version', 'name', 'updated_at']);
  const [bad] = await answer(s.request(`/api/projects/${project.id}/workflows?include_deleted=yes`, { token: alice.token }));
  t.is(bad, 400);
});

test('a name taken by another live workflow is 409 workflow_name_taken', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  await ok(put(alice, project.id, randomUUID(), { action: 'new', name: 'Taken', definition: {} }));
  const id = randomUUID();
  const [status, body] = await answer(put(alice, project.id, id, { action: 'new', name: 'Taken', definition: {} }));
  t.deepEqual([status, body], [409, { error: 'workflow_name_taken', message: `Project ${project.id} already has a workflow named 'Taken'.` }]);
  t.deepEqual(await rows(id), []);
});

/** A PUT of a body written as text, so that it can hold what JSON.stringify cannot write (1e400, duplicate keys). */
function putText(user: TestUser, projectId: string, id: string, body: string) {
  return s.request(path(projectId, id), { method: 'PUT', token: user.token, body, headers: { 'content-type': 'application/json' } });
}

async function storedDefinitions(id: string): Promise<{ draft: string[]; snapshots: string[] }> {
  const draft = await s.sql`select definition::text as d from app.workflows where id = ${id}`;
  const snapshots = await s.sql`select definition::text as d from app.workflow_snapshots where workflow_id = ${id} order by version`;
  return { draft: draft.map((r) => r.d as string), snapshots: snapshots.map((r) => r.d as string) };
}

const tenTo400 = `1${'0'.repeat(400)}`;

test('numbers in a definition round-trip exactly, as jsonb keeps them, through save, read, snapshot and reset', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = randomUUID();
  const sent = '{"big":1e400,"neg":-1e400,"prec":9007199254740993,"tiny":0.1000000000000000055511151231257827,"one":1.0,"list":[1e400,1.0]}';
  // What PostgreSQL makes of it (JSON.parse would give null, null, 9007199254740992, 0.1, 1): jsonb's own
  // text, keys by length then bytewise, 1e400 written out in full, 1.0 keeping its scale.
  const stored = `{"big": ${tenTo400}, "neg": -${tenTo400}, "one": 1.0, "list": [${tenTo400}, 1.0], "prec": 9007199254740993, "tiny": 0.1000000000000000055511151231257827}`;
  const [status, body] = await answer(putText(alice, project.id, id, `{"action":"new","name":"num","definition":${sent}}`));
  t.deepEqual([status, body.kind, body.lock_version], [201, 'new', 1]);
  t.deepEqual(await storedDefinitions(id), { draft: [stored], snapshots: [stored] });

  for (const rest of ['', '?version=1']) {
    const res = await s.request(path(project.id, id, rest), { token: alice.token });
    const text = await res.text();
    t.is(res.status, 200, rest);
    t.is(res.headers.get('content-type'), 'application/json; charset=utf-8');
    t.true(text.endsWith(`,"definition":${stored}}`), `${rest}: ${text.slice(0, 400)}`);
    t.like(JSON.parse(text), { kind: rest ? 'version' : 'existing', id, name: 'num', lock_version: 1, version: 1 });
  }

  // An edit keeps the exact numbers too; reset restores the snapshot's and answers them as they are.
  await ok(putText(alice, project.id, id, '{"action":"edit","name":"num","definition":{"prec":9007199254740995},"lock_version":1}'));
  t.deepEqual(await storedDefinitions(id), { draft: ['{"prec": 9007199254740995}'], snapshots: [stored, '{"prec": 9007199254740995}'] });
  await s.sql`update app.workflows set definition = '{"drift": true}' where id = ${id}`;
  const reset = await s.request(path(project.id, id, '/reset'), { method: 'POST', token: alice.token });
  const resetText = await reset.text();
  t.is(reset.status, 200);
  t.true(resetText.endsWith(',"definition":{"prec": 9007199254740995}}'), resetText);
  t.like(JSON.parse(resetText), { id, name: 'num', lock_version: 2, deleted_at: null });
});

test('the body text PostgreSQL parses is held to the definition\'s limits, duplicate keys and all', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = randomUUID();
  // JSON.parse and jsonb both keep the last of duplicate keys.
  await ok(putText(alice, project.id, id, '{"action":"new","name":"dup","definition":{"a":1},"definition":{"b":1e400,"b":2.50}}'));
  t.deepEqual((await storedDefinitions(id)).draft, ['{"b": 2.50}']);

  const other = randomUUID();
  const cases: Array<[string, string]> = [
    // 1e131071 is 9 bytes sent and 22 stored, but 131,072 read back: eight of them pass the 1 MiB a definition may have.
    [`{"action":"new","name":"X","definition":{"n":[${Array(8).fill('1e131071').join(',')}]}}`, 'definition: larger than 1048576 bytes of JSON'],
    [`{"action":"new","name":"X","definition":{"n":"${'1'.repeat(1024 * 1024 - 200)}","m":0.${'1'.repeat(300)}}}`, 'definition: larger than 1048576 bytes of JSON'],
    // Deeper than PostgreSQL's JSON parser can recurse, where JSON.parse drops it (a duplicate key): a 500 unchecked.
    [`{"action":"new","name":"X","definition":${'{"d":'.repeat(200_000)}{}${'}'.repeat(200_000)},"definition":{}}`, 'The body is nested deeper than 65 levels.'],
    [`{"action":"new","name":"X","definition":${'['.repeat(65)}${']'.repeat(65)},"definition":{}}`, 'The body is nested deeper than 65 levels.'],
  ];
  for (const [text, message] of cases) {
    const [status, body] = await answer(putText(alice, project.id, other, text));
    t.deepEqual([status, body], [422, { error: 'invalid', message }], text.slice(0, 80));
  }
  t.deepEqual(await rows(other), []);
  // Exactly at the depth limit, through the body's own nesting: accepted.
  const [atLimit] = await answer(putText(alice, project.id, other, `{"action":"new","name":"X","definition":${'{"d":'.repeat(63)}{}${'}'.repeat(63)},"definition":{}}`));
  t.is(atLimit, 201);
  // Numbers past what numeric holds are PostgreSQL's bad input.
  const [overflow, overflowBody] = await answer(putText(alice, project.id, randomUUID(), '{"action":"new","name":"Y","definition":{"n":1e131072}}'));
  t.deepEqual([overflow, overflowBody.error], [400, 'bad_request']);
});

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { d: value };
  return value;
}

test('a definition nested exactly to the limit is accepted', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const [status] = await answer(put(alice, project.id, randomUUID(), { action: 'new', name: 'Deep', definition: nested(MAX_DEFINITION_DEPTH) }));
  t.is(status, 201);
});

test('bad input is 4xx, never 5xx, and writes nothing', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = randomUUID();
  const cases: Array<[unknown, number, string]> = [
    [{ action: 'new', name: 'X', definition: [1] }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: 'text' }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: null }, 422, 'invalid'],
    [{ action: 'new', name: 'X' }, 422, 'invalid'],
    [{ action: 'new', definition: {} }, 422, 'invalid'],
    [{ action: 'new', name: '', definition: {} }, 422, 'invalid'],
    [{ action: 'new', name: 'a\u0000b', definition: {} }, 422, 'invalid'],
    [{ action: 'new', name: 'x'.repeat(256), definition: {} }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: {}, project_id: randomUUID() }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: {}, lock_version: 1.5 }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: {}, lock_version: 2 ** 31 }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: {}, lock_version: '1' }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: nested(MAX_DEFINITION_DEPTH + 1) }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: { big: 'x'.repeat(1024 * 1024) } }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: { nul: 'a\u0000b' } }, 422, 'invalid'],
    [{ action: 'new', name: 'X', definition: { 'key\u0000': 1 } }, 422, 'invalid'],
    // Refused by the body parser (not well-formed Unicode), as an item value would be, before PostgreSQL's 22P02.
    [{ action: 'new', name: 'X', definition: { lone: '\ud800' } }, 422, 'invalid'],
    [{ action: 'create', name: 'X', definition: {} }, 422, 'invalid_action'],
    [{ action: 'version', name: 'X', definition: {} }, 422, 'invalid_action'],
    [{ name: 'X', definition: {} }, 422, 'invalid'],
  ];
  for (const [json, status, error] of cases) {
    const [got, body] = await answer(put(alice, project.id, id, json));
    t.deepEqual([got, body.error], [status, error], JSON.stringify(json).slice(0, 120));
  }
  // Deeper than JSON.stringify's (and jsonb's) recursion can go: sent as text.
  const deep = '{"action":"new","name":"X","definition":' + '{"d":'.repeat(200_000) + '{}' + '}'.repeat(200_000) + '}';
  const [deepStatus, deepBody] = await answer(s.request(path(project.id, id), { method: 'PUT', token: alice.token, body: deep, headers: { 'content-type': 'application/json' } }));
  t.deepEqual([deepStatus, deepBody.error], [422, 'invalid']);
  const [malformed] = await answer(put(alice, project.id, 'not-a-uuid', { action: 'new', name: 'X', definition: {} }));
  t.is(malformed, 404);
  const [notJson] = await answer(s.request(path(project.id, id), { method: 'PUT', token: alice.token, body: '{', headers: { 'content-type': 'application/json' } }));
  t.is(notJson, 400);
  t.deepEqual(await rows(id), []);
  // Upper-case ids name the same workflow.
  const [created, createdBody] = await answer(put(alice, project.id.toUpperCase(), id.toUpperCase(), { action: 'new', name: 'Upper', definition: {} }));
  t.deepEqual([created, createdBody.id, createdBody.project_id], [201, id, project.id]);
  t.is((await answer(s.request(path(project.id, id.toUpperCase()), { token: alice.token })))[0], 200);
});

test('no token is 401', async (t) => {
  const [status] = await answer(s.request(`/api/projects/${randomUUID()}/workflows/${randomUUID()}`, { method: 'PUT', json: { action: 'new', name: 'X', definition: {} } }));
  t.is(status, 401);
});

test('any 8-4-4-4-12 hex string is a workflow id, RFC variant bits or not, as PostgreSQL takes it', async (t) => {
  const alice = await createTestUser(s);
  const project = await createTestProject(s, alice);
  const id = '11111111-1111-1111-1111-111111111111';
  const [status, body] = await answer(put(alice, project.id, id.toUpperCase(), { action: 'new', name: 'Ones', definition: {} }));
  t.is(status, 201);
  t.like(body, { kind: 'new', id, project_id: project.id });
  const [got] = await answer(s.request(path(project.id, id), { token: alice.token }));
  t.is(got, 200);
});
