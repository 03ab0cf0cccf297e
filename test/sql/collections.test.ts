import test from 'ava';
import postgres from 'postgres';
import { deleteItem, resolveCollectionByName, resolveCollectionInProject, streamItems } from '../../sql/collections.queries.ts';
import { BATCH_BYTES, BATCH_ROWS } from '../../src/collections/stream.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { until } from '../helpers/poll.ts';

let d: TestDatabase;
test.before(async () => {
  d = await createTestDatabase();
});
test.after.always(() => d?.drop());

async function project(sql: postgres.Sql): Promise<string> {
  const [p] = await sql`insert into app.projects (name) values ('p') returning id`;
  return p!.id as string;
}
async function collection(sql: postgres.Sql, projectId: string, name: string): Promise<string> {
  const [c] = await sql`insert into app.collections (project_id, name) values (${projectId}, ${name}) returning id`;
  return c!.id as string;
}
async function stats(sql: postgres.Sql, collectionId: string) {
  const [s] = await sql`select item_count::int, byte_size::int from app.collection_stats where collection_id = ${collectionId}`;
  const [real] = await sql`
    select count(*)::int as item_count, coalesce(sum(octet_length(key) + octet_length(value)), 0)::int as byte_size
      from app.items where collection_id = ${collectionId}`;
  return { kept: { ...s }, real: { ...real } };
}

test('the unique (project_id, name) index allows a name in two projects and refuses it twice in one (23505)', async (t) => {
  const a = await project(d.sql);
  const b = await project(d.sql);
  await collection(d.sql, a, 'patients');
  await collection(d.sql, b, 'patients');
  const error = await t.throwsAsync(collection(d.sql, a, 'patients'));
  t.is((error as unknown as { code: string }).code, '23505');
  t.is((error as unknown as { constraint_name: string }).constraint_name, 'collections_project_id_name_key');
  const [n] = await d.sql`select count(*)::int as n from app.collections where name = 'patients'`;
  t.is(n!.n, 2);
});

test('a collection name must be a URL-safe slug of 1 to 255 characters (23514)', async (t) => {
  const p = await project(d.sql);
  for (const name of ['', 'Upper', 'two words', 'a/b', '-a', 'a-', 'a'.repeat(256)]) {
    const error = await t.throwsAsync(collection(d.sql, p, name));
    t.is((error as unknown as { code: string }).code, '23514', name);
  }
});

test('item_count and byte_size follow inserts, upserts, updates and deletes, per collection, without a scan', async (t) => {
  const p = await project(d.sql);
  const c1 = await collection(d.sql, p, 'one');
  const c2 = await collection(d.sql, p, 'two');
  t.deepEqual((await stats(d.sql, c1)).kept, { item_count: 0, byte_size: 0 });

  await d.sql`select app.upsert_items(${c1}, ${['a', 'bb', 'é']}::text[], ${['1', '22', '😀']}::text[])`;
  await d.sql`select app.upsert_items(${c2}, ${['x']}::text[], ${['xyz']}::text[])`;
  let s1 = await stats(d.sql, c1);
  t.deepEqual(s1.kept, s1.real);
  t.deepEqual(s1.kept, { item_count: 3, byte_size: 1 + 1 + 2 + 2 + 2 + 4 });

  // An upsert that replaces some and adds others.
  await d.sql`select app.upsert_items(${c1}, ${['a', 'new']}::text[], ${['longer value', 'n']}::text[])`;
  s1 = await stats(d.sql, c1);
  t.deepEqual(s1.kept, s1.real);
  t.is(s1.kept.item_count, 4);

  // Plain UPDATE and DELETE statements, as other domains may run them.
  await d.sql`update app.items set value = value || value where collection_id = ${c1}`;
  s1 = await stats(d.sql, c1);
  t.deepEqual(s1.kept, s1.real);
  await d.sql`delete from app.items where collection_id = ${c1} and key in ('a', 'é')`;
  s1 = await stats(d.sql, c1);
  t.deepEqual(s1.kept, s1.real);
  t.is(s1.kept.item_count, 2);
  const s2 = await stats(d.sql, c2);
  t.deepEqual(s2.kept, { item_count: 1, byte_size: 4 });

  // A multi-collection statement.
  await d.sql`delete from app.items where project_id = ${p}`;
  t.deepEqual((await stats(d.sql, c1)).kept, { item_count: 0, byte_size: 0 });
  t.deepEqual((await stats(d.sql, c2)).kept, { item_count: 0, byte_size: 0 });
});

test('deleting a collection deletes its items (and its stats row goes with it)', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'doomed');
  await d.sql`select app.upsert_items(${c}, ${['a', 'b']}::text[], ${['1', '2']}::text[])`;
  await d.sql`delete from app.collections where id = ${c}`;
  const [n] = await d.sql`select count(*)::int as n from app.items where collection_id = ${c}`;
  t.is(n!.n, 0);
  t.is((await d.sql`select 1 from app.collection_stats where collection_id = ${c}`).length, 0);
});

