import postgres from 'postgres';

/**
 * The database handle the whole service shares.
 *
 * Two postgres.js pools, because postgres.js pipelines queries on a connection:
 * on 2 cores a small pool is 2–3× faster for point queries than the default 10
 * (../shared/docs/performance-notes.md), but one long transaction then blocks what
 * is queued behind it. So point queries use `sql` and long work (merges, streams,
 * batched deletes) uses `long`. See docs/adr/0004-two-pools.md.
 */
export interface Db {
  sql: postgres.Sql;
  long: postgres.Sql;
  /** pgtyped's connection interface over the hot pool. */
  conn: Queryable;
  /** Runs `fn` in one transaction on `pool`, retrying it on serialization failures and deadlocks. */
  tx<T>(fn: (conn: TxQueryable) => Promise<T>, options?: TxOptions): Promise<T>;
  /**
   * Runs one statement (one PL/pgSQL call, say) on the hot pool, retrying it like tx().
   * A lone statement is already its own transaction, and without BEGIN and COMMIT it
   * takes one round trip instead of three and keeps its connection open to pipelining.
   */
  statement<T>(fn: (conn: Queryable) => Promise<T>, options?: Pick<TxOptions, 'attempts'>): Promise<T>;
  /**
   * One of the long pool's slots, one per connection: long work (a stream, a merge, a
   * batch of a big delete) holds one while it runs. Waits at most `longQueueTimeoutMs`,
   * then rejects with LongWorkQueueFull (503 busy): otherwise a request would queue
   * behind streams whose clients read slowly, for as long as they take. Resolves to the
   * release function (calling it twice is harmless). tx({ pool: 'long' }) takes one itself.
   */
  longSlot(): Promise<() => void>;
  stats(): PoolStats;
  end(timeoutSeconds?: number): Promise<void>;
}

/** The shape @pgtyped/runtime's PreparedQuery.run() expects. */
export interface Queryable {
  query(query: string, bindings: unknown[]): Promise<{ rows: any[]; rowCount: number }>;
}

export interface TxQueryable extends Queryable {
  sql: postgres.TransactionSql;
}

export interface TxOptions {
  pool?: 'hot' | 'long';
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** Attempts in all, including the first (default 5). */
  attempts?: number;
}

export interface PoolStats {
  inFlight: { hot: number; long: number };
  max: { hot: number; long: number };
  /** Long-pool slots held: streams, merges and big deletes running now, each on a connection of its own. */
  longSlotsHeld: number;
  /** Long work waiting for a slot. */
  waitingForLong: number;
}

export interface DbOptions {
  url: string;
  /** The long pool's URL, when it must reach the same database another way (SANDBAR_LONG_DATABASE_URL); default `url`. */
  longUrl?: string;
  poolMax: number;
  longPoolMax: number;
  /** How long long work may wait for a long-pool slot before the request is refused. */
  longQueueTimeoutMs: number;
  statementTimeoutMs: number;
  applicationName?: string;
}

const RETRYABLE = new Set(['40001', '40P01']);

export class TransactionRetryExhausted extends Error {
  constructor(override readonly cause: unknown) {
    super('transaction kept failing with serialization failures or deadlocks');
  }
}

/** No long-pool slot came free in time: the streams, merges and big deletes running hold them all. */
export class LongWorkQueueFull extends Error {
  constructor(readonly waitedMs: number) {
    super(`no long-pool connection came free within ${waitedMs} ms`);
  }
}

/** A counting semaphore, first come first served, whose waiters give up after `timeoutMs`. */
function slots(capacity: number) {
  let free = capacity;
  const waiters: Array<() => void> = [];
  const release = () => {
    const next = waiters.shift();
    if (next) next();
    else free += 1;
  };
  const once = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  };
  return {
    waiting: () => waiters.length,
    held: () => capacity - free,
    acquire(timeoutMs: number): Promise<() => void> {
      if (free > 0) {
        free -= 1;
        return Promise.resolve(once());
      }
      return new Promise((resolve, reject) => {
        const grant = () => {
          clearTimeout(timer);
          resolve(once());
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(grant), 1);
          reject(new LongWorkQueueFull(timeoutMs));
        }, timeoutMs);
        waiters.push(grant);
      });
    },
  };
}

async function retrying<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!RETRYABLE.has((error as { code?: string }).code ?? '')) throw error;
      if (attempt >= attempts) throw new TransactionRetryExhausted(error);
      // Full jitter, so retrying transactions do not collide again in lockstep.
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** attempt));
    }
  }
}

