// What a DBA at psql could do that the docs say cannot happen (an audit at stop 19 found
// each of these; migration 000007 closes them).
import test from 'ava';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { until } from '../helpers/poll.ts';

let d: TestDatabase;
test.before(async () => {
  d = await createTestDatabase();
});
test.after.always(() => d?.drop());

async function userAndProject(email: string, projectName: string) {
  const [user] = await d.sql<[{ id: string }]>`insert into app.users (email) values (${email}) returning id`;
  const [project] = await d.sql<[{ id: string }]>`select id from app.create_project(${projectName}, ${user!.id})`;
  return { userId: user!.id, projectId: project!.id };
}

test('app.set_member finds a user by email whatever its case, through the email index', async (t) => {
  const { projectId } = await userAndProject('owner-1@example.test', 'members');
  const [bob] = await d.sql`insert into app.users (email) values ('Bob@Example.test') returning id`;
  const rows = await d.sql`select user_id, role::text, created from app.set_member(${projectId}, 'BOB@example.TEST', 'viewer', 'owner')`;
  t.deepEqual(rows.map((r) => ({ ...r })), [{ user_id: bob!.id, role: 'viewer', created: true }]);
  // The comparison is citext's (so users_email_key serves it), not text's.
  const [fn] = await d.sql`select proconfig from pg_proc where oid = 'app.set_member(uuid, citext, app.project_role, app.project_role)'::regprocedure`;
  t.deepEqual(fn!.proconfig, ['search_path=app, pg_catalog, public']);
});

test('app.set_member and app.remove_member change nothing when the actor role is null', async (t) => {
  const { projectId } = await userAndProject('owner-2@example.test', 'strict');
  const [eve] = await d.sql`insert into app.users (email) values ('eve@example.test') returning id`;
  await d.sql`select * from app.set_member(${projectId}, 'eve@example.test', 'viewer', 'owner')`;
  // null <> 'owner' is null, not true: before migration 000007 this made eve an owner.
  t.deepEqual([...(await d.sql`select * from app.set_member(${projectId}, 'eve@example.test', 'owner', null)`)], []);
  const [removed] = await d.sql`select app.remove_member(${projectId}, ${eve!.id}, null) as removed`;
  t.is(removed!.removed, null);
  const roles = await d.sql`select role::text from app.project_users where project_id = ${projectId} and user_id = ${eve!.id}`;
  t.deepEqual(roles.map((r) => r.role), ['viewer']);
});

test('a run names a workflow of its own project or none', async (t) => {
  const a = await userAndProject('owner-3@example.test', 'runs-a');
  const b = await userAndProject('owner-4@example.test', 'runs-b');
  const [wf] = await d.sql`
    select id from app.save_workflow(gen_random_uuid(), 'new', ${a.projectId}, 'flow', '{}'::jsonb)`;
  const [ok] = await d.sql`insert into app.runs (project_id, workflow_id) values (${a.projectId}, ${wf!.id}) returning workflow_id`;
  t.is(ok!.workflow_id, wf!.id);
  await d.sql`insert into app.runs (project_id, workflow_id) values (${a.projectId}, null)`;
  for (const [project, workflow] of [
    [b.projectId, wf!.id],
    [a.projectId, '6f1c0e4a-0000-4000-8000-00000000abcd'],
  ] as const) {
    const error = await t.throwsAsync(d.sql`insert into app.runs (project_id, workflow_id) values (${project}, ${workflow})`);
    t.like(error, { code: '23503', constraint_name: 'runs_workflow_fkey' });
  }
});

test('a release handle is at most 255 characters, so the unique index never overflows', async (t) => {
  const { projectId } = await userAndProject('owner-5@example.test', 'fleet');
  const [s] = await d.sql`insert into app.servers (project_id, name) values (${projectId}, 'web-1') returning id`;
  const insert = (command: string) =>
    d.sql`insert into app.releases (server_id, project_id, release_command) values (${s!.id}, ${projectId}, ${command}) returning effective_handle`;
  const [atLimit] = await insert(`/opt/${'h'.repeat(255)}`);
  t.is(atLimit!.effective_handle, 'h'.repeat(255));
  // 3,000 characters: within the command's 4,096, and over the B-tree's 2,704-byte row limit (54000 before).
  const error = await t.throwsAsync(insert(`/opt/${'x'.repeat(3000)}`));
  t.like(error, { code: '23514', constraint_name: 'releases_effective_handle_length' });
  // An explicit name makes any command usable.
  const [named] = await d.sql`
    insert into app.releases (server_id, project_id, name, release_command)
    values (${s!.id}, ${projectId}, 'short', ${`/opt/${'x'.repeat(3000)}`}) returning effective_handle`;
  t.is(named!.effective_handle, 'short');
});