test('app.upsert_items raises SB404 for a missing collection and SB422 duplicate_key for a key twice in one call', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'items');
  const missing = await t.throwsAsync(d.sql`select app.upsert_items(gen_random_uuid(), ${['a']}::text[], ${['1']}::text[])`);
  t.like(missing as unknown as object, { code: 'SB404', message: 'not_found' });
  const dup = await t.throwsAsync(d.sql`select app.upsert_items(${c}, ${['a', 'b', 'a']}::text[], ${['1', '2', '3']}::text[])`);
  t.like(dup as unknown as object, { code: 'SB422', message: 'duplicate_key', detail: 'Duplicate key found' });
  const [n] = await d.sql`select count(*)::int as n from app.items where collection_id = ${c}`;
  t.is(n!.n, 0);
  const tooLong = await t.throwsAsync(d.sql`select app.upsert_items(${c}, ${['k'.repeat(256)]}::text[], ${['1']}::text[])`);
  t.is((tooLong as unknown as { code: string }).code, '23514');
});

test('key patterns: * is the only wildcard; %, _ and \\ are literal, whatever the session’s standard_conforming_strings', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['a*', 'abc', true],
    ['a_c', 'abc', false],
    ['a_c', 'a_c', true],
    ['a%', 'abc', false],
    ['a%', 'a%', true],
    ['a\\c', 'a\\c', true],
    ['a\\*', 'a\\zz', true],
    ['*', '', true],
    ['A*', 'abc', false],
  ];
  // The function's body is parsed when a session first runs it, under that session's setting (a
  // database or role may be set to off); until migration 000016 its backslash literals failed to
  // parse there. A fresh session per setting, since a session keeps the body it parsed first.
  for (const setting of ['on', 'off']) {
    const session = postgres(d.url, { max: 1, onnotice: () => undefined, connection: { standard_conforming_strings: setting } });
    try {
      for (const [pattern, key, expected] of cases) {
        const [row] = await session`select ${key}::text like app.key_pattern_to_like(${pattern}) as matches`;
        t.is(row!.matches, expected, `standard_conforming_strings ${setting}: ${pattern} ~ ${key}`);
      }
    } finally {
      await session.end();
    }
  }
});

test('app.delete_collection_items deletes in batches after an id and reports the last candidate', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'batches');
  await d.sql`insert into app.items (collection_id, project_id, key, value) select ${c}, ${p}, 'k' || g, 'v' from generate_series(1, 25) g`;
  let after = '0';
  const sizes: number[] = [];
  for (;;) {
    const [r] = await d.sql`select deleted, last_id from app.delete_collection_items(${c}, 'k1*', null, null, null, null, ${after}, 4)`;
    if (r!.last_id === null) break;
    sizes.push(r!.deleted as number);
    after = r!.last_id as string;
  }
  // k1, k10..k19 = 11 keys, in batches of 4.
  t.deepEqual(sizes, [4, 4, 3]);
  const left = await d.sql`select key from app.items where collection_id = ${c} and key like 'k1%'`;
  t.is(left.length, 0);
  const s = await stats(d.sql, c);
  t.deepEqual(s.kept, { item_count: 14, byte_size: s.real.byte_size });
});

test('app.delete_collection_items refuses a null p_after_id and a p_batch that is null or below 1 (22023), deleting nothing', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'bad-batches');
  await d.sql`insert into app.items (collection_id, project_id, key, value) select ${c}, ${p}, 'k' || g, 'v' from generate_series(1, 5) g`;
  // Each of these answered "0 deleted, last_id null" (a caller's loop ends: done) or, for null p_batch, deleted everything at once.
  const cases: Array<[string | null, number | null, string]> = [
    [null, 10, 'p_after_id must not be null'],
    ['0', 0, 'p_batch must be at least 1, not 0'],
    ['0', -1, 'p_batch must be at least 1, not -1'],
    ['0', null, 'p_batch must be at least 1, not null'],
  ];
  for (const [after, batch, message] of cases) {
    const error = await t.throwsAsync(d.sql`select * from app.delete_collection_items(${c}, null, null, null, null, null, ${after}::bigint, ${batch}::int)`);
    t.like(error as unknown as object, { code: '22023', message }, `${after}, ${batch}`);
  }
  t.deepEqual([...(await d.sql`select count(*)::int as n from app.items where collection_id = ${c}`)], [{ n: 5 }]);
  // A collection that does not exist is still an ordinary empty answer.
  t.deepEqual([...(await d.sql`select deleted, last_id from app.delete_collection_items(gen_random_uuid(), null, null, null, null, null, 0, 10)`)], [
    { deleted: 0, last_id: null },
  ]);
});

/** A connection of its own (max 1, so `begin` … `commit` stay on it), and its backend pid. */
async function session(): Promise<{ sql: postgres.Sql; pid: number }> {
  const sql = postgres(d.url, { max: 1, onnotice: () => undefined });
  const [{ pid }] = await sql<[{ pid: number }]>`select pg_backend_pid() as pid`;
  return { sql, pid };
}
/** What pgtyped's run() needs, on a connection of the test's choosing. */
function queryable(sql: postgres.Sql) {
  return { query: async (text: string, values: unknown[]) => ({ rows: await sql.unsafe(text, values as never[]), rowCount: 0 }) };
}
/** Runs `body` with `count` sessions of its own, and ends them however it ends. */
async function withSessions<T>(count: number, body: (...sessions: Awaited<ReturnType<typeof session>>[]) => Promise<T>): Promise<T> {
  const sessions = await Promise.all(Array.from({ length: count }, () => session()));
  try {
    return await body(...sessions);
  } finally {
    await Promise.all(sessions.map((s) => s.sql.end()));
  }
}
/** What a statement running in another session ends with: its result through `ok`, or the SQLSTATE it raised. */
function outcome<T, U>(statement: PromiseLike<T>, ok: (result: T) => U): Promise<U | string | undefined> {
  return Promise.resolve(statement).then(ok, (error: { code?: string }) => error.code);
}
function waitingOnLock(pid: number) {
  return until(`backend ${pid} to wait on a lock`, 10_000, async () => {
    const [row] = await d.sql`select wait_event_type = 'Lock' as w from pg_stat_activity where pid = ${pid}`;
    return row?.w === true ? true : undefined;
  });
}

