/**
 * The sandbox functions of migrations/committed/000001-initial-schema.sql, called
 * directly: clone on provision, sync, preview and merge, the ancestor check,
 * nested sandboxes, idempotency, atomicity and the provision/merge lock.
 */
import { randomUUID } from 'node:crypto';
import test from 'ava';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let d: TestDatabase;
let sql: postgres.Sql;
let ownerId: string;
test.before(async () => {
  d = await createTestDatabase();
  sql = d.sql;
  [{ id: ownerId }] = await sql<[{ id: string }]>`insert into app.users (email) values (${`owner-${randomUUID()}@example.test`}) returning id`;
});
test.after.always(() => d?.drop());

async function rootProject(): Promise<string> {
  const [p] = await sql<[{ id: string }]>`select id from app.create_project(${`root-${randomUUID().slice(0, 8)}`}, ${ownerId})`;
  return p.id;
}

async function sandbox(parentId: string): Promise<string> {
  const [p] = await sql<[{ id: string }]>`select id from app.create_sandbox(${parentId}, ${`sandbox-${randomUUID().slice(0, 8)}`}, ${ownerId})`;
  return p.id;
}

/** Creates `name` in the project with `items` items (key k<i>, value v<i>); returns the collection id. */
async function collection(projectId: string, name: string, items = 0): Promise<string> {
  const [c] = await sql<[{ id: string }]>`insert into app.collections (project_id, name) values (${projectId}, ${name}) returning id`;
  if (items > 0) {
    await sql`insert into app.items (collection_id, project_id, key, value)
              select ${c.id}, ${projectId}, 'k' || i, 'value-' || i from generate_series(1, ${items}::int) i`;
  }
  return c.id;
}

async function names(projectId: string): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`select name from app.collections where project_id = ${projectId} order by name`;
  return rows.map((r) => r.name);
}

async function itemCounts(projectId: string): Promise<Record<string, number>> {
  const rows = await sql<{ name: string; n: number }[]>`
    select c.name, count(i.id)::int as n from app.collections c left join app.items i on i.collection_id = c.id
    where c.project_id = ${projectId} group by c.name order by c.name`;
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}

async function byteSize(collectionId: string): Promise<number> {
  // A collection without items may have no stats row.
  const [row] = await sql<[{ b: string }]>`select coalesce((select byte_size from app.collection_stats where collection_id = ${collectionId}), 0)::text as b`;
  return Number(row.b);
}

/** postgres.js answers a Result (an Array subclass); plain arrays compare with t.deepEqual. */
const rows = async (q: Promise<postgres.RowList<postgres.Row[]>>) => [...(await q)];

type Change = { action: string; name: string; item_count: number; byte_size: number };
const changes = (rows: postgres.RowList<postgres.Row[]>): Change[] =>
  rows.map((r) => ({ action: r.action, name: r.name, item_count: Number(r.item_count), byte_size: Number(r.byte_size) }));

// ---- clone_collections_from_parent ------------------------------------------

test('provisioning a sandbox creates an empty copy of each parent collection, copying no items', async (t) => {
  const parent = await rootProject();
  await collection(parent, 'patients', 5);
  await collection(parent, 'visits', 2);
  const child = await sandbox(parent);
  t.deepEqual(await itemCounts(child), { patients: 0, visits: 0 });
  t.deepEqual(await itemCounts(parent), { patients: 5, visits: 2 });
});

test('clone_collections_from_parent is idempotent and creates only what is missing', async (t) => {
  const parent = await rootProject();
  await collection(parent, 'patients', 1);
  const child = await sandbox(parent);
  t.deepEqual(await rows(sql`select app.clone_collections_from_parent(${child}) as n`), [{ n: 0 }]);
  await collection(parent, 'visits', 3);
  await collection(parent, 'labs');
  t.deepEqual(await rows(sql`select app.clone_collections_from_parent(${child}) as n`), [{ n: 2 }]);
  t.deepEqual(await rows(sql`select app.clone_collections_from_parent(${child}) as n`), [{ n: 0 }]);
  t.deepEqual(await itemCounts(child), { labs: 0, patients: 0, visits: 0 });
});

