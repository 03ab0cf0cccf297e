import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type Service } from '../../src/service.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { checkBody, checkResponse, type Exchange } from './openapi.ts';

export interface TestServer extends TestDatabase {
  /** The HTTP server's root URL (TestDatabase's `url` is kept as `databaseUrl`). */
  url: string;
  databaseUrl: string;
  service: Service;
  /**
   * fetch() against the server; `path` is relative to its root. Every response
   * is checked against the OpenAPI document (test/helpers/openapi.ts): a
   * disagreement rejects the promise, or, for a streamed body, the body read
   * (text/json/arrayBuffer/bytes/blob) that sees it.
   */
  request(path: string, init?: RequestInit & { json?: unknown; token?: string }): Promise<Response>;
  /** Stops the service and drops its database; call from `test.after.always`. */
  stop(): Promise<void>;
}

/**
 * The real service over real HTTP on its own database cloned from the migrated template.
 * `beforeStart` runs on that database before the service connects (database-level
 * settings, say, which only new sessions see).
 */
export async function startTestServer(env: Record<string, string> = {}, beforeStart?: (database: TestDatabase) => Promise<void>): Promise<TestServer> {
  const database = await createTestDatabase();
  await beforeStart?.(database);
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
    databaseUrl: database.url,
    url: service.url,
    service,
    request(path, init = {}) {
      const { json, token, headers, ...rest } = init;
      const h = new Headers(headers);
      if (json !== undefined) h.set('content-type', 'application/json');
      if (token) h.set('authorization', `Bearer ${token}`);
      const url = `${service.url}${path}`;
      return fetch(url, {
        ...rest,
        headers: h,
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      }).then((res) => validated(res, { method: (rest.method ?? 'GET').toUpperCase(), path: new URL(url).pathname }));
    },
    async stop() {
      await service.stop();
      await database.drop();
    },
  };
}

/**
 * A body with a Content-Length is read from a clone and checked before the
 * response is handed over. A streamed (chunked) body is not: reading it here
 * would take away the test's control of the pace (backpressure, aborting
 * mid-stream). Its whole-body reads check it instead, so a test that reads
 * the stream with getReader() is not checked beyond the status and headers.
 */
async function validated(res: Response, request: { method: string; path: string }): Promise<Response> {
  const x: Exchange = { ...request, status: res.status, contentType: res.headers.get('content-type') };
  const check = checkResponse(x);
  const streamed = res.body !== null && res.headers.get('content-length') === null;
  if (!streamed) {
    checkBody(x, check, res.body === null ? '' : await res.clone().text());
    return res;
  }
  const text = res.text.bind(res);
  const checkedText = async () => {
    const body = await text();
    checkBody(x, check, body);
    return body;
  };
  Object.assign(res, {
    text: checkedText,
    json: async () => JSON.parse(await checkedText()) as unknown,
    arrayBuffer: async () => new TextEncoder().encode(await checkedText()).buffer,
    bytes: async () => new TextEncoder().encode(await checkedText()),
    blob: async () => new Blob([await checkedText()], { type: res.headers.get('content-type') ?? '' }),
  });
  return res;
}
