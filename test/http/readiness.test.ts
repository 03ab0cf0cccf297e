/**
 * /readyz follows the database: 503 not_ready (with Retry-After) while the
 * cluster is down, 200 again once it is back — without restarting the service.
 * /healthz never touches the database and stays 200 throughout. The test owns
 * a dedicated embedded cluster, since it stops and restarts it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { loadConfig } from '../../src/config/config.ts';
import { freePort, startEmbeddedCluster, type EmbeddedCluster } from '../../src/db/embedded.ts';
import { ensureDatabase, latestCommittedMigration, migrateWithCurrent } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';
import { DATABASE_NAME, startService, type Service } from '../../src/service.ts';
import { until } from '../helpers/poll.ts';
import { migratorGone } from '../helpers/db.ts';

let tmp: string;
let pgDir: string;
let pgPort: number;
let clusters: EmbeddedCluster[] = [];
let service: Service | undefined;

test.before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sandbar-readiness-'));
  pgDir = path.join(tmp, 'pg');
  pgPort = await freePort();
  const cluster = await startEmbeddedCluster({ dir: pgDir, port: pgPort, settings: { fsync: 'off' } });
  clusters.push(cluster);
  await ensureDatabase(cluster.url('postgres'), DATABASE_NAME);
  await migrateWithCurrent(cluster.url(DATABASE_NAME), cluster.url('postgres'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: cluster.url(DATABASE_NAME),
    SANDBAR_DATA_DIR: tmp,
  });
  // The cluster's lifetime is the test's, not the service's: stop() leaves it alone.
  service = await startService(config, createLogger(config.LOG_LEVEL), {
    url: cluster.url(DATABASE_NAME),
    server: { kind: 'embedded', url: cluster.url, stop: async () => undefined },
  });
});

test.after.always(async () => {
  await service?.stop();
  for (const cluster of clusters.reverse()) await cluster.stop().catch(() => undefined);
  clusters = [];
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function get(route: string): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
  const res = await fetch(`${service!.url}${route}`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

test.serial('/readyz is 503 while the database is down and 200 once it is back; /healthz stays 200', async (t) => {
  const migration = (await latestCommittedMigration()) ?? null;
  const ready = { status: 200, retryAfter: null, body: { status: 'ready', migration } };
  const healthy = { status: 200, retryAfter: null, body: { status: 'ok' } };

  t.deepEqual(await get('/readyz'), ready);
  t.deepEqual(await get('/healthz'), healthy);

  await migratorGone(clusters[0]!.url('postgres'));
  await clusters[0]!.stop();

  let healthChecks = 0;
  const down = await until('/readyz 503', 15_000, async () => {
    t.deepEqual(await get('/healthz'), healthy);
    healthChecks++;
    const r = await get('/readyz');
    return r.status === 200 ? undefined : r;
  });
  t.deepEqual(down, {
    status: 503,
    retryAfter: '1',
    body: { error: 'not_ready', message: 'The database is unreachable.' },
  });
  // Still down on a second look: the 503 is a state, not a one-off.
  t.deepEqual(await get('/readyz'), down);

  const again = await startEmbeddedCluster({ dir: pgDir, port: pgPort, settings: { fsync: 'off' } });
  clusters.push(again);
  t.false(again.adopted, 'the cluster was really stopped and is started afresh');

  const up = await until('/readyz 200', 15_000, async () => {
    t.deepEqual(await get('/healthz'), healthy);
    healthChecks++;
    const r = await get('/readyz');
    return r.status === 200 ? r : undefined;
  });
  t.deepEqual(up, ready);
  t.deepEqual(await get('/readyz'), ready);
  t.true(healthChecks >= 2);
});