test('app.upsert_items locks items in key order: batches sent in opposite orders queue instead of deadlocking', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'lock-order');
  await withSessions(2, async (a, b) => {
    await a.sql`begin`;
    await a.sql`select app.upsert_items(${c}, ${['k1']}, ${['a']})`;
    // b sends k2 before k1. In key order it waits for a's k1 holding nothing of the batch;
    // in the order sent it would hold k2 while it waits, and a's next write would close the cycle.
    const second = b.sql`select app.upsert_items(${c}, ${['k2', 'k1']}, ${['b', 'b']}) as n`.then((rows) => rows[0]!.n as number);
    await waitingOnLock(b.pid);
    await t.notThrowsAsync(a.sql`select app.upsert_items(${c}, ${['k2']}, ${['a']})`);
    await a.sql`commit`;
    t.is(await second, 2);
    const rows = await d.sql`select key, value from app.items where collection_id = ${c} order by key`;
    t.deepEqual(rows.map((r) => [r.key, r.value]), [['k1', 'b'], ['k2', 'b']]);
    const s = await stats(d.sql, c);
    t.deepEqual(s.kept, s.real);
  });
});

// Every way a collection is deleted: one (app.delete_collection, migration 000006), or many at
// once by a merge or a project deletion (migration 000009). With row locks alone a writer that
// arrives while the deletion waits joins the writers inside (FOR KEY SHARE) and goes ahead of
// it, and a stream of such writers kept it waiting for as long as they came (over 20 minutes).
const removals: ReadonlyArray<{
  what: string;
  remove: (sql: postgres.Sql, projectId: string, collectionId: string) => Promise<unknown>;
  result: unknown;
  /** The same call once more: there is nothing left to delete. */
  again: unknown;
}> = [
  {
    what: 'app.delete_collection',
    remove: (sql, _p, c) => sql`select app.delete_collection(${c}) as deleted`.then((rows) => rows.map((r) => ({ ...r }))),
    result: [{ deleted: true }],
    again: [{ deleted: false }],
  },
  {
    what: 'a merge (app.merge_sandbox)',
    remove: async (sql, p) => {
      const [sandbox] = await d.sql`insert into app.projects (name, parent_id) values ('sandbox', ${p}) returning id`;
      const rows = await sql`select action, name, item_count::int from app.merge_sandbox(${sandbox!.id}, ${p})`;
      return rows.map((r) => ({ ...r }));
    },
    // The count is the deleted row's, so it includes the item of the writer it waited for.
    result: [{ action: 'deleted', name: 'doomed', item_count: 1 }],
    again: [],
  },
  {
    what: 'a project deletion (app.delete_project)',
    remove: (sql, p) => sql`select app.delete_project(${p}) as deleted`.then((rows) => rows.map((r) => ({ ...r }))),
    result: [{ deleted: true }],
    again: [{ deleted: false }],
  },
];
for (const { what, remove, result, again } of removals) {
  test(`writers arriving while ${what} waits queue behind it instead of starving it, then get SB404`, async (t) => {
    const p = await project(d.sql);
    const c = await collection(d.sql, p, 'doomed');
    await withSessions(3, async (a, remover, b) => {
      await a.sql`begin`;
      await a.sql`select app.upsert_items(${c}, ${['early']}, ${['a']})`;
      const removal = remove(remover.sql, p, c);
      await waitingOnLock(remover.pid);
      const late = b.sql`select app.upsert_items(${c}, ${['late']}, ${['b']})`.then(
        () => 'written',
        (error: { code?: string; message?: string }) => `${error.code} ${error.message}`,
      );
      await waitingOnLock(b.pid);
      await a.sql`commit`;
      t.deepEqual(await removal, result);
      t.is(await late, 'SB404 not_found');
      const [left] = await d.sql`select count(*)::int as n from app.items where collection_id = ${c}`;
      t.is(left!.n, 0);
      // No advisory lock is left behind on any session.
      const locks = await d.sql`select pid from pg_locks where locktype = 'advisory' and pid in (${a.pid}, ${remover.pid}, ${b.pid})`;
      t.deepEqual([...locks], []);
      t.deepEqual(await remove(d.sql, p, c), again);
    });
  });
}

