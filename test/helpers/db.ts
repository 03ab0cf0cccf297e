import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createDb, type Db } from '../../src/db/db.ts';
import { until } from './poll.ts';

export interface TestDatabase {
  name: string;
  url: string;
  db: Db;
  /** A superuser connection to this database, for setting up rows and asserting on them. */
  sql: postgres.Sql;
  /** Closes every connection and drops the database. */
  drop(): Promise<void>;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\` (test/run.ts provides the database).`);
  return value;
}

export function adminUrl(database = 'postgres'): string {
  const u = new URL(env('SANDBAR_TEST_ADMIN_URL'));
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh database cloned from the migrated template, dropped when the test process exits. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database ${name} template ${env('SANDBAR_TEST_TEMPLATE')}`);
  } finally {
    await admin.end();
  }
  const url = adminUrl(name);
  const db = createDb({ url, poolMax: 4, longPoolMax: 4, longQueueTimeoutMs: 60_000, statementTimeoutMs: 30_000, applicationName: 'sandbar-test' });
  const sql = postgres(url, { max: 2, onnotice: () => undefined });
  return {
    name,
    url,
    db,
    sql,
    async drop() {
      await db.end(1);
      await sql.end({ timeout: 1 });
      const a = postgres(adminUrl(), { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists ${name} with (force)`).finally(() => a.end());
    },
  };
}

/**
 * Waits until graphile-migrate's pooled connection (it has no application_name)
 * has left the server at `url`: migrate() closes its pool without waiting, and a
 * test that stops the server right after would otherwise race that close.
 */
export async function migratorGone(url: string): Promise<void> {
  const admin = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await until('graphile-migrate to release its connection', 10_000, async () => {
      const [row] = await admin<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where backend_type = 'client backend' and application_name = '' and pid <> pg_backend_pid()`;
      return row!.n === 0 ? true : undefined;
    });
  } finally {
    await admin.end({ timeout: 1 });
  }
}
