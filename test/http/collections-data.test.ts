import test from 'ava';
import {
  addMember,
  createTestProject,
  createTestRun,
  createTestSandbox,
  createTestUser,
  ok,
  type TestProject,
  type TestUser,
} from '../helpers/identity.ts';
import { until } from '../helpers/poll.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

interface Item {
  key: string;
  value: string;
  created: string;
  updated: string;
}
interface Page {
  items: Item[];
  cursor: string | null;
}

async function createCollection(owner: TestUser, projectId: string, name: string): Promise<void> {
  await ok(s.request(`/api/projects/${projectId}/collections`, { method: 'POST', token: owner.token, json: { name } }));
}

/** A client of one API version: `base` is `/collections` (v1) or `/collections/<project_id>` (v2). */
function client(version: 1 | 2, token: string, projectId: string) {
  const base = version === 1 ? '/collections' : `/collections/${projectId}`;
  const headers: Record<string, string> = version === 2 ? { 'x-api-version': '2' } : {};
  return {
    version,
    get: (path: string) => s.request(`${base}/${path}`, { token, headers }),
    put: (path: string, json: unknown) => s.request(`${base}/${path}`, { method: 'PUT', token, headers, json }),
    post: (path: string, json: unknown) => s.request(`${base}/${path}`, { method: 'POST', token, headers, json }),
    del: (path: string) => s.request(`${base}/${path}`, { method: 'DELETE', token, headers }),
  };
}

async function keysIn(collectionName: string, projectId: string): Promise<string[]> {
  const rows = await s.sql`
    select i.key from app.items i join app.collections c on c.id = i.collection_id
    where c.project_id = ${projectId} and c.name = ${collectionName} order by i.id`;
  return rows.map((r) => r.key as string);
}

async function setup(): Promise<{ owner: TestUser; project: TestProject }> {
  const owner = await createTestUser(s);
  const project = await createTestProject(s, owner);
  return { owner, project };
}

for (const version of [1, 2] as const) {
  for (const kind of ['personal token', 'run token'] as const) {
    test(`v${version} with a ${kind}: put, get, post, stream, delete one, delete by pattern, delete all`, async (t) => {
      const { owner, project } = await setup();
      await createCollection(owner, project.id, 'patients');
      const token = kind === 'run token' ? (await createTestRun(s, owner, project.id)).token : owner.token;
      const c = client(version, token, project.id);

      let res = await c.put('patients/alpha', { value: '{"a":1}' });
      t.is(res.status, 200);
      t.deepEqual(await res.json(), { upserted: 1, error: null });

      res = await c.get('patients/alpha');
      t.is(res.status, 200);
      t.regex(res.headers.get('content-type') ?? '', /^application\/json/);
      const item = (await res.json()) as Item;
      t.is(item.key, 'alpha');
      t.is(item.value, '{"a":1}');
      t.false(Number.isNaN(Date.parse(item.created)));
      t.false(Number.isNaN(Date.parse(item.updated)));

      res = await c.get('patients/missing');
      t.is(res.status, 204);
      t.is(await res.text(), '');

      res = await c.post('patients', { items: [{ key: 'beta', value: 'b' }, { key: 'alpha', value: 'a2' }, { key: 'gamma', value: 'g' }] });
      t.is(res.status, 200);
      t.deepEqual(await res.json(), { upserted: 3, error: null });

      res = await c.get('patients');
      t.is(res.status, 200);
      const page = (await res.json()) as Page;
      t.deepEqual(page.items.map((i) => [i.key, i.value]), [['alpha', 'a2'], ['beta', 'b'], ['gamma', 'g']]);
      t.is(page.cursor, null);

      res = await c.del('patients/beta');
      t.deepEqual(await res.json(), { key: 'beta', deleted: 1, error: null });
      res = await c.del('patients/beta');
      t.deepEqual(await res.json(), { key: 'beta', deleted: 0, error: null });

      await ok(c.post('patients', { items: [{ key: 'x-1', value: '1' }, { key: 'x-2', value: '2' }, { key: 'y-1', value: '3' }] }));
      res = await c.del('patients?key=x-*');
      t.deepEqual(await res.json(), { key: 'x-*', deleted: 2, error: null });
      t.deepEqual(await keysIn('patients', project.id), ['alpha', 'gamma', 'y-1']);

      res = await c.del('patients');
      t.deepEqual(await res.json(), { key: null, deleted: 3, error: null });
      t.deepEqual(await keysIn('patients', project.id), []);
    });
  }
}