test('a project deletion and a merge into that project queue, never deadlock', async (t) => {
  // Found by a review of migration 000009: the deletion locked the collections first and the
  // project row last, while the merge's new collection holds the project row (its foreign key)
  // and its delete waits for a collection the deletion has locked. Ids fix the order: the
  // deletion locks 'doomed' before it waits for 'busy', which a writer holds.
  const p = await project(d.sql);
  const [sandbox] = await d.sql`insert into app.projects (name, parent_id) values ('sandbox', ${p}) returning id`;
  await d.sql`insert into app.collections (id, project_id, name) values
    ('00000000-0000-4000-8000-000000000001', ${p}, 'doomed'),
    ('ffffffff-ffff-4fff-bfff-fffffffffffe', ${p}, 'busy'),
    ('ffffffff-ffff-4fff-bfff-ffffffffffff', ${sandbox!.id}, 'busy')`;
  await d.sql`insert into app.collections (project_id, name) values (${sandbox!.id}, 'new-in-sandbox')`;
  await withSessions(3, async (writer, deleter, merger) => {
    await writer.sql`begin`;
    await writer.sql`select app.upsert_items('ffffffff-ffff-4fff-bfff-fffffffffffe', ${['k']}, ${['v']})`;
    const deletion = deleter.sql`select app.delete_project(${p}) as deleted`.then((rows) => rows[0]!.deleted as boolean);
    await waitingOnLock(deleter.pid);
    const merge = outcome(merger.sql`select * from app.merge_sandbox(${sandbox!.id}, ${p})`, () => 'merged');
    await waitingOnLock(merger.pid);
    await writer.sql`commit`;
    t.true(await deletion);
    // The merge waited for the deletion at the target's row and then found its target gone
    // (SB404 since migration 000015; a foreign-key violation, 23503, before), not a deadlock (40P01).
    t.is(await merge, 'SB404');
  });
});

test('a merge that only deletes collections and a deletion of its target queue, never deadlock', async (t) => {
  // Found by the review of migration 000014: a merge that creates nothing held no lock on the
  // target's row until its audit insert at the end. The deletion locked that row in between and
  // waited for the collection the merge was deleting; the merge's audit insert waited for the
  // row: 40P01. Since migration 000015 the merge takes the row (for key share) before any collection.
  const p = await project(d.sql);
  const [sandbox] = await d.sql`insert into app.projects (name, parent_id) values ('sandbox', ${p}) returning id`;
  const doomed = await collection(d.sql, p, 'doomed');
  await withSessions(3, async (writer, merger, deleter) => {
    await writer.sql`begin`;
    await writer.sql`select app.upsert_items(${doomed}, ${['k']}, ${['v']})`;
    const merge = outcome(merger.sql`select * from app.merge_sandbox(${sandbox!.id}, ${p})`, (rows) => rows.map((r) => `${r.action} ${r.name}`).join());
    await waitingOnLock(merger.pid);
    const deletion = outcome(deleter.sql`select app.delete_project(${p}) as deleted`, (rows) => rows[0]!.deleted as boolean);
    await waitingOnLock(deleter.pid);
    await writer.sql`commit`;
    // The merge came first, so it goes first; the deletion then deletes what is left.
    t.deepEqual([await merge, await deletion], ['deleted doomed', true]);
  });
  t.deepEqual([...(await d.sql`select id from app.projects where id in (${p}, ${sandbox!.id})`)], []);
});

test('a project deletion also locks a sandbox created under one of its sandboxes while it waited, and that sandbox\'s collections', async (t) => {
  // Found by the review of migration 000012: the tree was read in one statement, whose snapshot
  // predated a sandbox being created under a descendant. The statement waited for the descendant's
  // row, locked it, and never saw the new child, so the child and its collections were not locked
  // before the cascade (migration 000014 reads the tree again until nothing is new).
  const [owner] = await d.sql`insert into app.users (email) values ('tree-owner@example.com') returning id`;
  const [root] = await d.sql`select id from app.create_project('root', ${owner!.id})`;
  await collection(d.sql, root!.id, 'shared');
  const [mid] = await d.sql`select id from app.create_sandbox(${root!.id}, 'mid', ${owner!.id})`;
  const [midShared] = await d.sql`select id from app.collections where project_id = ${mid!.id} and name = 'shared'`;
  await withSessions(3, async (writer, creator, deleter) => {
    // A writer inside mid's collection, for the deletion to wait on once it has locked the tree.
    await writer.sql`begin`;
    await writer.sql`select app.upsert_items(${midShared!.id}, ${['k']}, ${['v']})`;
    // A sandbox of mid being created: the new row's foreign key holds mid's row until commit. Its
    // extra collection has the lowest id there is, so the deletion locks it before it waits.
    await creator.sql`begin`;
    const [leaf] = await creator.sql`select id from app.create_sandbox(${mid!.id}, 'leaf', ${owner!.id})`;
    await creator.sql`insert into app.collections (id, project_id, name) values ('00000000-0000-4000-8000-000000000000', ${leaf!.id}, 'early')`;
    const deletion = deleter.sql`select app.delete_project(${root!.id}) as deleted`.then((rows) => rows[0]!.deleted as boolean);
    await waitingOnLock(deleter.pid);
    await creator.sql`commit`;
    await until('the deletion to wait for the writer', 10_000, async () => {
      const [row] = await d.sql`select exists (select from pg_locks where pid = ${deleter.pid} and locktype = 'advisory' and not granted) as w`;
      return row!.w === true ? true : undefined;
    });
    const free = () => 'free';
    t.is(await outcome(d.sql`select from app.projects where id = ${leaf!.id} for key share nowait`, free), '55P03', 'the new sandbox is locked');
    t.is(
      await outcome(d.sql`select from app.collections where id = '00000000-0000-4000-8000-000000000000' for key share nowait`, free),
      '55P03',
      'so is its collection: writers queue behind the deletion',
    );
    await writer.sql`commit`;
    t.true(await deletion);
    t.deepEqual([...(await d.sql`select name from app.projects where id in (${root!.id}, ${mid!.id}, ${leaf!.id})`)], []);
  });
});

