import { ParameterTransform, PreparedQuery as PgtypedPreparedQuery, processSQLQueryIR } from '@pgtyped/runtime';

type QueryIR = ConstructorParameters<typeof PgtypedPreparedQuery>[0];

/**
 * The PreparedQuery that sql/*.queries.ts construct (`sandbar gen-queries` points their
 * import here): @pgtyped/runtime's, with the query text worked out once instead of on
 * every call.
 *
 * pgtyped's run() rebuilds a query's text from its IR on every call, splicing `$n` in
 * for each parameter occurrence by concatenating the whole text again each time:
 * ~26 kB of garbage and ~17 µs per call for streamItems, and in a paging profile
 * (stop 22) 29 % of everything the server allocated. For a query whose parameters
 * are all scalars the text and the order of its bindings are the same on every call,
 * so they are computed here, once. A query with an array or object expansion
 * (`@param ids -> (...)`), whose text depends on the values, keeps pgtyped's own
 * run(); so does stream(), which sandbar does not use.
 *
 * test/db/prepared-query.test.ts checks that every generated query sends the same text
 * and bindings as pgtyped's own path, and returns the same rows.
 */
export class PreparedQuery<TParams, TResult> extends PgtypedPreparedQuery<TParams, TResult> {
  constructor(ir: QueryIR) {
    super(ir);
    const { query, mapping } = processSQLQueryIR(ir);
    const names: string[] = [];
    for (const parameter of mapping) {
      if (parameter.type !== ParameterTransform.Scalar) return;
      names[parameter.assignedIndex - 1] = parameter.name;
    }
    const bindings = (params: TParams) => names.map((name) => (params as Record<string, unknown>)[name]);
    this.runWithCounts = async (params, connection) => {
      const { rows, rowCount } = await connection.query(query, bindings(params));
      return { result: withoutHints(rows) as TResult[], rowCount };
    };
    this.run = async (params, connection) => (await this.runWithCounts(params, connection)).result;
  }
}

/**
 * What pgtyped's run() does to result rows (its mapQueryResultRows, which it does not
 * export): a column named with a nullability hint (`"items!"`, `"x?"`) loses the hint.
 * pgtyped renames in place, assigning the new key and deleting the old; a delete turns
 * the row into a dictionary-mode object, which cost ~1.6 µs a row and made JSON.stringify
 * of it ~2.5× slower (micro-benchmark, stop 25). So a result with a hinted column is
 * built anew, its keys in the query's column order (pgtyped's moved hinted keys last;
 * JSON objects are unordered, and nothing reads the order). Every row of a result has the
 * first row's columns. A result with no hinted column is returned as it is.
 */
function withoutHints(rows: unknown[]): unknown[] {
  const first = rows[0] as Record<string, unknown> | undefined;
  if (first === undefined) return rows;
  const columns = Object.keys(first);
  const names = columns.map((column) => {
    const last = column[column.length - 1];
    return last === '!' || last === '?' ? column.slice(0, -1) : column;
  });
  if (names.every((name, i) => name === columns[i])) return rows;
  return (rows as Array<Record<string, unknown>>).map((row) => {
    const renamed: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) renamed[names[i]!] = row[columns[i]!];
    return renamed;
  });
}
