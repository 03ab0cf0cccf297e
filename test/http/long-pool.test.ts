/**
 * Long work (streams, merges, batched deletes) takes one of the long pool's slots and
 * waits for one at most SANDBAR_LONG_QUEUE_TIMEOUT_MS; then the request is refused
 * with 503 busy and Retry-After, instead of queueing behind slow readers for as long
 * as they take. Here the long pool has one connection and the wait is short.
 */
import test, { type ExecutionContext } from 'ava';
import { createFilledCollection, createTestProject, createTestUser, type TestProject, type TestUser } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { until } from '../helpers/poll.ts';

let s: TestServer;
let owner: TestUser;
let project: TestProject;

test.before(async () => {
  s = await startTestServer({ SANDBAR_DB_LONG_POOL_MAX: '1', SANDBAR_LONG_QUEUE_TIMEOUT_MS: '300' });
  owner = await createTestUser(s);
  project = await createTestProject(s, owner);
  // ~20 MB of JSON: far more than the socket buffers hold, so an unread download stays open.
  await createFilledCollection(s, owner, project.id, 'big', 40_000, 16);
});
test.after.always(() => s?.stop());

const download = () => `/api/projects/${project.id}/collections/big/download`;
const waiting = () => s.service.db.stats().waitingForLong;
/** The two long-pool gauges as /metrics shows them. */
async function longGauges(): Promise<string[]> {
  const text = await (await s.request('/metrics')).text();
  return text.split('\n').filter((l) => /^sandbar_db_long_(slots_held|waiting) /.test(l));
}

/** A download that has read one chunk and stops: backpressure keeps the stream, and its slot, open. */
async function slowReader(t: ExecutionContext) {
  const holder = new AbortController();
  const held = await s.request(download(), { token: owner.token, signal: holder.signal });
  t.is(held.status, 200);
  const reader = held.body!.getReader();
  await reader.read();
  return { holder, reader };
}

test.serial('while a slow reader holds the only long slot, other long work is refused with 503 busy, then served again', async (t) => {
  const { holder, reader } = await slowReader(t);

  for (const [method, path] of [
    ['GET', download()],
    ['GET', '/collections/big'],
    ['DELETE', '/collections/big?key=nothing-*'],
    ['DELETE', `/api/projects/${project.id}/collections/big`],
  ] as const) {
    const res = await s.request(path, { method, token: owner.token });
    t.is(res.status, 503, `${method} ${path}`);
    t.is(res.headers.get('retry-after'), '1');
    t.deepEqual(await res.json(), {
      error: 'busy',
      message: 'Too many streams, merges or large deletes are running; try again.',
    });
  }
  t.is(waiting(), 0);
  t.deepEqual(await longGauges(), ['sandbar_db_long_slots_held 1', 'sandbar_db_long_waiting 0']);
  // Point queries use the hot pool and are not held up.
  t.is((await s.request('/collections/big/key-1', { token: owner.token })).status, 200);

  holder.abort();
  await reader.read().catch(() => undefined);
  // The slot comes back when the stream is torn down; the next download gets it.
  const res = await until('the long slot to come free', 10_000, async () => {
    const r = await s.request(download(), { token: owner.token });
    if (r.status === 503) {
      await r.arrayBuffer();
      return undefined;
    }
    return r;
  });
  t.is(res.status, 200);
  t.is(((await res.json()) as unknown[]).length, 40_000);
  await until('the slot to be given back', 10_000, async () => ((await longGauges())[0] === 'sandbar_db_long_slots_held 0' ? true : undefined));
  t.deepEqual(await longGauges(), ['sandbar_db_long_slots_held 0', 'sandbar_db_long_waiting 0']);
});

test.serial('long work that gets the slot within the deadline is served: three deletes at once on one slot all succeed', async (t) => {
  // Three deletes of nothing queue for the one slot behind each other and all succeed.
  const results = await Promise.all(
    [0, 1, 2].map(() => s.request('/collections/big?key=absent-*', { method: 'DELETE', token: owner.token }).then(async (r) => [r.status, await r.json()])),
  );
  t.deepEqual(results, [0, 1, 2].map(() => [200, { key: 'absent-*', deleted: 0, error: null }]));
});

test.serial('a stream whose session the server ends gives its slot back, and the pool serves long work again', async (t) => {
  // A failover, a DBA's pg_terminate_backend, or a transaction_timeout, while a download waits on its reader.
  const { holder, reader } = await slowReader(t);
  const [ended] = await s.sql`select count(pg_terminate_backend(pid, 5000))::int as n from pg_stat_activity
                               where datname = current_database() and application_name = 'sandbar-long'`;
  t.is(ended!.n, 1);
  holder.abort();
  await reader.read().catch(() => undefined);
  await until('the slot to be given back', 10_000, async () => ((await longGauges())[0] === 'sandbar_db_long_slots_held 0' ? true : undefined));

  // The pool's one long connection was the ended one: the next long work must get a live one.
  for (const path of ['/collections/big?limit=2', download()]) {
    const res = await s.request(path, { token: owner.token, signal: AbortSignal.timeout(15_000) });
    t.is(res.status, 200, path);
    await res.arrayBuffer();
  }
  t.deepEqual(await longGauges(), ['sandbar_db_long_slots_held 0', 'sandbar_db_long_waiting 0']);
});

test('long-pool sessions plan every execution for its own parameters (plan_cache_mode)', async (t) => {
  // A generic plan, made for the average collection, read and sorted a whole 100k-item collection
  // for each page in half the bench runs; see src/db/db.ts.
  const [long] = await s.service.db.long`show plan_cache_mode`;
  const [hot] = await s.service.db.sql`show plan_cache_mode`;
  t.deepEqual([long!.plan_cache_mode, hot!.plan_cache_mode], ['force_custom_plan', 'auto']);
});