test('clone_collections_from_parent refuses a root project and an unknown one', async (t) => {
  const root = await rootProject();
  await t.throwsAsync(sql`select app.clone_collections_from_parent(${root})`, { code: 'SB422', message: 'not_a_sandbox' });
  await t.throwsAsync(sql`select app.clone_collections_from_parent(${randomUUID()})`, { code: 'SB404', message: 'project_not_found' });
});

// ---- sync_collections ---------------------------------------------------------

test('sync_collections creates sandbox-only names empty, deletes target-only ones with their items, and leaves common ones alone', async (t) => {
  const parent = await rootProject();
  await collection(parent, 'patients', 3);
  const child = await sandbox(parent);
  const doomed = await collection(parent, 'legacy', 4);
  const doomedBytes = await byteSize(doomed);
  t.true(doomedBytes > 0);
  // Sandbox data that must never reach the parent.
  const sandboxPatients = await sql<[{ id: string }]>`select id from app.collections where project_id = ${child} and name = 'patients'`;
  await sql`insert into app.items (collection_id, project_id, key, value) values (${sandboxPatients[0].id}, ${child}, 'test', 'fake')`;
  await collection(child, 'staging-only', 2);

  const result = changes(await sql`select * from app.sync_collections(${child}, ${parent}) order by action, name`);
  t.deepEqual(result, [
    { action: 'created', name: 'staging-only', item_count: 0, byte_size: 0 },
    { action: 'deleted', name: 'legacy', item_count: 4, byte_size: doomedBytes },
  ]);
  t.deepEqual(await itemCounts(parent), { patients: 3, 'staging-only': 0 });
  t.deepEqual(await itemCounts(child), { patients: 1, 'staging-only': 2 });
  const [orphans] = await sql`select count(*)::int as n from app.items where collection_id = ${doomed}`;
  t.is(orphans!.n, 0);
  const [parentKeys] = await sql`select array_agg(i.key order by i.key) as keys from app.items i where i.project_id = ${parent}`;
  t.deepEqual(parentKeys!.keys, ['k1', 'k2', 'k3']);

  t.deepEqual(await rows(sql`select * from app.sync_collections(${child}, ${parent})`), [], 'a second sync has nothing to do');
});

test('sync_collections refuses a target that is not an ancestor', async (t) => {
  const parent = await rootProject();
  const child = await sandbox(parent);
  const sibling = await sandbox(parent);
  const stranger = await rootProject();
  await collection(stranger, 'precious', 1);
  for (const target of [sibling, stranger, child, randomUUID()]) {
    await t.throwsAsync(sql`select * from app.sync_collections(${child}, ${target})`, { code: 'SB422', message: 'target_not_ancestor' });
  }
  await t.throwsAsync(sql`select * from app.sync_collections(${parent}, ${child})`, { code: 'SB422', message: 'not_a_sandbox' });
  t.deepEqual(await names(stranger), ['precious']);
});

// ---- merge_preview --------------------------------------------------------------

test('merge_preview lists names to create and to delete with their item counts, and changes nothing', async (t) => {
  const parent = await rootProject();
  await collection(parent, 'patients', 2);
  const child = await sandbox(parent);
  const legacy = await collection(parent, 'legacy', 7);
  const empty = await collection(parent, 'empty-one');
  await collection(child, 'new-b');
  await collection(child, 'new-a', 1);
  const preview = changes(await sql`select * from app.merge_preview(${child}, ${parent})`);
  t.deepEqual(preview, [
    { action: 'create', name: 'new-a', item_count: 0, byte_size: 0 },
    { action: 'create', name: 'new-b', item_count: 0, byte_size: 0 },
    { action: 'delete', name: 'empty-one', item_count: 0, byte_size: await byteSize(empty) },
    { action: 'delete', name: 'legacy', item_count: 7, byte_size: await byteSize(legacy) },
  ]);
  t.deepEqual(await itemCounts(parent), { 'empty-one': 0, legacy: 7, patients: 2 });
  // The target defaults to the parent.
  t.deepEqual(changes(await sql`select * from app.merge_preview(${child}, null)`), preview);
  // The merge then does exactly what the preview said.
  const merged = changes(await sql`select * from app.merge_sandbox(${child}, ${parent})`);
  t.deepEqual(
    merged.map((m) => [m.action, m.name, m.item_count]),
    preview.map((p) => [`${p.action}d`, p.name, p.item_count]),
  );
  t.deepEqual(await rows(sql`select * from app.merge_preview(${child}, ${parent})`), []);
});

