import test from 'ava';
import type postgres from 'postgres';
import { downloadItems } from '../../sql/collections.queries.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

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

test('key patterns: * is the only wildcard; %, _ and \\ are literal', async (t) => {
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
  for (const [pattern, key, expected] of cases) {
    const [row] = await d.sql`select ${key}::text like app.key_pattern_to_like(${pattern}) as matches`;
    t.is(row!.matches, expected, `${pattern} ~ ${key}`);
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
  t.deepEqual((await stats(d.sql, c)).kept, { item_count: 14, byte_size: (await stats(d.sql, c)).real.byte_size });
});

test('app.item_json is the JSON json_build_object would build, for awkward keys and values, and is inlined', async (t) => {
  const p = await project(d.sql);
  const c = await collection(d.sql, p, 'awkward');
  const values = ['plain', '"quoted" \\ back\\slash', 'tab\tnew\nline\r\u0001\u001f', 'ünïcödé ✓ 🐈‍⬛', '{"json":"inside"}', ''];
  await d.sql`
    insert into app.items (collection_id, project_id, key, value)
    select ${c}, ${p}, 'k' || i || v, v from unnest(${values}::text[]) with ordinality as x(v, i)`;
  const rows = await d.sql`
    select app.item_json(key, value, created_at, updated_at) as item,
           app.item_json(key, value, created_at, updated_at)::jsonb
             = json_build_object('key', key, 'value', value, 'created', created_at, 'updated', updated_at)::jsonb as same
      from app.items where collection_id = ${c} order by id`;
  t.is(rows.length, values.length);
  t.true(rows.every((r) => r.same === true));
  // What a client gets back: the stored strings, unchanged, and ISO-8601 timestamps.
  t.deepEqual(
    rows.map((r) => (JSON.parse(r.item as string) as { value: string }).value),
    values,
  );
  t.regex((JSON.parse(rows[0]!.item as string) as { created: string }).created, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}:\d{2}$/);
  const plan = await d.sql`explain verbose select app.item_json(key, value, created_at, updated_at) from app.items where collection_id = ${c}`;
  const text = plan.map((r) => r['QUERY PLAN'] as string).join('\n');
  t.false(text.includes('item_json'), text);
  t.true(text.includes('to_json'), text);
});

test('a download of a collection that is most of the table reads it in order through items_pkey on the long pool, never sorting it', async (t) => {
  // The planner's cheapest total plan for such a collection is a seq scan and a sort of all of it,
  // which would spill the whole collection to disk before the first byte; src/db/db.ts.
  const p = await project(d.sql);
  const big = await collection(d.sql, p, 'dominant');
  const small = await collection(d.sql, p, 'small');
  // Written interleaved, as concurrent writers leave them: the heap order then says nothing of the
  // index order, and reading two thirds of the table by index looks dearer than seq scan and sort.
  await d.sql`insert into app.items (collection_id, project_id, key, value)
              select case when i % 3 = 0 then ${small}::uuid else ${big}::uuid end, ${p}, 'k' || i, repeat('v', 200)
              from generate_series(1, 45000) i`;
  await d.sql`analyze app.items`;
  // The generated statement's text, as pgtyped sends it.
  let statement: { query: string; bindings: unknown[] } | undefined;
  await downloadItems.run({ collectionId: big }, { query: async (query, bindings) => ((statement = { query, bindings }), { rows: [], rowCount: 0 }) });
  const plan = async (sql: postgres.Sql) => (await sql.unsafe(`explain ${statement!.query}`, statement!.bindings as never[])).map((r) => r['QUERY PLAN'] as string).join('\n');
  const long = await plan(d.db.long);
  t.regex(long, /Index Scan using items_pkey/);
  t.notRegex(long, /Sort/);
  // The same statement on the hot pool, planned with PostgreSQL's defaults: the sort this avoids.
  t.regex(await plan(d.db.sql), /Sort/);
});