for (const [when, hold, holdsAdvisory] of [
  // The row alone, as a DBA's transaction might hold it: the locker gets the advisory lock (at
  // session level) and then waits for the row.
  ['holds the advisory lock and waits for the row', (sql: postgres.Sql, c: string) => sql`select from app.collections where id = ${c} for key share`, true],
  // A writer inside the collection holds the advisory lock shared: the locker waits for it.
  ['waits for the advisory lock', (sql: postgres.Sql, c: string) => sql`select app.upsert_items(${c}, ${['k']}, ${['a']})`, false],
] as const) {
  test(`app.lock_collections_for_deletion cancelled while it ${when} leaves no lock behind, and no warning`, async (t) => {
    const p = await project(d.sql);
    const c = await collection(d.sql, p, 'cancelled');
    const notices: string[] = [];
    const locker = postgres(d.url, { max: 1, onnotice: (n) => notices.push(`${n.severity}: ${n.message}`) });
    const [{ pid }] = await locker<[{ pid: number }]>`select pg_backend_pid() as pid`;
    t.teardown(() => locker.end());
    await withSessions(1, async (a) => {
      await a.sql`begin`;
      await hold(a.sql, c);
      const locking = outcome(locker`select app.lock_collections_for_deletion(${[c]})`, () => 'locked');
      await until(`the locker to wait, holding the advisory lock: ${holdsAdvisory}`, 10_000, async () => {
        const [row] = await d.sql`
          select exists (select from pg_locks where pid = ${pid} and locktype = 'advisory' and granted) as holds,
                 exists (select from pg_stat_activity where pid = ${pid} and wait_event_type = 'Lock') as waits`;
        return row!.waits === true && row!.holds === holdsAdvisory ? true : undefined;
      });
      await d.sql`select pg_cancel_backend(${pid})`;
      t.is(await locking, '57014');
      const locks = await d.sql`select objid from pg_locks where pid = ${pid} and locktype = 'advisory'`;
      t.deepEqual([...locks], []);
      // Before migration 000011, cancelled while waiting: "WARNING: you don't own a lock of type ExclusiveLock".
      t.deepEqual(notices, []);
      // Writers go on: nothing of the locker's is left to wait for.
      await a.sql`select app.upsert_items(${c}, ${['k2']}, ${['a']})`;
      await a.sql`commit`;
      t.is((await d.sql`select app.upsert_items(${c}, ${['k3']}, ${['d']}) as n`)[0]!.n, 1);
    });
  });
}

test('app.upsert_items gives new items ids in the order sent, though it writes them in key order', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'sent-order');
  const keys = ['zebra', 'apple', 'mango', 'Banana', 'apple-2'];
  await d.sql`select app.upsert_items(${c}, ${keys}, ${keys.map((k) => `v-${k}`)})`;
  // Updating two of them (sent in another order) and adding one keeps the old ids.
  await d.sql`select app.upsert_items(${c}, ${['mango', 'kiwi', 'zebra']}, ${['m2', 'v-kiwi', 'z2']})`;
  const rows = await d.sql`select key, value from app.items where collection_id = ${c} order by id`;
  t.deepEqual(
    rows.map((r) => [r.key, r.value]),
    [['zebra', 'z2'], ['apple', 'v-apple'], ['mango', 'm2'], ['Banana', 'v-Banana'], ['apple-2', 'v-apple-2'], ['kiwi', 'v-kiwi']],
  );
});

test('deleting one item locks the collection row before the item, so a collection deletion waits for it', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'one-delete');
  await withSessions(2, async (a, b) => {
    await a.sql`begin`;
    // The generated query itself; the key does not exist, so only the collection lock can be held.
    const deleted = await deleteItem.run({ collectionId: c, key: 'absent' }, queryable(a.sql));
    t.is(deleted.length, 0);
    const dropping = b.sql`delete from app.collections where id = ${c}`.then((rows) => rows.count);
    await waitingOnLock(b.pid);
    await a.sql`commit`;
    t.is(await dropping, 1);
  });
});