test('merge_preview refuses a non-ancestor target and a root project', async (t) => {
  const parent = await rootProject();
  const child = await sandbox(parent);
  await t.throwsAsync(sql`select * from app.merge_preview(${child}, ${await rootProject()})`, { code: 'SB422', message: 'target_not_ancestor' });
  await t.throwsAsync(sql`select * from app.merge_preview(${parent}, null)`, { code: 'SB422', message: 'not_a_sandbox' });
  await t.throwsAsync(sql`select * from app.merge_preview(${randomUUID()}, null)`, { code: 'SB404', message: 'project_not_found' });
});

// ---- merge_sandbox ----------------------------------------------------------------

test('merge_sandbox syncs, records one audit event per merge, keeps the sandbox, and a repeat does nothing', async (t) => {
  const parent = await rootProject();
  await collection(parent, 'patients', 2);
  const child = await sandbox(parent);
  await collection(parent, 'old', 3);
  await collection(child, 'fresh', 1);
  await sql`delete from app.collections where project_id = ${child} and name = 'patients'`;

  const first = changes(await sql`select * from app.merge_sandbox(${child}, ${parent}, ${ownerId})`);
  t.deepEqual(first.map((c) => [c.action, c.name, c.item_count]), [
    ['created', 'fresh', 0],
    ['deleted', 'old', 3],
    ['deleted', 'patients', 2],
  ]);
  t.deepEqual(await names(parent), await names(child));
  t.deepEqual(await itemCounts(parent), { fresh: 0 });
  t.deepEqual(await rows(sql`select id from app.projects where id = ${child}`), [{ id: child }]);

  t.deepEqual(await rows(sql`select * from app.merge_sandbox(${child}, ${parent})`), []);
  const events = await sql`select project_id, actor_id, action, details from app.audit_events where project_id = ${parent} order by id`;
  t.is(events.length, 2);
  t.like(events[0], { project_id: parent, actor_id: ownerId, action: 'sandbox.merge' });
  t.deepEqual(events[0]!.details, {
    sandbox_id: child,
    created: ['fresh'],
    deleted: first.filter((c) => c.action === 'deleted').map((c) => ({ name: c.name, item_count: c.item_count, byte_size: c.byte_size })),
  });
  t.like(events[1], { actor_id: null, details: { sandbox_id: child, created: [], deleted: [] } });
});

test('nested sandboxes: a grandchild merges into its grandparent or its parent, never into a non-ancestor', async (t) => {
  const grandparent = await rootProject();
  await collection(grandparent, 'patients', 4);
  const parent = await sandbox(grandparent);
  const grandchild = await sandbox(parent);
  t.deepEqual(await itemCounts(grandchild), { patients: 0 }, 'the grandchild cloned its parent (itself a clone)');
  const uncle = await sandbox(grandparent);
  await collection(grandchild, 'deep');
  await collection(grandparent, 'gone', 1);

  await t.throwsAsync(sql`select * from app.merge_sandbox(${grandchild}, ${uncle})`, { code: 'SB422', message: 'target_not_ancestor' });
  await t.throwsAsync(sql`select * from app.merge_sandbox(${grandchild}, ${grandchild})`, { code: 'SB422', message: 'target_not_ancestor' });
  await t.throwsAsync(sql`select * from app.merge_sandbox(${parent}, ${grandchild})`, { code: 'SB422', message: 'target_not_ancestor' });
  await t.throwsAsync(sql`select * from app.merge_sandbox(${grandparent}, null)`, { code: 'SB422', message: 'not_a_sandbox' });

  const merged = changes(await sql`select * from app.merge_sandbox(${grandchild}, ${grandparent})`);
  t.deepEqual(merged.map((c) => [c.action, c.name, c.item_count]), [
    ['created', 'deep', 0],
    ['deleted', 'gone', 1],
  ]);
  t.deepEqual(await itemCounts(grandparent), { deep: 0, patients: 4 });
  t.deepEqual(await names(parent), ['patients'], 'the project in between is untouched');
  t.deepEqual(await names(uncle), ['patients']);

  // Null target means the parent.
  const intoParent = changes(await sql`select * from app.merge_sandbox(${grandchild}, null)`);
  t.deepEqual(intoParent.map((c) => [c.action, c.name]), [['created', 'deep']]);
  const [event] = await sql`select project_id from app.audit_events where details->>'sandbox_id' = ${grandchild} order by id desc limit 1`;
  t.is(event!.project_id, parent);
});

