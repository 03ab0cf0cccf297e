/**
 * The error map (src/http/errors.ts) against real PostgreSQL errors as
 * postgres.js surfaces them: every sqlstateMap entry raised from PL/pgSQL,
 * real constraint violations, our custom 'SB4xx' codes, and what must stay a
 * 500 (toHttpError → undefined).
 */
import net from 'node:net';
import test from 'ava';
import postgres from 'postgres';
import { HttpError, respondWithError, sqlstateMap, toHttpError } from '../../src/http/errors.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let d: TestDatabase;
test.before(async () => {
  d = await createTestDatabase();
});
test.after.always(() => d?.drop());

/**
 * What each SQLSTATE must mean to a client, written out independently of the
 * map so that a wrong or missing entry fails here.
 */
const expected: Record<string, [status: number, error: string, retryAfter: boolean]> = {
  '23505': [409, 'conflict', false], // unique_violation
  '23P01': [409, 'conflict', false], // exclusion_violation
  '23514': [422, 'invalid', false], // check_violation
  '23502': [422, 'invalid', false], // not_null_violation
  '22001': [422, 'invalid', false], // string_data_right_truncation
  '22P05': [422, 'invalid', false], // untranslatable_character
  '22021': [422, 'invalid', false], // character_not_in_repertoire
  '428C9': [422, 'invalid', false], // generated_always
  '22P02': [400, 'bad_request', false], // invalid_text_representation
  '22007': [400, 'bad_request', false], // invalid_datetime_format
  '22008': [400, 'bad_request', false], // datetime_field_overflow
  '22009': [400, 'bad_request', false], // invalid_time_zone_displacement_value
  '22003': [400, 'bad_request', false], // numeric_value_out_of_range
  '22023': [400, 'bad_request', false], // invalid_parameter_value
  '2201W': [400, 'bad_request', false], // invalid_row_count_in_limit_clause
  '2201X': [400, 'bad_request', false], // invalid_row_count_in_result_offset_clause
  '40001': [503, 'busy', true], // serialization_failure
  '40P01': [503, 'busy', true], // deadlock_detected
  '55P03': [503, 'busy', true], // lock_not_available
  '57014': [503, 'timeout', true], // query_canceled
  '25006': [503, 'database_read_only', true], // read_only_sql_transaction
  '53300': [503, 'database_unavailable', true], // too_many_connections
  '57P01': [503, 'database_unavailable', true], // admin_shutdown
  '57P02': [503, 'database_unavailable', true], // crash_shutdown
  '57P03': [503, 'database_unavailable', true], // cannot_connect_now
  '08000': [503, 'database_unavailable', true], // connection_exception
  '08001': [503, 'database_unavailable', true], // sqlclient_unable_to_establish_sqlconnection
  '08003': [503, 'database_unavailable', true], // connection_does_not_exist
  '08004': [503, 'database_unavailable', true], // sqlserver_rejected_establishment_of_sqlconnection
  '08006': [503, 'database_unavailable', true], // connection_failure
};

/** Runs `query` and returns what postgres.js rejects with (fails if it succeeds). */
async function pgError(sql: postgres.Sql | postgres.ReservedSql, query: string): Promise<postgres.PostgresError> {
  try {
    await sql.unsafe(query);
  } catch (error) {
    return error as postgres.PostgresError;
  }
  throw new Error(`expected an error from: ${query}`);
}

function raise(code: string, using = ''): string {
  return `do $$ begin raise exception using errcode = '${code}'${using ? `, ${using}` : ''}; end $$`;
}

/** The status, headers and body respondWithError would send. */
function served(error: HttpError): { status: number; headers: Record<string, string>; body: unknown } {
  const ctx = { status: 0, body: undefined as unknown, headers: {} as Record<string, string>, set(k: string, v: string) { this.headers[k] = v; } };
  respondWithError(ctx as never, error);
  return { status: ctx.status, headers: ctx.headers, body: ctx.body };
}