test('a batch of a big deletion walks items_pkey and deletes by ctid, even when the statistics know nothing of the collection', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'fresh');
  await d.sql`analyze app.items`;
  // Filled after ANALYZE, as a collection is right after a bulk load: the planner guesses one row.
  await d.sql`insert into app.items (collection_id, project_id, key, value) select ${c}, ${p}, 'k' || g, 'v' from generate_series(1, 3000) g`;
  // The long pool's settings (src/db/db.ts), where the HTTP API runs these batches.
  const plans: string[] = [];
  const long = postgres(d.url, {
    max: 1,
    onnotice: (n) => plans.push(String(n.message)),
    connection: { enable_sort: 'off', plan_cache_mode: 'force_custom_plan' },
  });
  try {
    const [r] = await long.begin(async (tx) => {
      // auto_explain sends the plans of the statements inside the function to this client.
      await tx`load 'auto_explain'`;
      await tx`select set_config('auto_explain.log_min_duration', '0', true),
                      set_config('auto_explain.log_nested_statements', 'on', true),
                      set_config('auto_explain.log_level', 'notice', true)`;
      return tx`select deleted, last_id from app.delete_collection_items(${c}, null, null, null, null, null, 0, 1000)`;
    });
    t.is(r!.deleted, 1000);
  } finally {
    await long.end();
  }
  const deletePlan = plans.find((p) => /Delete on items/.test(p));
  const candidatePlan = plans.find((p) => /order by i\.id/.test(p) && !/Delete on/.test(p));
  t.truthy(deletePlan, plans.join('\n---\n'));
  t.truthy(candidatePlan, plans.join('\n---\n'));
  // Measured before: a nested loop over the candidates, 1,000 × 3,000 comparisons here
  // (10,000 × 20,000, 13-21 s a batch, at the HTTP race test's size); then, in CI once,
  // a scan of the whole collection through the key index, filtered on the id range.
  t.regex(deletePlan!, /Tid Scan on items\b[^\n]*\n\s+TID Cond: \(ctid = ANY /);
  t.regex(candidatePlan!, /Index Scan using items_pkey on items i\b[^\n]*\n\s+Index Cond: \(\(collection_id = [^\n]*\) AND \(id > /);
  for (const plan of [deletePlan!, candidatePlan!]) {
    t.notRegex(plan, /Nested Loop|Hash Join|Merge Join|Seq Scan|Sort|items_collection_id_key_key|Disabled/, plan);
  }
  const s = await stats(d.sql, c);
  t.deepEqual(s.kept, { item_count: 2000, byte_size: s.real.byte_size });
});

test('a batch deletion waiting on an item another transaction updates leaves the updated item in place', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'racing-update');
  await d.sql`select app.upsert_items(${c}, ${['a', 'b', 'c']}, ${['1', '1', '1']})`;
  const [lastCandidate] = await d.sql`select id from app.items where collection_id = ${c} and key = 'c'`;
  await withSessions(2, async (a, b) => {
    await a.sql`begin`;
    await a.sql`select app.upsert_items(${c}, ${['b']}, ${['2']})`;
    // b's candidates are the versions it can see, b's old one included; its delete then waits for a.
    const batch = b.sql`select deleted, last_id from app.delete_collection_items(${c}, null, null, null, null, null, 0, 10)`.then((rows) => rows[0]!);
    await waitingOnLock(b.pid);
    await a.sql`commit`;
    const r = await batch;
    t.is(r.deleted, 2);
    t.is(r.last_id, lastCandidate!.id);
    // As if written after the deletion: the new version was never a candidate.
    const rows = await d.sql`select key, value from app.items where collection_id = ${c}`;
    t.deepEqual(rows.map((row) => [row.key, row.value]), [['b', '2']]);
    const s = await stats(d.sql, c);
    t.deepEqual(s.kept, s.real);
  });
});

test('each item stores the JSON json_build_object would build, for awkward keys and values, kept right by every write', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'awkward');
  const values = ['plain', '"quoted" \\ back\\slash', 'tab\tnew\nline\r\u0001\u001f', 'ünïcödé ✓ 🐈‍⬛', '{"json":"inside"}', 'line\u2028sep \u007f del', ''];
  await d.sql`
    insert into app.items (collection_id, project_id, key, value)
    select ${c}, ${p}, 'k' || i || v, v from unnest(${values}::text[]) with ordinality as x(v, i)`;
  const stored = () => d.sql`
    select item_json as item,
           item_json = app.item_json(key, value, created_at, updated_at) as same_as_function,
           item_json::jsonb
             = json_build_object('key', key, 'value', value, 'created', created_at, 'updated', updated_at)::jsonb as same
      from app.items where collection_id = ${c} order by id`;
  const rows = await stored();
  t.is(rows.length, values.length);
  t.true(rows.every((r) => r.same === true && r.same_as_function === true));
  // What a client gets back: the stored strings, unchanged, and ISO-8601 timestamps in UTC.
  t.deepEqual(
    rows.map((r) => (JSON.parse(r.item as string) as { value: string }).value),
    values,
  );
  t.regex((JSON.parse(rows[0]!.item as string) as { created: string }).created, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00$/);
  // Any UPDATE recomputes it, a DBA's included.
  await d.sql`update app.items set value = 'changed', updated_at = '2030-01-02 03:04:05.5+00' where collection_id = ${c} and value = 'plain'`;
  const [changed] = await d.sql`select item_json from app.items where collection_id = ${c} and value = 'changed'`;
  t.regex(changed!.item_json as string, /^\{"key":"k1plain","value":"changed","created":"[^"]+\+00:00","updated":"2030-01-02T03:04:05\.5\+00:00"\}$/);
  t.true((await stored()).every((r) => r.same === true && r.same_as_function === true));
  // STORED, not PG 18's default VIRTUAL: a read must not rebuild it.
  const [column] = await d.sql`
    select attgenerated from pg_attribute where attrelid = 'app.items'::regclass and attname = 'item_json'`;
  t.is(column!.attgenerated, 's');
});