test('resolve_merge_target accepts exactly the ancestors, the parent by default', async (t) => {
  const a = await rootProject();
  const b = await sandbox(a);
  const c = await sandbox(b);
  const resolve = async (s: string, target: string | null) =>
    (await sql<[{ id: string }]>`select app.resolve_merge_target(${s}, ${target}) as id`)[0].id;
  t.is(await resolve(c, null), b);
  t.is(await resolve(c, b), b);
  t.is(await resolve(c, a), a);
  t.is(await resolve(b, null), a);
  await t.throwsAsync(resolve(b, c), { code: 'SB422', message: 'target_not_ancestor' });
});

test.serial('merge_sandbox is all or nothing: a failure after the sync undoes the sync', async (t) => {
  const parent = await rootProject();
  const child = await sandbox(parent);
  await collection(parent, 'kept-on-failure', 2);
  await collection(child, 'not-created');
  // Fails the audit insert, the last thing the merge does; the test database is this file's own.
  await sql.unsafe(`
    create function app.test_refuse_audit() returns trigger language plpgsql as $$
    begin raise exception using errcode = 'SB409', message = 'audit_refused'; end $$;
    create trigger test_refuse_audit before insert on app.audit_events for each row execute function app.test_refuse_audit();`);
  try {
    await t.throwsAsync(sql`select * from app.merge_sandbox(${child}, ${parent})`, { code: 'SB409', message: 'audit_refused' });
  } finally {
    await sql.unsafe(`drop trigger test_refuse_audit on app.audit_events; drop function app.test_refuse_audit();`);
  }
  t.deepEqual(await itemCounts(parent), { 'kept-on-failure': 2 });
  t.deepEqual(await rows(sql`select id from app.audit_events where project_id = ${parent}`), []);
});

test('a merge waits for a provision holding the parent lock, then sees the new sandbox', async (t) => {
  const parent = await rootProject();
  await collection(parent, 'patients', 1);
  const child = await sandbox(parent);
  await collection(child, 'from-merge');
  const provisioner = await sql.reserve();
  const merger = postgres(d.url, { max: 1, onnotice: () => undefined });
  try {
    await provisioner`begin`;
    const [sb] = await provisioner`select id from app.create_sandbox(${parent}, 'in-flight', ${ownerId})`;
    const [{ pid }] = await merger<[{ pid: number }]>`select pg_backend_pid() as pid`;
    const merging = merger`select * from app.merge_sandbox(${child}, ${parent})`.then((rows) => rows);
    // Poll (with a deadline) until the merge is blocked on the advisory lock.
    const deadline = Date.now() + 10_000;
    let waiting = false;
    while (!waiting && Date.now() < deadline) {
      const [row] = await sql`select wait_event_type = 'Lock' and wait_event = 'advisory' as w from pg_stat_activity where pid = ${pid}`;
      waiting = row?.w === true;
    }
    t.true(waiting, 'the merge waits for the provision');
    await provisioner`commit`;
    const merged = await merging;
    t.deepEqual(merged.map((r) => [r.action, r.name]), [['created', 'from-merge']]);
    // The provision committed first, so its sandbox has the pre-merge names.
    t.deepEqual(await names(sb!.id), ['patients']);
    t.deepEqual(await names(parent), ['from-merge', 'patients']);
  } finally {
    provisioner.release();
    await merger.end();
  }
});