test('TRUNCATE app.items sets every collection back to no items and no bytes', async (t) => {
  const { projectId } = await userAndProject('owner-6@example.test', 'truncate');
  const [c] = await d.sql`insert into app.collections (project_id, name) values (${projectId}, 'gone') returning id`;
  await d.sql`select app.upsert_items(${c!.id}, ${['a', 'b']}::text[], ${['1', '22']}::text[])`;
  // In a transaction rolled back afterwards: the other tests of this file run beside this one.
  class RolledBack {
    constructor(readonly stats: unknown) {}
  }
  const outcome = await d.sql
    .begin(async (tx) => {
      await tx`truncate app.items`;
      const [stats] = await tx`select item_count::int, byte_size::int from app.collections where id = ${c!.id}`;
      throw new RolledBack({ ...stats });
    })
    .catch((e: unknown) => e);
  t.true(outcome instanceof RolledBack);
  t.deepEqual((outcome as RolledBack).stats, { item_count: 0, byte_size: 0 });
});

test('a project\'s parent never changes once set, nor is one set later', async (t) => {
  const { userId, projectId } = await userAndProject('owner-7@example.test', 'parent');
  const other = await userAndProject('owner-8@example.test', 'other');
  const [sandbox] = await d.sql`select id from app.create_sandbox(${projectId}, 'child', ${userId})`;
  for (const [id, parent] of [
    [sandbox!.id, other.projectId],
    [sandbox!.id, null],
    [projectId, sandbox!.id],
  ]) {
    const error = await t.throwsAsync(d.sql`update app.projects set parent_id = ${parent} where id = ${id}`);
    t.like(error, { code: 'SB422', message: 'parent_fixed' });
  }
  // Other columns still change, and deleting the parent still deletes its sandbox.
  await d.sql`update app.projects set name = 'child-renamed' where id = ${sandbox!.id}`;
  await d.sql`delete from app.projects where id = ${projectId}`;
  t.deepEqual([...(await d.sql`select id from app.projects where id = ${sandbox!.id}`)], []);
});

test('a merge reports and audits the counts of the collections it deleted as they were when it deleted them', async (t) => {
  const { userId, projectId } = await userAndProject('owner-9@example.test', 'merge-counts');
  const [sandbox] = await d.sql`select id from app.create_sandbox(${projectId}, 'sb', ${userId})`;
  // Only in the parent: the merge deletes it.
  const [doomed] = await d.sql`insert into app.collections (project_id, name) values (${projectId}, 'doomed') returning id`;
  await d.sql`select app.upsert_items(${doomed!.id}, ${['a', 'b']}::text[], ${['1', '2']}::text[])`;
  const writer = postgres(d.url, { max: 1, onnotice: () => undefined });
  const merger = postgres(d.url, { max: 1, onnotice: () => undefined, connection: { application_name: 'invariants-merge' } });
  try {
    // A writer adds 3 items and holds its transaction open; the merge starts and waits for it.
    let commit!: () => void;
    const held = new Promise<void>((r) => (commit = r));
    let wrote!: () => void;
    const written = new Promise<void>((r) => (wrote = r));
    const write = writer.begin(async (tx) => {
      await tx`select app.upsert_items(${doomed!.id}, ${['c', 'd', 'e']}::text[], ${['3', '4', '5']}::text[])`;
      wrote();
      await held;
    });
    await written;
    // execute(): a postgres.js query otherwise starts only once awaited.
    const merge = merger`select action, name, item_count::int, byte_size::int from app.merge_sandbox(${sandbox!.id}, ${projectId}, ${userId})`.execute();
    await until('the merge to wait for the writer', 10_000, async () => {
      const [w] = await d.sql`select 1 from pg_stat_activity where application_name = 'invariants-merge' and wait_event_type = 'Lock'`;
      return w ? true : undefined;
    });
    commit();
    await write;
    const rows = (await merge).map((r) => ({ ...r }));
    // Its snapshot before the wait saw 2 items; it deleted 5.
    t.deepEqual(rows, [{ action: 'deleted', name: 'doomed', item_count: 5, byte_size: 10 }]);
    const [audit] = await d.sql`
      select details->'deleted' as deleted from app.audit_events where project_id = ${projectId} and action = 'sandbox.merge'`;
    t.deepEqual(audit!.deleted, [{ name: 'doomed', item_count: 5, byte_size: 10 }]);
  } finally {
    await Promise.all([writer.end(), merger.end()]);
  }
});