test('the map has exactly the expected SQLSTATEs', (t) => {
  t.deepEqual(Object.keys(sqlstateMap).sort(), Object.keys(expected).sort());
});

for (const code of Object.keys(sqlstateMap)) {
  test(`SQLSTATE ${code} raised in PostgreSQL maps to ${expected[code]?.slice(0, 2).join(' ') ?? '(unexpected entry)'}`, async (t) => {
    const want = expected[code];
    if (!want) return t.fail(`${code} is in sqlstateMap but not in this test's table`);
    const [status, error, retryAfter] = want;
    const raised = await pgError(d.sql, raise(code));
    t.is(raised.code, code);
    const mapped = toHttpError(raised);
    if (!mapped) return t.fail(`${code} mapped to undefined`);
    t.deepEqual(served(mapped), {
      status,
      headers: retryAfter ? { 'retry-after': '1' } : {},
      body: { error, message: sqlstateMap[code]!.message },
    });
  });
}

test('a real unique violation is 409 conflict naming the constraint', async (t) => {
  const conn = await d.sql.reserve();
  try {
    await conn`create temp table uniq (name text unique)`;
    await conn`insert into uniq values ('a')`;
    const error = await pgError(conn, `insert into uniq values ('a')`);
    t.is(error.code, '23505');
    t.deepEqual(served(toHttpError(error)!), {
      status: 409,
      headers: {},
      body: { error: 'conflict', message: 'That conflicts with an existing record. (uniq_name_key)' },
    });
  } finally {
    conn.release();
  }
});

test('a real foreign key violation is 422 on insert and 409 on deleting a referenced row', async (t) => {
  const conn = await d.sql.reserve();
  try {
    await conn`create temp table parent (id int primary key)`;
    await conn`create temp table child (parent_id int references parent (id))`;
    await conn`insert into parent values (1)`;
    await conn`insert into child values (1)`;

    const insert = await pgError(conn, 'insert into child values (2)');
    t.is(insert.code, '23503');
    t.deepEqual(served(toHttpError(insert)!), {
      status: 422,
      headers: {},
      body: { error: 'invalid', message: 'A referenced record does not exist.' },
    });

    const del = await pgError(conn, 'delete from parent where id = 1');
    t.is(del.code, '23503');
    t.deepEqual(served(toHttpError(del)!), {
      status: 409,
      headers: {},
      body: { error: 'conflict', message: 'The record is still referenced by others.' },
    });
  } finally {
    conn.release();
  }
});

test('real errors from ordinary statements map like their raised SQLSTATEs', async (t) => {
  const conn = await d.sql.reserve();
  try {
    await conn`create temp table v (
      short varchar(2),
      req int not null default 0,
      pos int check (pos > 0),
      gen int generated always as (req + 1) stored,
      r int4range,
      exclude using gist (r with &&)
    )`;
    const cases: Array<[query: string, code: string]> = [
      [`select 'abc'::int`, '22P02'],
      [`select 'not a date'::date`, '22007'],
      [`select '2024-13-45'::date`, '22008'],
      // A collections date filter's offset beyond ±15:59 (the route passes the filter as text).
      [`select '2020-01-01T00:00:00+99'::text::timestamptz`, '22009'],
      [`select 2147483647::int + 1`, '22003'],
      [`select generate_series(1, 10, 0)`, '22023'],
      [`select 1 limit -1`, '2201W'],
      [`select 1 offset -1`, '2201X'],
      [`select '"\\u0000"'::jsonb`, '22P05'],
      [`select convert_from('\\xff'::bytea, 'UTF8')`, '22021'],
      [`insert into v (short) values ('abc')`, '22001'],
      [`insert into v (req) values (null)`, '23502'],
      [`insert into v (pos) values (0)`, '23514'],
      [`insert into v (gen) values (1)`, '428C9'],
      [`insert into v (r) values ('[1,5)'), ('[3,7)')`, '23P01'],
    ];
    for (const [query, code] of cases) {
      const error = await pgError(conn, query);
      t.is(error.code, code, query);
      const mapped = toHttpError(error);
      t.is(mapped?.status, expected[code]![0], query);
      t.is(mapped?.code, expected[code]![1], query);
    }
    await conn`set statement_timeout = 50`;
    const timeout = await pgError(conn, 'select pg_sleep(5)');
    await conn`reset statement_timeout`;
    t.is(timeout.code, '57014');
    t.deepEqual(served(toHttpError(timeout)!), {
      status: 503,
      headers: { 'retry-after': '1' },
      body: { error: 'timeout', message: 'The operation took too long and was cancelled.' },
    });
  } finally {
    conn.release();
  }
});