export function createDb(options: DbOptions): Db {
  const common = {
    prepare: true,
    // Protocol-level notices (e.g. "relation already exists, skipping") are not errors.
    onnotice: () => undefined,
    connect_timeout: 10,
    // postgres.js waits before reconnecting, growing to 20 s after repeated failures, and queues
    // queries meanwhile: with the database down a request would hang instead of getting its 503.
    // Retrying a closed connection after at most 100 ms makes it fail (or recover) fast.
    backoff: () => 0.1,
    idle_timeout: 60,
    connection: {
      application_name: options.applicationName ?? 'sandbar',
      statement_timeout: options.statementTimeoutMs,
      // A client that vanished mid-transaction must not hold locks for ever.
      idle_in_transaction_session_timeout: 60_000,
      // Session settings a DBA may change for the database or the cluster, pinned here so that
      // they cannot change the API. Item JSON used to be built per read with the session's time
      // zone: a database set to local time sent items' "created"/"updated" as +05:30 while
      // everything Node serialises says UTC (it is stored in UTC since ADR 15). postgres.js
      // parses timestamps with Date, which reads only the ISO date style: under 'SQL, DMY' every
      // expires_at became an Invalid Date, and every token "revoked". And SQL function bodies are
      // parsed under the caller's standard_conforming_strings (migration 000016 made ours immune).
      TimeZone: 'UTC',
      DateStyle: 'ISO, MDY',
      standard_conforming_strings: 'on',
    },
  } satisfies postgres.Options<Record<string, postgres.PostgresType>>;
  const sql = postgres(options.url, { ...common, max: options.poolMax });
  const long = postgres(options.longUrl ?? options.url, {
    ...common,
    max: options.longPoolMax,
    connection: {
      ...common.connection,
      application_name: `${common.connection.application_name}-long`,
      // Long work pages through one collection: a plan made for the average collection (a generic
      // plan, which prepared statements switch to) can read and sort a whole big collection for
      // every 1,000-item page when most collections are small (seen: 19 ms instead of 6 ms a page,
      // in half the runs, as ANALYZE's sample varied). Planning each execution costs ~0.1 ms.
      plan_cache_mode: 'force_custom_plan',
      // When a download was one unlimited statement, for a collection that is much of the table and
      // whose rows lie interleaved with others', the cheapest plan in total was a seq scan and a
      // sort: the whole collection sorted (spilling to disk) before the first byte (the bench's
      // 1M-item download: 261k -> 199k rows/s once other collections filled up). Stream batches are
      // LIMITed now (ADR 13), which the planner prices right by itself; this stays as the guard for
      // any long work that reads a lot in order. Where no index gives the order PostgreSQL still
      // sorts, since this only prices a sort out of the running.
      enable_sort: 'off',
    },
  });

  const inFlight = { hot: 0, long: 0 };
  const counted = async <T>(which: 'hot' | 'long', p: () => Promise<T>): Promise<T> => {
    inFlight[which] += 1;
    try {
      return await p();
    } finally {
      inFlight[which] -= 1;
    }
  };

  const adapter = (s: postgres.Sql | postgres.TransactionSql, which: 'hot' | 'long'): Queryable => ({
    query: (query, bindings) =>
      counted(which, async () => {
        const rows = await s.unsafe(query, bindings as any[], { prepare: true });
        return { rows, rowCount: rows.count ?? rows.length };
      }),
  });

  const hot = adapter(sql, 'hot');
  const longSlots = slots(options.longPoolMax);
  const longSlot = () => longSlots.acquire(options.longQueueTimeoutMs);
  return {
    sql,
    long,
    conn: hot,
    tx(fn, txOptions = {}) {
      const which = txOptions.pool ?? 'hot';
      const pool = which === 'long' ? long : sql;
      const begin = txOptions.isolation ? `isolation level ${txOptions.isolation}` : '';
      const run = () =>
        retrying(
          async () => (await counted(which, () => pool.begin(begin, (t) => fn(Object.assign(adapter(t, which), { sql: t }))))) as Awaited<ReturnType<typeof fn>>,
          txOptions.attempts,
        );
      if (which === 'hot') return run();
      return longSlot().then(async (releaseSlot) => {
        try {
          return await run();
        } finally {
          releaseSlot();
        }
      });
    },
    longSlot,
    statement(fn, statementOptions = {}) {
      return retrying(() => fn(hot), statementOptions.attempts);
    },
    stats: () => ({
      inFlight: { ...inFlight },
      max: { hot: options.poolMax, long: options.longPoolMax },
      longSlotsHeld: longSlots.held(),
      waitingForLong: longSlots.waiting(),
    }),
    async end(timeoutSeconds = 5) {
      await Promise.all([sql.end({ timeout: timeoutSeconds }), long.end({ timeout: timeoutSeconds })]);
    },
  };
}