test('v1 with a personal token reaching a parent and its sandbox that both have the name is 409; ?project_id= and v2 resolve it', async (t) => {
  const { owner, project: parent } = await setup();
  const sandbox = await createTestSandbox(s, owner, parent.id);
  for (const p of [parent, sandbox]) {
    // Provisioning may already have cloned the parent's names into the sandbox; either way both end up with `patients`.
    const res = await s.request(`/api/projects/${p.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'patients' } });
    t.true(res.status === 201 || res.status === 409, `${res.status}`);
  }
  const rows = await s.sql`select project_id from app.collections where name = 'patients' and project_id in ${s.sql([parent.id, sandbox.id])}`;
  t.is(rows.length, 2);

  let res = await s.request('/collections/patients/k', { token: owner.token });
  t.is(res.status, 409);
  t.deepEqual(await res.json(), { error: 'conflict', message: 'Multiple collections found with this name. Use API v2 with a project_id.' });
  res = await s.request('/collections/patients', { method: 'POST', token: owner.token, json: { items: [] } });
  t.is(res.status, 409);

  await ok(s.request(`/collections/patients/k?project_id=${sandbox.id}`, { method: 'PUT', token: owner.token, json: { value: 'in sandbox' } }));
  await ok(s.request(`/collections/${parent.id}/patients/k`, { method: 'PUT', token: owner.token, json: { value: 'in parent' }, headers: { 'x-api-version': '2' } }));
  t.deepEqual(await keysIn('patients', sandbox.id), ['k']);
  t.deepEqual(await keysIn('patients', parent.id), ['k']);
  const fromSandbox = (await ok(s.request(`/collections/patients/k?project_id=${sandbox.id}`, { token: owner.token }))) as Item;
  t.is(fromSandbox.value, 'in sandbox');
  const fromParent = (await ok(s.request(`/collections/${parent.id}/patients/k`, { token: owner.token, headers: { 'x-api-version': '2' } }))) as Item;
  t.is(fromParent.value, 'in parent');

  // A run token reaches exactly its run's project: never ambiguous, in the parent or in the sandbox.
  const sandboxRun = await createTestRun(s, owner, sandbox.id);
  const viaRun = (await ok(s.request('/collections/patients/k', { token: sandboxRun.token }))) as Item;
  t.is(viaRun.value, 'in sandbox');
  const parentRun = await createTestRun(s, owner, parent.id);
  t.is(((await ok(s.request('/collections/patients/k', { token: parentRun.token }))) as Item).value, 'in parent');
});

test('x-api-version other than 1 or 2 is 400 before routing', async (t) => {
  const { owner } = await setup();
  for (const path of ['/collections/patients', '/collections/patients/k', '/collections/a/b/c']) {
    const res = await s.request(path, { token: owner.token, headers: { 'x-api-version': '99' } });
    t.is(res.status, 400);
    t.deepEqual(await res.json(), { error: 'bad_request', message: 'Unsupported API version: "99". Supported versions: 1, 2.' });
  }
  const res = await s.request('/collections/patients', { method: 'POST', token: owner.token, json: { items: [] }, headers: { 'x-api-version': '3' } });
  t.is(res.status, 400);
  t.deepEqual(await res.json(), { error: 'bad_request', message: 'Unsupported API version: "3". Supported versions: 1, 2.' });
  // An explicit 1 is v1.
  t.is((await s.request('/collections/nope/k', { token: owner.token, headers: { 'x-api-version': '1' } })).status, 404);
});

test('bodies: missing value or items, a repeated key, long keys and values, non-strings are 422', async (t) => {
  const { owner, project } = await setup();
  await createCollection(owner, project.id, 'things');
  const c = client(1, owner.token, project.id);
  const invalid = async (res: Response, pattern: RegExp) => {
    t.is(res.status, 422);
    const body = (await res.json()) as { error: string; message: string };
    t.regex(body.message, pattern);
  };
  await invalid(await c.put('things/k', {}), /value/);
  await invalid(await c.put('things/k', { value: 42 }), /value/);
  await invalid(await c.put('things/k', { value: 'v', extra: 1 }), /extra|Unrecognized/i);
  await invalid(await c.put(`things/${'k'.repeat(256)}`, { value: 'v' }), /key/);
  await invalid(await c.put('things/k', { value: 'v'.repeat(1_000_001) }), /value/);
  await invalid(await c.post('things', {}), /items/);
  await invalid(await c.post('things', { items: [{ key: 'a' }] }), /value/);
  await invalid(await c.post('things', { items: [{ key: '', value: 'v' }] }), /key/);
  await invalid(await c.post('things', { items: [{ key: 'a', value: { nested: true } }] }), /value/);

  const dup = await c.post('things', { items: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'a', value: '3' }] });
  t.is(dup.status, 422);
  t.deepEqual(await dup.json(), { error: 'duplicate_key', message: 'Duplicate key found', upserted: 0 });
  t.deepEqual(await keysIn('things', project.id), []);

  // A value of exactly 1,000,000 characters (astral ones count once, as Postgres counts) is fine.
  const res = await c.put('things/big', { value: '😀'.repeat(1_000_000) });
  t.is(res.status, 200);
  const nul = await c.put('things/k', { value: 'a\u0000b' });
  t.is(nul.status, 422);
  // Over the 10 MB body limit.
  const huge = await c.post('things', { items: Array.from({ length: 11 }, (_, i) => ({ key: `h${i}`, value: 'v'.repeat(1_000_000) })) });
  t.is(huge.status, 413);
});

test('the stream pages by cursor over more than two pages with every filter, in ascending id order', async (t) => {
  const { owner, project } = await setup();
  await createCollection(owner, project.id, 'events');
  const c = client(2, owner.token, project.id);
  // Three generations of items, told apart by created_at/updated_at set directly.
  await ok(c.post('events', { items: Array.from({ length: 30 }, (_, i) => ({ key: `old-${String(i).padStart(2, '0')}`, value: `${i}` })) }));
  await ok(c.post('events', { items: Array.from({ length: 30 }, (_, i) => ({ key: `mid-${String(i).padStart(2, '0')}`, value: `${i}` })) }));
  await ok(c.post('events', { items: Array.from({ length: 30 }, (_, i) => ({ key: `new-${String(i).padStart(2, '0')}`, value: `${i}` })) }));
  await s.sql`update app.items set created_at = '2024-01-01T00:00:00Z', updated_at = '2024-06-01T00:00:00Z' where key like 'old-%'`;
  await s.sql`update app.items set created_at = '2025-01-01T00:00:00Z', updated_at = '2025-06-01T00:00:00Z' where key like 'mid-%'`;
  await s.sql`update app.items set created_at = '2026-01-01T00:00:00Z', updated_at = '2026-06-01T00:00:00Z' where key like 'new-%'`;

  async function all(query: string): Promise<{ keys: string[]; pages: number }> {
    const keys: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await c.get(`events?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      t.is(res.status, 200, await res.clone().text());
      const page = (await res.json()) as Page;
      keys.push(...page.items.map((i) => i.key));
      cursor = page.cursor;
      pages++;
      if (cursor) t.is(page.items.length, Number(new URLSearchParams(query).get('limit') ?? 1000));
    } while (cursor && pages < 100);
    return { keys, pages };
  }
  const range = (prefix: string, from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `${prefix}-${String(from + i).padStart(2, '0')}`);

  let r = await all('limit=7');
  t.deepEqual(r.keys, [...range('old', 0, 30), ...range('mid', 0, 30), ...range('new', 0, 30)]);
  t.is(r.pages, 13);

  r = await all('limit=4&key=mid-*');
  t.deepEqual(r.keys, range('mid', 0, 30));
  t.true(r.pages > 2);

  r = await all('limit=8&created_after=2025-01-01T00:00:00Z');
  t.deepEqual(r.keys, [...range('mid', 0, 30), ...range('new', 0, 30)]);
  t.true(r.pages > 2);

  r = await all('limit=8&created_before=2025-01-01T00:00:00%2B00:00');
  t.deepEqual(r.keys, range('old', 0, 30));
  t.true(r.pages > 2);

  r = await all('limit=5&updated_after=2025-06-01T00:00:00Z&updated_before=2026-06-01T00:00:00Z');
  t.deepEqual(r.keys, range('mid', 0, 30));
  // 30 items in pages of 5: the sixth ends on the last match and carries no cursor to an empty seventh.
  t.is(r.pages, 6);

  r = await all('limit=3&key=new-1*&created_after=2026-01-01T00:00:00Z&created_before=2027-01-01T00:00:00Z&updated_after=2026-01-01T00:00:00Z&updated_before=2027-01-01T00:00:00Z');
  t.deepEqual(r.keys, range('new', 10, 20));
  t.true(r.pages > 2);

  // A page that ends exactly at the last item carries no cursor.
  const exact = (await ok(c.get('events?limit=90'))) as Page;
  t.is(exact.items.length, 90);
  t.is(exact.cursor, null);
  const beyond = (await ok(c.get('events?limit=100000'))) as Page;
  t.is(beyond.items.length, 90);
});

