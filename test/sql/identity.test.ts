import test from 'ava';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let d: TestDatabase;
test.before(async () => {
  d = await createTestDatabase();
});
test.after.always(() => d?.drop());

test('app.token_projects: members by role, a superuser owns everything, a run token edits its run\'s project only', async (t) => {
  const [alice] = await d.sql`insert into app.users (email) values ('alice@example.test') returning id`;
  const [root] = await d.sql`insert into app.users (email, is_superuser) values ('root@example.test', true) returning id`;
  const [a] = await d.sql`select id from app.create_project('a', ${alice!.id})`;
  const [b] = await d.sql`insert into app.projects (name) values ('b') returning id`;
  const [run] = await d.sql`insert into app.runs (project_id) values (${b!.id}) returning id`;
  const reach = async (user: string | null, runId: string | null) =>
    (await d.sql`select project_id, role::text from app.token_projects(${user}::uuid, ${runId}::uuid) order by project_id`).map((r) => ({ ...r }));
  t.deepEqual(await reach(alice!.id, null), [{ project_id: a!.id, role: 'owner' }]);
  t.deepEqual(
    await reach(root!.id, null),
    [a!.id, b!.id].sort().map((id) => ({ project_id: id, role: 'owner' })),
  );
  t.deepEqual(await reach(null, run!.id), [{ project_id: b!.id, role: 'editor' }]);
  t.deepEqual(await reach(null, null), []);
});

test('app.token_projects is inlined into its callers: no SET clause, no function scan in the plan', async (t) => {
  // Every authorized request calls it; a SET clause (or VOLATILE, SECURITY DEFINER…) would make
  // PostgreSQL run it as a separate function call instead of planning its body into the query.
  const [fn] = await d.sql`
    select proconfig, provolatile, prosecdef from pg_proc where oid = 'app.token_projects(uuid, uuid)'::regprocedure`;
  t.deepEqual({ ...fn }, { proconfig: null, provolatile: 's', prosecdef: false });
  const plan = await d.sql`
    explain select max(role) from app.token_projects('6f1c0e4a-0000-4000-8000-000000000001', null)
             where project_id = '6f1c0e4a-0000-4000-8000-000000000002'`;
  const text = plan.map((r) => r['QUERY PLAN'] as string).join('\n');
  t.false(text.includes('Function Scan'), text);
  t.true(text.includes('project_users'), text);
});