test('stored item JSON prints UTC whatever TimeZone and DateStyle the writing session has', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'zones');
  await d.sql.begin(async (tx) => {
    await tx`set local timezone = 'Asia/Kolkata'`;
    await tx`set local datestyle = 'SQL, DMY'`;
    await tx`insert into app.items (collection_id, project_id, key, value, created_at, updated_at)
             values (${c}, ${p}, 'k', 'v', '2026-11-25 05:30:00.25+05:30', '2026-11-25 05:30:00+05:30'),
                    (${c}, ${p}, 'forever', 'v', '-infinity', 'infinity'),
                    (${c}, ${p}, 'rome', 'v', '0044-03-15 15:30:52.5+00 BC', '0001-01-01 00:00:00+00'),
                    (${c}, ${p}, 'year0', 'v', '0001-01-01 00:00:00+00', '0001-01-01 00:00:00+00'::timestamptz - interval '1 microsecond')`;
  });
  const rows = await d.sql`select key, item_json from app.items where collection_id = ${c} order by key`;
  t.deepEqual(
    rows.map((r) => r.item_json),
    [
      '{"key":"forever","value":"v","created":"-infinity","updated":"infinity"}',
      '{"key":"k","value":"v","created":"2026-11-25T00:00:00.25+00:00","updated":"2026-11-25T00:00:00+00:00"}',
      // The era after the offset, as to_json(timestamptz) prints it.
      '{"key":"rome","value":"v","created":"0044-03-15T15:30:52.5+00:00 BC","updated":"0001-01-01T00:00:00+00:00"}',
      '{"key":"year0","value":"v","created":"0001-01-01T00:00:00+00:00","updated":"0001-12-31T23:59:59.999999+00:00 BC"}',
    ],
  );
});

test("stored item JSON does not depend on the writing session's search_path", async (t) => {
  // Resolved through the writer's search_path, each of these would be stored with the item for
  // good: to_json(text) and to_json(timestamp) as closer matches than pg_catalog's polymorphic
  // one, and || because this session lists pg_catalog after the shadowing schema.
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'shadowed');
  const [row] = await d.sql.begin(async (tx) => {
    await tx`create schema shadow`;
    await tx`create function shadow.to_json(text) returns json language sql immutable as $$ select '"shadowed"'::json $$`;
    await tx`create function shadow.to_json(timestamp) returns json language sql immutable as $$ select '"shadowed"'::json $$`;
    await tx`create function shadow.cat(text, text) returns text language sql immutable as $$ select 'shadowed' $$`;
    await tx`create operator shadow.|| (leftarg = text, rightarg = text, function = shadow.cat)`;
    await tx`set local search_path = shadow, pg_catalog, public`;
    return tx`insert into app.items (collection_id, project_id, key, value, created_at, updated_at)
              values (${c}, ${p}, 'k', 'v', '2026-11-25Z', '2026-11-25Z') returning item_json`;
  });
  t.is(row!.item_json, '{"key":"k","value":"v","created":"2026-11-25T00:00:00+00:00","updated":"2026-11-25T00:00:00+00:00"}');
});

type Sent = { query: string; bindings: unknown[] };

/** The text and bindings a generated query sends, as pgtyped sends them, without running it. */
async function sentBy(run: (connection: Parameters<typeof streamItems.run>[1]) => Promise<unknown>): Promise<Sent> {
  let sent: Sent | undefined;
  await run({ query: async (query, bindings) => ((sent = { query, bindings }), { rows: [], rowCount: 0 }) });
  if (!sent) throw new Error('the query sent no statement');
  return sent;
}

/** `explain <options>` of a sent statement on `sql`, as one text. */
async function explain(sql: postgres.Sql, { query, bindings }: Sent, options = ''): Promise<string> {
  return (await sql.unsafe(`explain ${options} ${query}`, bindings as never[])).map((r) => r['QUERY PLAN'] as string).join('\n');
}