test('stream query parameters: unknown, malformed dates, limits and cursors are 400', async (t) => {
  const { owner, project } = await setup();
  await createCollection(owner, project.id, 'events');
  const c = client(1, owner.token, project.id);
  for (const q of [
    'foo=1',
    'limit=0',
    'limit=-1',
    'limit=ten',
    'limit=1.5',
    'cursor=%%%',
    'cursor=bm90LWEtbnVtYmVy',
    'created_after=2024-01-01',
    'created_after=yesterday',
    'created_before=2024-13-45T00:00:00Z',
    'updated_after=2024-02-30T00:00:00Z',
    'updated_before=2024-01-01T00:00:00',
    'key=a&key=b',
  ]) {
    const res = await c.get(`events?${q}`);
    t.is(res.status, 400, q);
    t.is(((await res.json()) as { error: string }).error, 'bad_request', q);
  }
  t.is((await c.get(`events?project_id=${project.id}`)).status, 200);
  // v2 has no project_id query parameter: the path names the project.
  t.is((await client(2, owner.token, project.id).get(`events?project_id=${project.id}`)).status, 400);
});

test('key patterns: * is the only wildcard; _, % and \\ match themselves', async (t) => {
  const { owner, project } = await setup();
  await createCollection(owner, project.id, 'keys');
  const c = client(1, owner.token, project.id);
  const keys = ['a_b', 'axb', 'a%b', 'azzb', 'a\\b', 'ab', 'A_B', 'a_b_c'];
  await ok(c.post('keys', { items: keys.map((key) => ({ key, value: key })) }));
  const match = async (pattern: string) =>
    ((await ok(c.get(`keys?key=${encodeURIComponent(pattern)}`))) as Page).items.map((i) => i.key);
  t.deepEqual(await match('a_b'), ['a_b']);
  t.deepEqual(await match('a%b'), ['a%b']);
  t.deepEqual(await match('a\\b'), ['a\\b']);
  t.deepEqual(await match('a*b'), ['a_b', 'axb', 'a%b', 'azzb', 'a\\b', 'ab']);
  t.deepEqual(await match('a_*'), ['a_b', 'a_b_c']);
  t.deepEqual(await match('*_*'), ['a_b', 'A_B', 'a_b_c']);
  t.deepEqual(await match('*'), keys);
  t.deepEqual(await match('A*'), ['A_B']);

  t.deepEqual(await (await c.del(`keys?key=${encodeURIComponent('a_*')}`)).json(), { key: 'a_*', deleted: 2, error: null });
  t.deepEqual(await (await c.del(`keys?key=${encodeURIComponent('a%b')}`)).json(), { key: 'a%b', deleted: 1, error: null });
  t.deepEqual(await keysIn('keys', project.id), ['axb', 'azzb', 'a\\b', 'ab', 'A_B']);
});

