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

test('app.token_collections is app.token_projects joined to app.collections by name, for every kind of token', async (t) => {
  // A database of its own: a superuser reaches every project, so other tests' rows would count.
  const own = await createTestDatabase();
  t.teardown(() => own.drop());
  // A small world that has every case: members of several projects in every role, superusers
  // (one also a member), runs, projects nobody belongs to, names shared by many projects.
  await own.sql`
    with u as (
      insert into app.users (email, is_superuser)
      select 'tc-' || g || '@example.test', g % 4 = 0 from generate_series(1, 8) g returning id, email
    ), p as (
      insert into app.projects (name) select 'tc-' || g from generate_series(1, 10) g returning id, name
    ), m as (
      insert into app.project_users (project_id, user_id, role)
      select p.id, u.id, (array['viewer', 'editor', 'admin', 'owner']::app.project_role[])[1 + (ui + pi) % 4]
        from (select id, row_number() over (order by email) ui from u) u
        join (select id, row_number() over (order by name) pi from p) p on (ui * pi) % 3 <> 0
      returning 1
    ), r as (
      insert into app.runs (project_id) select id from p where name in ('tc-1', 'tc-2', 'tc-7') returning 1
    )
    insert into app.collections (project_id, name)
    select p.id, n from p, unnest(array['shared', 'some', 'rare']) n
     where n = 'shared' or (n = 'some' and p.name < 'tc-5') or (n = 'rare' and p.name = 'tc-9')`;
  const [result] = await own.sql`
    with tokens as (
      select u.id as user_id, null::uuid as run_id from app.users u where u.email like 'tc-%'
      union all select null, r.id from app.runs r
      union all select u.id, r.id from app.users u, app.runs r where u.email = 'tc-2@example.test'
      union all select null, null
    ), cases as (
      select t.user_id, t.run_id, n.name from tokens t, unnest(array['shared', 'some', 'rare', 'none']) n(name)
    ), expected as (
      select k.user_id, k.run_id, k.name, c.id, c.project_id, tp.role
        from cases k
        join lateral app.token_projects(k.user_id, k.run_id) tp on true
        join app.collections c on c.project_id = tp.project_id and c.name = k.name
    ), actual as (
      select k.user_id, k.run_id, k.name, tc.collection_id, tc.project_id, tc.role
        from cases k, lateral app.token_collections(k.user_id, k.run_id, k.name) tc
    )
    select (select json_object_agg(kind, n) from (
              select case when user_id is null and run_id is null then 'none'
                          when user_id is null then 'run' when run_id is null then 'user' else 'both' end as kind,
                     count(*)::int as n
                from expected group by 1) k) as expected,
           (select count(*) from (select * from expected except all select * from actual) x)::int as missing,
           (select count(*) from (select * from actual except all select * from expected) x)::int as extra`;
  // Superusers 'tc-4' and 'tc-8' see all 16 collections each; no token, nothing.
  t.deepEqual({ ...result }, { expected: { user: 80, run: 5, both: 41 }, missing: 0, extra: 0 });
});

test('v1 addressing probes the token\'s own projects: no scan of app.collections for a member or a run', async (t) => {
  const own = await createTestDatabase();
  t.teardown(() => own.drop());
  // 5,000 projects share one collection name, as sandboxes share their parent's. Joined to
  // app.token_projects, the name was looked up in all of them for every token (a sequential
  // scan and a hash join, 15 ms a request at 100k projects, docs/scaling.md), since the planner counts the
  // superuser branch as every project.
  await own.sql`
    with p as (insert into app.projects (name) select 'scale-' || g from generate_series(1, 5000) g returning id)
    insert into app.collections (project_id, name) select id, 'patients' from p`;
  await own.sql`analyze app.projects, app.collections, app.project_users, app.runs, app.users`;
  const [member] = await own.sql`insert into app.users (email) values ('scale-member@example.test') returning id`;
  const [project] = await own.sql`select id from app.projects where name = 'scale-77'`;
  await own.sql`insert into app.project_users (project_id, user_id, role) values (${project!.id}, ${member!.id}, 'editor')`;
  const [run] = await own.sql`insert into app.runs (project_id) values (${project!.id}) returning id`;
  for (const [user, runId] of [[member!.id, null], [null, run!.id]] as const) {
    // The superuser branch's scan is in the plan, behind a one-time filter: it must not run.
    const plan = await own.sql`
      explain (analyze, costs off, timing off, summary off)
      select * from app.token_collections(${user}::uuid, ${runId}::uuid, 'patients') limit 3`;
    const text = plan.map((r) => r['QUERY PLAN'] as string).join('\n');
    t.false(/Function Scan|Seq Scan on collections[^\n]*\(actual/.test(text), text);
    t.regex(text, /Index Scan using collections_project_id_name_key on collections c\w* \(actual rows=1(\.00)? loops=1\)/);
    const rows = await own.sql`select project_id, role::text from app.token_collections(${user}::uuid, ${runId}::uuid, 'patients')`;
    t.deepEqual(rows.map((r) => ({ ...r })), [{ project_id: project!.id, role: 'editor' }]);
  }
});
