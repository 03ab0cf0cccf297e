import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type Service } from '../../src/service.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TestServer extends TestDatabase {
  url: string;
  service: Service;
  /** fetch() against the server; `path` is relative to its root. */
  request(path: string, init?: RequestInit & { json?: unknown; token?: string }): Promise<Response>;
  /** Stops the service and drops its database; call from `test.after.always`. */
  stop(): Promise<void>;
}

/** The real service over real HTTP on its own database cloned from the migrated template. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_URL: database.url,
    SANDBAR_DATA_DIR: process.env.SANDBAR_TEST_DATA_DIR ?? '.data-test',
    ...env,
  });
  const log = createLogger(config.LOG_LEVEL);
  const service = await startService(config, log, {
    url: database.url,
    server: { kind: 'external', url: () => database.url, stop: async () => undefined },
  });
  return {
    ...database,
    url: service.url,
    service,
    request(path, init = {}) {
      const { json, token, headers, ...rest } = init;
      const h = new Headers(headers);
      if (json !== undefined) h.set('content-type', 'application/json');
      if (token) h.set('authorization', `Bearer ${token}`);
      return fetch(`${service.url}${path}`, {
        ...rest,
        headers: h,
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
    },
    async stop() {
      await service.stop();
      await database.drop();
    },
  };
}