test('reads select the stored item JSON and never build it', async (t) => {
  // Were a read to call app.item_json again, every page would pay ~2 us an item for nothing.
  const ids = { userId: null, runId: null, projectId: null, key: 'k', name: 'c' };
  const statements = [
    await sentBy((c) =>
      streamItems.run(
        { collectionId: '00000000-0000-0000-0000-000000000000', afterId: '0', rows: 10, bytes: 1000, keyPattern: null, createdAfter: null, createdBefore: null, updatedAfter: null, updatedBefore: null },
        c,
      ),
    ),
    await sentBy((c) => resolveCollectionByName.run(ids, c)),
    await sentBy((c) => resolveCollectionInProject.run({ ...ids, projectId: '00000000-0000-0000-0000-000000000000' }, c)),
  ];
  for (const statement of statements) {
    const plan = await explain(d.sql, statement, 'verbose');
    t.regex(plan, /\bi\.item_json\b/, statement.query);
    t.notRegex(plan, /item_json\(/, plan);
  }
});

test('a stream batch of a collection that is most of the table reads it in order through items_pkey, never sorting it', async (t) => {
  // Unbatched, the planner's cheapest total plan for such a collection was a seq scan and a sort of
  // all of it, spilling the whole collection to disk before the first byte (src/db/db.ts).
  const p = await project(d.sql);
  const big = await collection(d.sql, p, 'dominant');
  const small = await collection(d.sql, p, 'small');
  // Written interleaved, as concurrent writers leave them: the heap order then says nothing of the
  // index order, and reading two thirds of the table by index looks dearer than seq scan and sort.
  await d.sql`insert into app.items (collection_id, project_id, key, value)
              select case when i % 3 = 0 then ${small}::uuid else ${big}::uuid end, ${p}, 'k' || i, repeat('v', 200)
              from generate_series(1, 45000) i`;
  await d.sql`analyze app.items`;
  const statement = await sentBy((c) =>
    streamItems.run(
      { collectionId: big, afterId: '0', rows: BATCH_ROWS, bytes: BATCH_BYTES, keyPattern: null, createdAfter: null, createdBefore: null, updatedAfter: null, updatedBefore: null },
      c,
    ),
  );
  const plan = (sql: postgres.Sql) => explain(sql, statement);
  const long = await plan(d.db.long);
  t.regex(long, /Index Scan using items_pkey/);
  t.notRegex(long, /Sort/);
  // A batch has a LIMIT, so even PostgreSQL's defaults (the hot pool) take the index; the long
  // pool's enable_sort = off stays as the second guard it was for the unbatched download.
  const hot = await plan(d.db.sql);
  t.regex(hot, /Index Scan using items_pkey/);
  t.notRegex(hot, /Sort/);
});

test('a stream whose batch comes back in text format (postgres.js without the binaryResults patch) fails instead of ending early', async (t) => {
  const { openItemStream } = await import('../../src/collections/stream.ts');
  const c = await collection(d.sql, await project(d.sql), 'text-format');
  // 1,000 items with 8-digit ids: in text, a count of "1000" and such an id have the binary widths.
  await d.sql`select setval(pg_get_serial_sequence('app.items', 'id'), greatest(10000000, (select max(id) from app.items)))`;
  await d.sql`insert into app.items (collection_id, project_id, key, value)
              select ${c}, p.project_id, 'k' || n, 'v' from app.collections p, generate_series(1, 1001) n where p.id = ${c}`;
  const filters = { keyPattern: null, createdAfter: null, createdBefore: null, updatedAfter: null, updatedBefore: null };
  // The batch query as the stream runs it, but read in text format, as unpatched postgres.js would.
  const text = {
    query: async (q: string, bindings: unknown[]) => {
      const rows = await d.sql.unsafe(q, bindings as never[], { prepare: true }).raw();
      return { rows, rowCount: rows.length };
    },
  };
  const error = await t.throwsAsync(
    openItemStream(d.db, (batch) => streamItems.run({ collectionId: c, ...filters, ...batch }, text), { open: '[', close: () => ']', limit: 1000 }),
  );
  t.regex(error!.message, /text format/);
  // Its connection and long slot were given back.
  await until('the long slot to be free', 5_000, async () => (d.db.stats().longSlotsHeld === 0 ? true : undefined));
  t.pass();
});

test('streamItems returns one row per batch: the items that start within its byte budget (at least one), in id order, after the cursor, and whether more follow', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'budget');
  // Keys k1..k6 with the same value and timestamps: the budget counts item JSON, 107 bytes an item.
  const size = '{"key":"k1","value":"vvvvvvvv","created":"2026-01-01T00:00:00+00:00","updated":"2026-01-01T00:00:00+00:00"}'.length;
  await d.sql`insert into app.items (collection_id, project_id, key, value, created_at, updated_at)
              select ${c}, ${p}, 'k' || i, repeat('v', 8), '2026-01-01Z', '2026-01-01Z' from generate_series(1, 6) i order by i`;
  const ids = Object.fromEntries(
    (await d.sql<{ key: string; id: string }[]>`select key, id::text from app.items where collection_id = ${c}`).map((r) => [r.key, r.id]),
  );
  const batch = async (afterId: string, rows: number, bytes: number) => {
    const result = await streamItems.run(
      { collectionId: c, afterId, rows, bytes, keyPattern: null, createdAfter: null, createdBefore: null, updatedAfter: null, updatedBefore: null },
      { query: async (query, bindings) => ({ rows: await d.sql.unsafe(query, bindings as never[]), rowCount: 0 }) },
    );
    t.is(result.length, 1);
    const { items, last_id, more, body } = result[0]!;
    const keys = body === null ? [] : (JSON.parse(`[${body}]`) as { key: string }[]).map((i) => i.key);
    t.is(items, keys.length);
    t.is(last_id, keys.length === 0 ? null : ids[keys.at(-1)!]!);
    return { keys, more };
  };
  t.deepEqual(await batch('0', 100, 100 * size), { keys: ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'], more: false });
  t.deepEqual(await batch('0', 6, 100 * size), { keys: ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'], more: false });
  t.deepEqual(await batch('0', 4, 100 * size), { keys: ['k1', 'k2', 'k3', 'k4'], more: true });
  // k3 starts at byte 2 * size, within 2 * size + 1, and is kept whole; k4 starts at 3 * size.
  t.deepEqual(await batch('0', 100, 2 * size + 1), { keys: ['k1', 'k2', 'k3'], more: true });
  t.deepEqual(await batch('0', 100, 2 * size), { keys: ['k1', 'k2'], more: true });
  // However small the budget, a batch holds its first item, so a stream always moves on.
  t.deepEqual(await batch('0', 100, 1), { keys: ['k1'], more: true });
  t.deepEqual(await batch(ids.k4!, 100, size + 1), { keys: ['k5', 'k6'], more: false });
  t.deepEqual(await batch(ids.k4!, 100, size), { keys: ['k5'], more: true });
  t.deepEqual(await batch(ids.k6!, 100, size), { keys: [], more: false });
});
