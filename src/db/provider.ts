import path from 'node:path';
import type { Logger } from 'pino';
import { startEmbeddedCluster } from './embedded.ts';

/**
 * Where the database comes from: DATABASE_URL if set, else (for tests only) a
 * testcontainers PostgreSQL if a container runtime answers, else an embedded
 * cluster. The service and CLI never use a container: a throwaway database
 * would lose the data and could not be shared between `sandbar serve` and
 * `sandbar user create`. SANDBAR_DB_PROVIDER=embedded|testcontainers skips the probing.
 * See docs/adr/0003-embedded-postgres-via-pg-ctl.md.
 */
export interface DatabaseServer {
  kind: 'external' | 'testcontainers' | 'embedded';
  /** A superuser (or the given) connection string to `database`. */
  url(database: string): string;
  stop(): Promise<void>;
}

export interface ProvideOptions {
  databaseUrl?: string | undefined;
  /** Data directory of the embedded cluster (its PGDATA). */
  embeddedDir: string;
  embeddedPort: number;
  /** Extra server settings for clusters we start ourselves. */
  settings?: Record<string, string | number>;
  log: Pick<Logger, 'info' | 'debug'>;
  /** Probe for a container runtime before falling back to embedded (tests). */
  allowContainers?: boolean;
  /** See EmbeddedClusterOptions.whenRunning. */
  whenRunning?: 'own' | 'borrow';
}

export async function provideDatabaseServer(options: ProvideOptions): Promise<DatabaseServer> {
  if (options.databaseUrl) {
    const base = new URL(options.databaseUrl);
    return {
      kind: 'external',
      url: (database) => {
        const u = new URL(base);
        u.pathname = `/${database}`;
        return u.toString();
      },
      stop: async () => undefined,
    };
  }
  const forced = process.env.SANDBAR_DB_PROVIDER;
  if ((options.allowContainers && forced !== 'embedded') || forced === 'testcontainers') {
    const container = await tryTestcontainers(options);
    if (container) return container;
    if (forced === 'testcontainers') throw new Error('SANDBAR_DB_PROVIDER=testcontainers but no container runtime answered');
  }
  const cluster = await startEmbeddedCluster({
    dir: options.embeddedDir,
    port: options.embeddedPort,
    whenRunning: options.whenRunning ?? 'own',
    ...(options.settings ? { settings: options.settings } : {}),
  });
  options.log.debug(
    { dir: path.resolve(options.embeddedDir), adopted: cluster.adopted },
    cluster.adopted ? 'embedded PostgreSQL already running; using it' : 'embedded PostgreSQL started',
  );
  return { kind: 'embedded', url: cluster.url, stop: cluster.stop };
}

async function tryTestcontainers(options: ProvideOptions): Promise<DatabaseServer | undefined> {
  let tc: typeof import('testcontainers');
  let pgModule: typeof import('@testcontainers/postgresql');
  try {
    // devDependencies: absent in a production install, where this provider is simply skipped.
    tc = await import('testcontainers');
    pgModule = await import('@testcontainers/postgresql');
  } catch {
    return undefined;
  }
  try {
    await tc.getContainerRuntimeClient();
  } catch (error) {
    // testcontainers 11 fails fast with "Could not find a working container runtime strategy".
    options.log.debug({ reason: String(error) }, 'no container runtime; falling back to embedded PostgreSQL');
    return undefined;
  }
  const command = Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const container = await new pgModule.PostgreSqlContainer('postgres:18')
    .withUsername('postgres')
    .withPassword('postgres')
    .withDatabase('postgres')
    .withCommand(['postgres', ...command])
    .start();
  options.log.info({ host: container.getHost(), port: container.getPort() }, 'testcontainers PostgreSQL started');
  return {
    kind: 'testcontainers',
    url: (database) =>
      `postgres://postgres:postgres@${container.getHost()}:${container.getPort()}/${database}`,
    stop: async () => {
      await container.stop();
    },
  };
}
