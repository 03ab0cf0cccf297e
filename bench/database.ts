import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import postgres from 'postgres';
import { freePort } from '../src/db/embedded.ts';
import { ensureDatabase, migrateWithCurrent } from '../src/db/migrate.ts';
import { provideDatabaseServer, type DatabaseServer } from '../src/db/provider.ts';

export interface BenchDatabase {
  kind: DatabaseServer['kind'];
  /** A temporary directory for this run (the embedded cluster lives in its pg/). */
  dir: string;
  adminUrl: string;
  /** The freshly created and migrated database. */
  url: string;
  /** Drops the database, stops the cluster (it runs detached) and removes `dir`. */
  stop(): Promise<void>;
}

/**
 * A fresh, migrated database for a benchmark: DATABASE_URL's server if set,
 * else an embedded cluster in a temporary directory (never a container).
 */
export async function openBenchDatabase(
  name: string,
  log: Pick<Logger, 'info' | 'debug'>,
  settings: Record<string, string | number> = {},
): Promise<BenchDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sandbar-bench-'));
  const server = await provideDatabaseServer({
    databaseUrl: process.env.DATABASE_URL,
    embeddedDir: path.join(dir, 'pg'),
    embeddedPort: await freePort(),
    allowContainers: false,
    settings,
    log,
  });
  const adminUrl = server.url('postgres');
  const dropDatabase = async () => {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`drop database if exists ${name} with (force)`).finally(() => admin.end());
  };
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await dropDatabase().catch(() => undefined);
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    })());
  try {
    await dropDatabase();
    await ensureDatabase(adminUrl, name);
    await migrateWithCurrent(server.url(name), adminUrl);
  } catch (error) {
    await stop();
    throw error;
  }
  return { kind: server.kind, dir, adminUrl, url: server.url(name), stop };
}