test('v1: a collection the token cannot reach is 404; v2: a project it may not use is 403; a viewer cannot write', async (t) => {
  const { owner, project } = await setup();
  await createCollection(owner, project.id, 'secret');
  await ok(client(1, owner.token, project.id).put('secret/k', { value: 'v' }));
  const stranger = await createTestUser(s);
  const strangers = await createTestProject(s, stranger);
  const strangerRun = await createTestRun(s, stranger, strangers.id);

  for (const token of [stranger.token, strangerRun.token]) {
    for (const [method, path] of [
      ['GET', '/collections/secret/k'],
      ['GET', '/collections/secret'],
      ['PUT', '/collections/secret/k'],
      ['POST', '/collections/secret'],
      ['DELETE', '/collections/secret/k'],
      ['DELETE', '/collections/secret'],
    ] as const) {
      const json = method === 'PUT' ? { value: 'x' } : method === 'POST' ? { items: [{ key: 'k', value: 'x' }] } : undefined;
      const v1 = await s.request(`${path}${method === 'GET' ? '' : ''}`, { method, token, json });
      t.is(v1.status, 404, `${method} ${path}`);
      t.is(((await v1.json()) as { error: string }).error, 'not_found');
      const v2path = path.replace('/collections/', `/collections/${project.id}/`);
      const v2 = await s.request(v2path, { method, token, json, headers: { 'x-api-version': '2' } });
      t.is(v2.status, 403, `v2 ${method} ${path}`);
      // Naming the project on v1 does not help either.
      const named = await s.request(`${path}?project_id=${project.id}`, { method, token, json });
      t.is(named.status, 404, `v1 ?project_id ${method} ${path}`);
    }
  }
  t.deepEqual(await keysIn('secret', project.id), ['k']);
  const value = await s.sql`select i.value from app.items i join app.collections c on c.id = i.collection_id where c.project_id = ${project.id}`;
  t.is(value[0]!.value, 'v');

  const viewer = await createTestUser(s);
  await addMember(s, owner, project.id, viewer, 'viewer');
  t.is((await s.request('/collections/secret/k', { token: viewer.token })).status, 200);
  const put = await s.request('/collections/secret/k', { method: 'PUT', token: viewer.token, json: { value: 'no' } });
  t.is(put.status, 403);
  const del = await s.request(`/collections/${project.id}/secret`, { method: 'DELETE', token: viewer.token, headers: { 'x-api-version': '2' } });
  t.is(del.status, 403);

  // No token at all.
  t.is((await s.request('/collections/secret/k')).status, 401);
  // A name that exists nowhere, and v2 paths with a malformed project id.
  t.is((await s.request('/collections/nowhere/k', { token: owner.token })).status, 404);
  t.is((await s.request(`/collections/${project.id}/nowhere/k`, { token: owner.token, headers: { 'x-api-version': '2' } })).status, 404);
  t.is((await s.request('/collections/not-a-uuid/secret/k', { token: owner.token, headers: { 'x-api-version': '2' } })).status, 404);
  // v1 has no three-segment routes, v2 no one-segment ones.
  t.is((await s.request('/collections/a/b/c', { token: owner.token })).status, 404);
  t.is((await s.request('/collections/secret', { token: owner.token, headers: { 'x-api-version': '2' } })).status, 404);
});

