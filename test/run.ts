/**
 * `npm test`: provides one PostgreSQL server for the whole run (DATABASE_URL,
 * else testcontainers if a container runtime answers, else embedded), migrates
 * a template database once, then runs ava. Each test file clones the template
 * (test/helpers/db.ts), so files run in parallel without sharing state.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { ensureDatabase, migrateWithCurrent } from '../src/db/migrate.ts';
import { provideDatabaseServer } from '../src/db/provider.ts';
import { createLogger } from '../src/log.ts';
import { freePort } from '../src/db/embedded.ts';

export const TEMPLATE_DATABASE = 'sandbar_test_template';

const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'sandbar-test-'));
const started = Date.now();
const server = await provideDatabaseServer({
  databaseUrl: process.env.DATABASE_URL,
  embeddedDir: path.join(tmp, 'pg'),
  embeddedPort: await freePort(),
  allowContainers: true,
  // Throwaway test data: durability off for speed (the fault suite turns it back on).
  settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: 400 },
  log,
}).catch(async (error: unknown) => {
  await rm(tmp, { recursive: true, force: true });
  throw error;
});
let code = 1;
try {
  const adminUrl = server.url('postgres');
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
  await admin.end();
  await ensureDatabase(adminUrl, TEMPLATE_DATABASE);
  await migrateWithCurrent(server.url(TEMPLATE_DATABASE), adminUrl);
  console.log(`test database server: ${server.kind}, template migrated in ${Date.now() - started} ms`);

  const ava = path.resolve('node_modules', 'ava', 'entrypoints', 'cli.mjs');
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [ava, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: {
        ...process.env,
        SANDBAR_TEST_ADMIN_URL: adminUrl,
        SANDBAR_TEST_TEMPLATE: TEMPLATE_DATABASE,
        SANDBAR_TEST_DATA_DIR: tmp,
      },
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('close', (c) => resolve(c ?? 1));
  });
} finally {
  await server.stop();
  await rm(tmp, { recursive: true, force: true });
}
process.exit(code);
