// The published @openfn/language-collections adaptor, unchanged, against the real server.
// The adaptor caches its undici client in a module-level variable (bound to the first
// endpoint's origin), so this file runs ONE server for all its tests, serially.
import { collections } from '@openfn/language-collections';
import test from 'ava';
import { createTestProject, createTestRun, createTestUser, ok, type TestProject, type TestUser } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
let owner: TestUser;
let project: TestProject;
let runToken: string;

interface State {
  configuration: { collections_endpoint: string; collections_token: string };
  data: any;
}

test.before(async () => {
  // The adaptor narrates every request on console.log; keep the test output readable.
  const log = console.log.bind(console);
  console.log = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('Collections:')) return;
    log(...args);
  };
  s = await startTestServer();
  owner = await createTestUser(s);
  project = await createTestProject(s, owner);
  runToken = (await createTestRun(s, owner, project.id)).token;
  for (const name of ['patients', 'visits']) {
    await ok(s.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: owner.token, json: { name } }));
  }
});
test.after.always(() => s?.stop());

const state = (token: string): State => ({
  configuration: { collections_endpoint: `${s.url}/collections`, collections_token: token },
  data: {},
});

async function rows(name: string): Promise<Array<{ key: string; value: string }>> {
  return (await s.sql`
    select i.key, i.value from app.items i join app.collections c on c.id = i.collection_id
     where c.project_id = ${project.id} and c.name = ${name} order by i.id`) as unknown as Array<{ key: string; value: string }>;
}

for (const kind of ['run token', 'personal token'] as const) {
  const name = kind === 'run token' ? 'patients' : 'visits';
  const token = () => (kind === 'run token' ? runToken : owner.token);

  test.serial(`with a ${kind}: set 2,500 items (batches of 1000), get, get by pattern, each with a cursor, remove`, async (t) => {
    const patients = Array.from({ length: 2500 }, (_, i) => ({ id: `p-${String(i).padStart(4, '0')}`, n: i, tags: ['a', 'b'] }));
    await collections.set(name, (p: { id: string }) => p.id, patients)(state(token()));
    const stored = await rows(name);
    t.is(stored.length, 2500);
    t.deepEqual(stored.slice(0, 2).map((r) => [r.key, JSON.parse(r.value)]), [
      ['p-0000', patients[0]],
      ['p-0001', patients[1]],
    ]);

    // get one key: the adaptor JSON-parses `value`.
    let st = await collections.get(name, 'p-0042')(state(token()));
    t.deepEqual(st.data, patients[42]);
    // A missing key is 204, which the adaptor turns into {}.
    st = await collections.get(name, 'nope')(state(token()));
    t.deepEqual(st.data, {});

    // get with a pattern: streams every page (limit 1000) until the cursor is null.
    st = await collections.get(name, 'p-1*')(state(token()));
    t.is(st.data.length, 1000);
    t.deepEqual(st.data.map((d: { key: string }) => d.key), patients.slice(1000, 2000).map((p) => p.id));
    t.deepEqual(st.data[5].value, patients[1005]);

    // A limited get stops early and hands back the cursor …
    st = await collections.get(name, { key: 'p-*', limit: 1500 })(state(token()));
    t.is(st.data.length, 1500);
    t.is(typeof st.data.cursor, 'string');
    // … which each() resumes from, following later cursors across pages of 300.
    const seen: string[] = [];
    st = await collections.each(name, { key: 'p-*', cursor: st.data.cursor, pageSize: 300 }, (_s: unknown, value: { id: string }, key: string) => {
      t.is(value.id, key);
      seen.push(key);
    })(state(token()));
    t.deepEqual(seen, patients.slice(1500).map((p) => p.id));
    t.falsy(st.data.cursor);

    // each with date filters (the adaptor passes them through).
    const everything: string[] = [];
    await collections.each(name, { key: '*', created_after: '2000-01-01T00:00:00Z', pageSize: 1000 }, (_s: unknown, _v: unknown, key: string) => {
      everything.push(key);
    })(state(token()));
    t.is(everything.length, 2500);

    // remove one key, then by pattern.
    await collections.remove(name, 'p-0000')(state(token()));
    t.is((await rows(name)).length, 2499);
    t.false((await rows(name)).some((r) => r.key === 'p-0000'));
    await collections.remove(name, 'p-1*')(state(token()));
    const left = await rows(name);
    t.is(left.length, 1499);
    t.false(left.some((r) => r.key.startsWith('p-1')));
    await collections.remove(name, '*')(state(token()));
    t.is((await rows(name)).length, 0);
  });
}

test.serial('the adaptor reports a collection that does not exist as COLLECTION_NOT_FOUND', async (t) => {
  const error = await t.throwsAsync(collections.get('no-such-collection', 'k')(state(runToken)));
  t.is((error as Error & { code?: string }).code, 'COLLECTION_NOT_FOUND');
});