test('a query string that is not valid percent-encoded UTF-8 is 400, not a filter with a replacement character', async (t) => {
  const { owner, project } = await setup();
  await createCollection(owner, project.id, 'raw');
  const c = client(2, owner.token, project.id);
  await ok(c.put('raw/%EF%BF%BD', { value: 'replacement character' }));
  await ok(c.put('raw/50%25', { value: 'percent' }));
  const malformed = { error: 'bad_request', message: 'The query string is not valid percent-encoded UTF-8.' };
  // Before this was refused, ?key=%FF listed the item keyed U+FFFD and ?key=50% the one keyed "50%".
  for (const query of ['key=%FF', 'key=50%', 'key=%ED%A0%80', 'limit=1&key=%E0%A4']) {
    for (const [method, send] of [['GET', c.get], ['DELETE', c.del]] as const) {
      const res = await send(`raw?${query}`);
      t.is(res.status, 400, `${method} ${query}`);
      t.deepEqual(await res.json(), malformed, `${method} ${query}`);
    }
  }
  // Both items are still there, and each is found by its key spelled with valid escapes.
  t.deepEqual((await keysIn('raw', project.id)).sort(), ['50%', '\uFFFD'].sort());
  t.deepEqual(((await ok(c.get('raw?key=%EF%BF%BD'))) as { items: Item[] }).items.map((i) => i.value), ['replacement character']);
  // Routes without query parameters refuse it the same way, before the token is looked at.
  const res = await s.request(`/api/projects/${project.id}/collections/raw/download?x=%FF`);
  t.deepEqual([res.status, await res.json()], [400, malformed]);
});

