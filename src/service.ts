import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import { createDb, type Db } from './db/db.ts';
import { ensureDatabase, migrate } from './db/migrate.ts';
import { provideDatabaseServer, type DatabaseServer } from './db/provider.ts';
import { createApp, type App } from './http/app.ts';
import { Auth } from './identity/auth.ts';
import { loadSigningKey } from './identity/keys.ts';
import { listen, type HttpServer } from './http/server.ts';
import { startExternalMemoryGovernor } from './memory.ts';

export const DATABASE_NAME = 'sandbar';

export interface Database {
  server: DatabaseServer;
  /** Connection string of the sandbar database. */
  url: string;
}

/** Finds or starts the database server (see provider.ts), creates the `sandbar` database and migrates it. */
export async function openDatabase(
  config: Config,
  log: Logger,
  options: { migrate: boolean; whenRunning?: 'own' | 'borrow' },
): Promise<Database> {
  const server = await provideDatabaseServer({
    databaseUrl: config.DATABASE_URL,
    embeddedDir: path.join(config.dataDir, 'pg'),
    embeddedPort: config.SANDBAR_PG_PORT,
    log,
    ...(options.whenRunning ? { whenRunning: options.whenRunning } : {}),
  });
  try {
    const url = config.DATABASE_URL ?? server.url(DATABASE_NAME);
    if (server.kind !== 'external') await ensureDatabase(server.url('postgres'), DATABASE_NAME);
    if (options.migrate) await migrate(url, server.kind === 'external' ? url : server.url('postgres'));
    return { server, url };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

export interface Service {
  url: string;
  db: Db;
  auth: Auth;
  app: App;
  http: HttpServer;
  stop(): Promise<void>;
}

/** Starts the HTTP service on an open database. `stop()` drains requests, closes the pools, then the database. */
export async function startService(config: Config, log: Logger, database: Database): Promise<Service> {
  const db = createDb({
    url: database.url,
    longUrl: config.SANDBAR_LONG_DATABASE_URL,
    poolMax: config.SANDBAR_DB_POOL_MAX,
    longPoolMax: config.SANDBAR_DB_LONG_POOL_MAX,
    longQueueTimeoutMs: config.SANDBAR_LONG_QUEUE_TIMEOUT_MS,
    statementTimeoutMs: config.SANDBAR_STATEMENT_TIMEOUT_MS,
  });
  let http: HttpServer;
  let auth: Auth;
  let app: App;
  try {
    auth = new Auth(await loadSigningKey(config), config, db, log);
    app = createApp({ config, db, log, auth });
    http = await listen(app.koa, config.HOST, config.PORT, { bodyLimitBytes: config.SANDBAR_BODY_LIMIT_BYTES });
  } catch (error) {
    await db.end(1);
    throw error;
  }
  const memory = startExternalMemoryGovernor(config.SANDBAR_GC_SLACK_MB * 1024 * 1024, log);
  let stopping: Promise<void> | undefined;
  return {
    url: http.url,
    db,
    auth,
    app,
    http,
    stop() {
      stopping ??= (async () => {
        await http.close(config.SANDBAR_SHUTDOWN_TIMEOUT_MS);
        memory.stop();
        await auth.close();
        await db.end(5);
        await database.server.stop();
      })();
      return stopping;
    },
  };
}
