/**
 * src/db/prepared-query.ts works out each generated query's text once instead of on
 * every call. It must send exactly what @pgtyped/runtime's own run() would, and return
 * rows shaped the same way, for every query in sql/*.queries.ts.
 */
import { readdir } from 'node:fs/promises';
import { PreparedQuery as PgtypedPreparedQuery } from '@pgtyped/runtime';
import test from 'ava';
import { PreparedQuery } from '../../src/db/prepared-query.ts';

const sqlDir = new URL('../../sql/', import.meta.url);
const modules = (await readdir(sqlDir)).filter((f) => f.endsWith('.queries.ts')).sort();

/** Every PreparedQuery the generated files export, by "file › name". */
const queries = new Map<string, PgtypedPreparedQuery<unknown, unknown>>();
for (const file of modules) {
  const exports = (await import(new URL(file, sqlDir).href)) as Record<string, unknown>;
  for (const [name, value] of Object.entries(exports)) {
    if (value instanceof PgtypedPreparedQuery) queries.set(`${file} › ${name}`, value as PgtypedPreparedQuery<unknown, unknown>);
  }
}

/**
 * A connection that records what it is sent and answers fresh copies of `rows`, with a
 * rowCount unlike their number (an UPDATE's count), so a runWithCounts that counted the
 * rows itself would show.
 */
function recorder(rows: Array<Record<string, unknown>>) {
  const sent: Array<{ query: string; bindings: unknown[] }> = [];
  return {
    sent,
    query: async (query: string, bindings: unknown[]) => {
      sent.push({ query, bindings });
      return { rows: rows.map((r) => ({ ...r })), rowCount: rows.length + 5 };
    },
  };
}

test('every generated file constructs its queries with sandbar’s PreparedQuery (gen-queries rewrites the import)', (t) => {
  t.true(modules.length >= 5, modules.join(', '));
  t.true(queries.size >= 40, `${queries.size} queries`);
  for (const [name, query] of queries) t.true(query instanceof PreparedQuery, name);
});

test('every query sends the text and bindings pgtyped’s own run() sends, and maps hinted columns the same way', async (t) => {
  const rows = [{ 'id!': 1, 'role?': 'owner', plain: 'x', 'a!b': 2 }, { 'id!': 2, 'role?': null, plain: 'y', 'a!b': 3 }];
  for (const [name, query] of queries) {
    const ir = (query as unknown as { queryIR: ConstructorParameters<typeof PgtypedPreparedQuery>[0] }).queryIR;
    // Each parameter a distinct value, one left out (undefined), so a swapped or dropped binding shows.
    const params: Record<string, unknown> = {};
    (ir as { params: Array<{ name: string }> }).params.forEach((p, i) => (params[p.name] = i === 1 ? undefined : `value-${i}-${p.name}`));
    const ours = recorder(rows);
    const theirs = recorder(rows);
    const reference = new PgtypedPreparedQuery<unknown, unknown>(ir);
    t.deepEqual(await query.run(params, ours), await reference.run(params, theirs), name);
    t.deepEqual(ours.sent, theirs.sent, name);
    t.deepEqual(await query.runWithCounts(params, ours), await reference.runWithCounts(params, theirs), name);
    t.deepEqual(ours.sent, theirs.sent, name);
  }
});

test('a query with an array expansion, whose text depends on its values, keeps pgtyped’s own path', async (t) => {
  // `@param ids -> (...)` then `select 1 where id in :ids and name = :name!` (no generated query has an expansion yet)
  const statement = 'select 1 where id in :ids and name = :name!';
  const ir = {
    usedParamSet: { ids: true, name: true },
    params: [
      { name: 'ids', required: false, transform: { type: 'array_spread' }, locs: [{ a: 21, b: 24 }] },
      { name: 'name', required: true, transform: { type: 'scalar' }, locs: [{ a: 37, b: 42 }] },
    ],
    statement,
  } as unknown as ConstructorParameters<typeof PgtypedPreparedQuery>[0];
  const conn = recorder([]);
  const query = new PreparedQuery<{ ids: number[]; name: string }, unknown>(ir);
  await query.run({ ids: [7, 8], name: 'n' }, conn);
  await query.run({ ids: [9], name: 'm' }, conn);
  t.deepEqual(conn.sent, [
    { query: 'select 1 where id in ($1,$2) and name = $3', bindings: [7, 8, 'n'] },
    { query: 'select 1 where id in ($1) and name = $2', bindings: [9, 'm'] },
  ]);
});

test('hinted columns lose their hint in new rows that keep the column order; a result without hints is passed through', async (t) => {
  const query = [...queries.values()].find((q) => q instanceof PreparedQuery)!;
  const hinted = [{ 'id!': 1, plain: 'x', 'role?': 'owner' }, { 'id!': 2, plain: 'y', 'role?': null }];
  const mapped = (await query.run({}, recorder(hinted))) as Array<Record<string, unknown>>;
  t.deepEqual(mapped, [{ id: 1, plain: 'x', role: 'owner' }, { id: 2, plain: 'y', role: null }]);
  t.deepEqual(Object.keys(mapped[0]!), ['id', 'plain', 'role']);
  const unhinted = [{ id: 1, plain: 'x' }];
  const conn = { query: async () => ({ rows: unhinted, rowCount: 1 }) };
  t.is((await query.run({}, conn))[0], unhinted[0]);
  t.deepEqual(await query.run({}, { query: async () => ({ rows: [], rowCount: 0 }) }), []);
});