test('keys with URL-encoded characters round-trip through the path', async (t) => {
  const { owner, project } = await setup();
  await createCollection(owner, project.id, 'odd');
  const c = client(2, owner.token, project.id);
  const key = 'a b/c?d#é';
  await ok(c.put(`odd/${encodeURIComponent(key)}`, { value: 'v' }));
  t.deepEqual(await keysIn('odd', project.id), [key]);
  t.is(((await ok(c.get(`odd/${encodeURIComponent(key)}`))) as Item).key, key);
  t.deepEqual(await (await c.del(`odd/${encodeURIComponent(key)}`)).json(), { key, deleted: 1, error: null });
});

test('a path that is not valid percent-encoded UTF-8 is 400, not a key spelled with its escapes', async (t) => {
  const { owner, project } = await setup();
  await createCollection(owner, project.id, 'raw');
  const c = client(2, owner.token, project.id);
  const malformed = { error: 'bad_request', message: 'The request path is not valid percent-encoded UTF-8.' };
  // %FF%FE is not UTF-8, %ED%A0%80 encodes a lone surrogate, %E0%A4 is cut short, %G1 is no escape at all.
  for (const key of ['%FF%FE', '%ED%A0%80', '%E0%A4', '%G1', 'ok%']) {
    const put = await c.put(`raw/${key}`, { value: 'v' });
    t.is(put.status, 400, key);
    t.deepEqual(await put.json(), malformed, key);
  }
  t.deepEqual(await keysIn('raw', project.id), []);
  // Refused before authentication and routing: the same answer without a token, or on no route at all.
  for (const path of ['/collections/raw/%FF', '/nowhere/%FF']) {
    const res = await s.request(path);
    t.is(res.status, 400, path);
    t.deepEqual(await res.json(), malformed, path);
  }
  // The escaped spelling is an ordinary key named with its percent signs.
  await ok(c.put('raw/%25FF%25FE', { value: 'v' }));
  t.deepEqual(await keysIn('raw', project.id), ['%FF%FE']);
});