test('custom SB404 becomes 404 with the message as the error code and the detail as the message', async (t) => {
  const error = await pgError(d.sql, raise('SB404', `message = 'thing_not_found', detail = 'No thing.'`));
  t.is(error.code, 'SB404');
  t.deepEqual(served(toHttpError(error)!), {
    status: 404,
    headers: {},
    body: { error: 'thing_not_found', message: 'No thing.' },
  });
});

test('a custom code with a JSON hint adds its fields to the body', async (t) => {
  const error = await pgError(
    d.sql,
    raise('SB409', `message = 'stale_lock_version', detail = 'Someone else changed it.', hint = '{"lock_version":3}'`),
  );
  t.deepEqual(served(toHttpError(error)!), {
    status: 409,
    headers: {},
    body: { error: 'stale_lock_version', message: 'Someone else changed it.', lock_version: 3 },
  });
});

test('a hint cannot overwrite the error code or message, and a non-JSON hint adds nothing', async (t) => {
  const clobber = await pgError(
    d.sql,
    raise('SB422', `message = 'bad_thing', detail = 'Bad thing.', hint = '{"error":"x","message":"y","field":"name"}'`),
  );
  t.deepEqual(served(toHttpError(clobber)!).body, { error: 'bad_thing', message: 'Bad thing.', field: 'name' });

  const plain = await pgError(d.sql, raise('SB409', `message = 'busy_thing', detail = 'Busy.', hint = 'try later'`));
  t.deepEqual(served(toHttpError(plain)!).body, { error: 'busy_thing', message: 'Busy.' });
});

test('malformed custom codes, unmapped SQLSTATEs and unknown errors are bugs (undefined → 500)', async (t) => {
  for (const code of ['SB999', 'SB200', 'SB500', 'SB4X4']) {
    const error = await pgError(d.sql, raise(code, `message = 'thing_not_found', detail = 'No thing.'`));
    t.is(error.code, code);
    t.is(toHttpError(error), undefined, code);
  }
  t.is(toHttpError(await pgError(d.sql, `do $$ begin raise exception 'boom'; end $$`)), undefined, 'P0001');
  t.is(toHttpError(await pgError(d.sql, 'select 1/0')), undefined, '22012');
  t.is(toHttpError(await pgError(d.sql, 'select * from no_such_table')), undefined, '42P01');
  t.is(toHttpError(new Error('boom')), undefined);
  t.is(toHttpError(new TypeError('x is undefined')), undefined);
  t.is(toHttpError('a string'), undefined);
  t.is(toHttpError(null), undefined);
  t.is(toHttpError(undefined), undefined);
});

test('an unreachable database is 503 database_unavailable', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as net.AddressInfo;
      s.close(() => resolve(p));
    });
  });
  const sql = postgres(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, { max: 1, connect_timeout: 5 });
  try {
    const error = await pgError(sql, 'select 1');
    t.is((error as { code?: string }).code, 'ECONNREFUSED');
    t.deepEqual(served(toHttpError(error)!), {
      status: 503,
      headers: { 'retry-after': '1' },
      body: { error: 'database_unavailable', message: 'The database is unavailable; try again shortly.' },
    });
  } finally {
    await sql.end({ timeout: 1 });
  }
});
