import test from 'ava';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let d: TestDatabase;
test.before(async () => {
  d = await createTestDatabase();
});
test.after.always(() => d?.drop());

async function server(): Promise<{ id: string; project_id: string }> {
  const [project] = await d.sql`insert into app.projects (name) values ('fleet') returning id`;
  const [s] = await d.sql`insert into app.servers (project_id, name) values (${project!.id}, 'web-1') returning id, project_id`;
  return s as { id: string; project_id: string };
}

async function release(s: { id: string; project_id: string }, name: string | null, releaseCommand: string | null) {
  const [r] = await d.sql`
    insert into app.releases (server_id, project_id, name, release_command)
    values (${s.id}, ${s.project_id}, ${name}, ${releaseCommand})
    returning id, effective_handle`;
  return r as { id: string; effective_handle: string | null };
}

test('a name and a derived basename collide on one server (23505 from the unique index)', async (t) => {
  const s = await server();
  t.is((await release(s, 'foo', null)).effective_handle, 'foo');
  const error = await t.throwsAsync(release(s, null, '/opt/foo/bin/foo'));
  t.is((error as { code?: string }).code, '23505');
  t.is((error as { constraint_name?: string }).constraint_name, 'releases_server_id_effective_handle_key');
  const rows = await d.sql`select name, release_command from app.releases where server_id = ${s.id}`;
  t.deepEqual([...rows], [{ name: 'foo', release_command: null }]);
});

test('a derived basename then the same name collide too', async (t) => {
  const s = await server();
  t.is((await release(s, null, '/usr/local/bin/deploy')).effective_handle, 'deploy');
  const error = await t.throwsAsync(release(s, 'deploy', '/somewhere/else'));
  t.is((error as { code?: string }).code, '23505');
});

test('trailing slashes are stripped before the basename is taken', async (t) => {
  const rows = await d.sql`
    select app.effective_handle(null, '/a/b/foo') as plain, app.effective_handle(null, '/a/b/foo/') as slash,
           app.effective_handle(null, '/a/b/foo///') as slashes, app.effective_handle('', 'foo') as bare`;
  t.deepEqual({ ...rows[0] }, { plain: 'foo', slash: 'foo', slashes: 'foo', bare: 'foo' });
});

test('the column refuses a release command with a trailing slash (23514)', async (t) => {
  const s = await server();
  const error = await t.throwsAsync(release(s, null, '/a/b/foo/'));
  t.is((error as { code?: string }).code, '23514');
  t.is((error as { constraint_name?: string }).constraint_name, 'releases_release_command_not_directory');
});

test('an empty basename is no handle at all (null, not "")', async (t) => {
  const [row] = await d.sql`
    select app.effective_handle(null, null) as a, app.effective_handle('', '') as b,
           app.effective_handle(null, '///') as c, app.effective_handle('', null) as d`;
  t.deepEqual({ ...row }, { a: null, b: null, c: null, d: null });
});

test('logs-only releases coexist on one server', async (t) => {
  const s = await server();
  await release(s, null, null);
  await release(s, null, null);
  await release(s, '', '');
  const rows = await d.sql`select count(*)::int as n from app.releases where server_id = ${s.id} and effective_handle is null`;
  t.is(rows[0]!.n, 3);
});

test('the same handle on two servers is fine', async (t) => {
  const a = await server();
  const b = await server();
  await release(a, 'api', null);
  await release(b, null, '/srv/bin/api');
  const rows = await d.sql`select server_id from app.releases where effective_handle = 'api' and server_id in (${a.id}, ${b.id})`;
  t.is(rows.length, 2);
});

test('effective_handle is generated, stored and cannot be written', async (t) => {
  const [col] = await d.sql`
    select attgenerated from pg_attribute where attrelid = 'app.releases'::regclass and attname = 'effective_handle'`;
  t.is(col!.attgenerated, 's');
  const s = await server();
  const error = await t.throwsAsync(
    d.sql`insert into app.releases (server_id, project_id, name, effective_handle) values (${s.id}, ${s.project_id}, 'x', 'y')`,
  );
  t.is((error as { code?: string }).code, '428C9');
});

test('updating the command recomputes the handle', async (t) => {
  const s = await server();
  const r = await release(s, null, '/opt/a/bin/one');
  const [row] = await d.sql`update app.releases set release_command = '/opt/a/bin/two' where id = ${r.id} returning effective_handle`;
  t.is(row!.effective_handle, 'two');
});

test('a release cannot claim another project than its server (composite foreign key)', async (t) => {
  const s = await server();
  const [other] = await d.sql`insert into app.projects (name) values ('other') returning id`;
  const error = await t.throwsAsync(release({ id: s.id, project_id: other!.id }, 'x', null));
  t.is((error as { code?: string }).code, '23503');
});

test('deleting a project deletes its servers and their releases', async (t) => {
  const s = await server();
  await release(s, 'x', null);
  await d.sql`delete from app.projects where id = ${s.project_id}`;
  const rows = await d.sql`select (select count(*)::int from app.servers where id = ${s.id}) as servers,
                                  (select count(*)::int from app.releases where server_id = ${s.id}) as releases`;
  t.deepEqual({ ...rows[0] }, { servers: 0, releases: 0 });
});

test('names with a slash or control characters are refused (23514)', async (t) => {
  const s = await server();
  for (const [name, command] of [
    ['a/b', null],
    ['a\nb', null],
    [null, '/bin/a\tb'],
  ] as const) {
    const error = await t.throwsAsync(release(s, name, command));
    t.is((error as { code?: string }).code, '23514', JSON.stringify([name, command]));
  }
});

test('a handle lookup can use the unique index', async (t) => {
  const s = await server();
  const plan = await d.sql.begin(async (tx) => {
    // An empty table is cheaper to scan; forbid that to see whether the index matches the predicate at all.
    await tx`set local enable_seqscan = off`;
    return tx.unsafe(`explain (format json) select id from app.releases where server_id = '${s.id}' and effective_handle = 'foo'`);
  });
  t.regex(JSON.stringify(plan), /releases_server_id_effective_handle_key/);
});