test('a database set to another time zone, date style, string syntax and search_path changes nothing on the wire', async (t) => {
  // A DBA's ALTER DATABASE … SET reaches every new session, sandbar's included.
  const local = await startTestServer({}, async (d) => {
    await d.sql.unsafe(`alter database ${d.name} set timezone = 'Asia/Kolkata'`);
    await d.sql.unsafe(`alter database ${d.name} set datestyle = 'SQL, DMY'`);
    await d.sql.unsafe(`alter database ${d.name} set standard_conforming_strings = off`);
    // Without the schema the citext extension lives in (public here); adding a member was 500.
    await d.sql.unsafe(`alter database ${d.name} set search_path = app`);
  });
  t.teardown(() => local.stop());
  const settings = await local.sql`select unnest(setconfig) as setting from pg_db_role_setting where setdatabase = (select oid from pg_database where datname = current_database())`;
  t.deepEqual(settings.map((r) => r.setting).sort(), ['DateStyle=SQL, DMY', 'TimeZone=Asia/Kolkata', 'search_path=app', 'standard_conforming_strings=off']);

  const owner = await createTestUser(local);
  const project = await createTestProject(local, owner);
  const member = await createTestUser(local, { email: `Mixed-${Date.now()}@Example.test` });
  // citext: found whatever the case the email is given in.
  const added = await local.request(`/api/projects/${project.id}/members`, { method: 'POST', token: owner.token, json: { email: member.email.toLowerCase(), role: 'viewer' } });
  t.is(added.status, 201, await added.clone().text());
  await ok(local.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'zoned' } }));
  await ok(local.request('/collections/zoned/k', { method: 'PUT', token: owner.token, json: { value: 'v' } }));
  // Read as epoch milliseconds: a helper session opened after the ALTER would parse a timestamp in 'SQL, DMY'.
  const [row] = await local.sql`select floor(extract(epoch from created_at) * 1000)::float8 as ms from app.items where key = 'k'`;

  const one = (await ok(local.request('/collections/zoned/k', { token: owner.token }))) as Item;
  const page = (await ok(local.request('/collections/zoned', { token: owner.token }))) as Page;
  const download = (await ok(local.request(`/api/projects/${project.id}/collections/zoned/download`, { token: owner.token }))) as Item[];
  for (const item of [one, page.items[0]!, download[0]!]) {
    t.regex(item.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
    t.is(Date.parse(item.created), row!.ms);
    t.is(item.updated, item.created);
  }
  // Key patterns go through app.key_pattern_to_like, whose body PostgreSQL parses in the session.
  const matched = (await ok(local.request('/collections/zoned?key=k*', { token: owner.token }))) as Page;
  t.deepEqual(matched.items.map((i) => i.key), ['k']);
  t.deepEqual(await ok(local.request('/collections/zoned?key=k*', { method: 'DELETE', token: owner.token })), { key: 'k*', deleted: 1, error: null });
  // Timestamps Node parses and serialises: a project's, in the answer that also proves the token was accepted.
  const listed = (await ok(local.request('/api/projects', { token: owner.token }))) as { projects: Array<{ id: string; created_at: string }> };
  const [stored] = await local.sql`select floor(extract(epoch from created_at) * 1000)::float8 as ms from app.projects where id = ${project.id}`;
  t.is(listed.projects.find((p) => p.id === project.id)?.created_at, new Date(stored!.ms as number).toISOString());
});

test('a write to a database that takes none is 503 database_read_only with Retry-After; reads go on', async (t) => {
  const local = await startTestServer();
  t.teardown(() => local.stop());
  const owner = await createTestUser(local);
  const project = await createTestProject(local, owner);
  await ok(local.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'frozen' } }));
  await ok(local.request('/collections/frozen/k', { method: 'PUT', token: owner.token, json: { value: 'v' } }));

  /**
   * Changes the database setting for new sessions and ends the service's sessions, so that its
   * pools reconnect into it; waits (up to 5 s) for each to exit, so no write lands on an old one.
   */
  const reconnectWith = async (change: string) => {
    await local.sql.unsafe(`alter database ${local.name} ${change}`);
    await local.sql`select pg_terminate_backend(pid, 5000) from pg_stat_activity
                     where datname = current_database() and application_name in ('sandbar', 'sandbar-long')`;
  };
  // What a standby, or a database put in maintenance, looks like to new sessions.
  await reconnectWith('set default_transaction_read_only = on');
  const refused = await until('a write refused as read-only', 10_000, async () => {
    const res = await local.request('/collections/frozen/k', { method: 'PUT', token: owner.token, json: { value: 'w' } });
    const body = (await res.json()) as { error: string };
    // While the pools reconnect a request may meet an ended session (503 database_unavailable).
    return body.error === 'database_unavailable' ? undefined : { status: res.status, retryAfter: res.headers.get('retry-after'), body };
  });
  t.deepEqual(refused, {
    status: 503,
    retryAfter: '1',
    body: { error: 'database_read_only', message: 'The database takes no writes right now; try again shortly.' },
  });
  t.deepEqual(((await ok(local.request('/collections/frozen/k', { token: owner.token }))) as Item).value, 'v');

  // The token's last use could not be recorded meanwhile; it is kept and recorded once writes return.
  const usedAt = async () => (await local.sql`select count(*)::int as n from app.access_tokens where last_used_at is not null`)[0]!.n as number;
  await local.service.auth.flushLastUsed();
  t.is(await usedAt(), 0);
  await reconnectWith('reset default_transaction_read_only');
  await until('the last use to be recorded', 10_000, async () => {
    await local.service.auth.flushLastUsed();
    return (await usedAt()) === 1 ? true : undefined;
  });
});
