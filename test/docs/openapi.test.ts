/**
 * The OpenAPI document is valid OpenAPI 3.1, covers exactly the routes the
 * router serves, and is served at /openapi.json and rendered at /docs from
 * same-origin files only.
 */
import { existsSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import test from 'ava';
import { chromium } from 'playwright-core';
import { openApiDocument } from '../../src/http/openapi.ts';
import { checkBody, checkResponse, matchPath, type Exchange } from '../helpers/openapi.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

test('the document is valid OpenAPI 3.1', async (t) => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(openApiDocument) as unknown as Parameters<Validator['validate']>[0]);
  t.deepEqual(result.errors ?? [], []);
  t.true(result.valid);
  t.is(validator.version, '3.1');
});

/** `/api/projects/:id` and `/api/projects/{id}` both become `/api/projects/{}`: parameter names may differ. */
const shape = (path: string) => path.replace(/:[A-Za-z0-9_]+/g, '{}').replace(/\{[^}]*\}/g, '{}');

test('every route the router serves is documented, and every documented route is served', (t) => {
  const served = new Set<string>();
  for (const layer of s.service.app.router.stack) {
    for (const method of layer.methods) if (method !== 'HEAD') served.add(`${method} ${shape(String(layer.path))}`);
  }
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      if (item[method]) documented.add(`${method.toUpperCase()} ${shape(path)}`);
    }
  }
  t.deepEqual([...served].filter((r) => !documented.has(r)).sort(), [], 'served but not documented in src/http/openapi.ts');
  t.deepEqual([...documented].filter((r) => !served.has(r)).sort(), [], 'documented but not served');
});

test('no two documented paths have the same shape (OpenAPI forbids templated paths that differ only in parameter names)', (t) => {
  const shapes = Object.keys(openApiDocument.paths).map(shape);
  t.deepEqual(shapes.filter((p, i) => shapes.indexOf(p) !== i), []);
});

test('every operation has a unique operationId, declares its errors in the shared shape, and needs a token unless public', (t) => {
  const ids = new Set<string>();
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = item[method];
      if (!op) continue;
      t.false(ids.has(op.operationId), `${op.operationId} twice`);
      ids.add(op.operationId);
      t.is(op.security.length === 0, op['x-access'] === 'public', `${method} ${path}: security vs x-access`);
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400 || path.startsWith('/console') || path.startsWith('/docs')) continue;
        t.deepEqual((response as any).content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' }, `${method} ${path} ${status}`);
      }
      if (op['x-access'] !== 'public') t.truthy(op.responses['401'], `${method} ${path} must declare 401`);
      if (method !== 'get' && method !== 'delete') {
        for (const status of ['400', '413', '415', '422']) t.truthy(op.responses[status], `${method} ${path} must declare ${status}`);
      }
    }
  }
});

test('concrete paths match the most literal template', (t) => {
  t.is(matchPath('/api/projects/0b8e2c34-5d7e-4f0a-9b6c-1d2e3f4a5b6c/merge-preview'), '/api/projects/{sandbox_id}/merge-preview');
  t.is(matchPath('/collections/patients/some%2Fkey'), '/collections/{name_or_project_id}/{key_or_name}');
  t.is(matchPath('/console/'), '/console/');
  t.is(matchPath('/console'), '/console');
  t.is(matchPath('/api/projects/'), '/api/projects', 'the router ignores a trailing slash');
  t.is(matchPath('/API/Projects'), '/api/projects', 'the router ignores case');
  t.is(matchPath('/nowhere'), undefined);
  t.is(matchPath('/api//projects'), undefined);
});

test('the response check refuses what the document does not declare, naming route, status and schema error', (t) => {
  const project = '/api/projects/0b8e2c34-5d7e-4f0a-9b6c-1d2e3f4a5b6c';
  const x = (method: string, path: string, status: number, contentType: string | null = 'application/json; charset=utf-8'): Exchange => ({
    method,
    path,
    status,
    contentType,
  });
  t.throws(() => checkResponse(x('GET', project, 500)), { message: /GET \/api\/projects\/0b8e.* → 500: status 500 is not declared for GET \/api\/projects\/\{id\}/ });
  t.throws(() => checkResponse(x('GET', project, 200, 'text/html')), { message: /content type "text\/html" is not declared/ });
  t.throws(() => checkResponse(x('GET', '/nowhere', 200)), { message: /the path is not documented/ });
  t.throws(() => checkResponse(x('PUT', '/api/projects', 200)), { message: /PUT is not documented for \/api\/projects/ });
  t.notThrows(() => checkResponse(x('PUT', '/api/projects', 405)));
  t.notThrows(() => checkResponse(x('POST', '/healthz', 415)), 'the body parser answers before routing');
  t.notThrows(() => checkResponse(x('GET', '/nowhere/%FF', 400)), 'a malformed path is refused before routing');
  t.throws(() => checkResponse(x('GET', '/nowhere/%25FF', 400)), { message: /the path is not documented/ });

  const ok = x('GET', project, 200);
  const check = checkResponse(ok);
  const good = { id: '0b8e2c34-5d7e-4f0a-9b6c-1d2e3f4a5b6c', name: 'p', parent_id: null, role: 'owner', created_at: '2026-01-01T00:00:00.000Z' };
  t.notThrows(() => checkBody(ok, check, JSON.stringify(good)));
  t.throws(() => checkBody(ok, check, JSON.stringify({ ...good, secret: 1 })), { message: /→ 200: the body does not match the schema: body must NOT have additional properties/ });
  t.throws(() => checkBody(ok, check, JSON.stringify({ ...good, role: 'god' })), { message: /body\/role must be equal to one of the allowed values/ });
  t.throws(() => checkBody(ok, check, JSON.stringify({ ...good, created_at: 'yesterday' })), { message: /body\/created_at must match format "date-time"/ });
  t.throws(() => checkBody(ok, check, 'not json'), { message: /the body is not JSON/ });
  const gone = x('DELETE', project, 204, null);
  t.throws(() => checkBody(gone, checkResponse(gone), '{}'), { message: /declares no body/ });
});

test('GET /openapi.json serves the document', async (t) => {
  const res = await s.request('/openapi.json');
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/json; charset=utf-8');
  t.deepEqual(await res.json(), JSON.parse(JSON.stringify(openApiDocument)));
});

test('GET /docs renders the document with a viewer whose every asset is same-origin and served', async (t) => {
  const res = await s.request('/docs');
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'text/html; charset=utf-8');
  t.regex(res.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self';.*connect-src 'self'/);
  const html = await res.text();
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  t.true(refs.length >= 3);
  for (const ref of refs) {
    t.true(ref.startsWith('/docs/assets/'), `${ref} is not a same-origin asset`);
    const asset = await s.request(ref);
    t.is(asset.status, 200, ref);
    t.regex(asset.headers.get('content-type') ?? '', /^(text\/javascript|text\/css|image\/png)/, ref);
    await asset.arrayBuffer();
  }
  const init = await (await s.request('/docs/assets/init.js')).text();
  t.regex(init, /url: '\/openapi\.json'/);
  t.regex(init, /validatorUrl: null/, 'the viewer must not call an online validator');
  const bundle = await s.request('/docs/assets/swagger-ui-bundle.js');
  const etag = bundle.headers.get('etag')!;
  await bundle.arrayBuffer();
  t.is((await s.request('/docs/assets/swagger-ui-bundle.js', { headers: { 'if-none-match': etag } })).status, 304);
  const missing = await s.request('/docs/assets/..%2Fpackage.json');
  t.is(missing.status, 404);
  t.is(((await missing.json()) as { error: string }).error, 'not_found');
});

const CHROMIUM = '/usr/bin/chromium';
(existsSync(CHROMIUM) ? test : test.skip)('the viewer renders every operation in a browser, fetching nothing from elsewhere', async (t) => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    const origin = new URL(s.url).origin;
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push(`request to another origin: ${r.url()}`);
    });
    await page.goto(`${s.url}/docs`);
    const operations = Object.values(openApiDocument.paths).reduce(
      (n, item) => n + (['get', 'put', 'post', 'delete', 'patch'] as const).filter((m) => item[m]).length,
      0,
    );
    await page.waitForFunction(`document.querySelectorAll('.opblock').length === ${operations}`, undefined, { timeout: 30_000 });
    t.is(await page.locator('.opblock').count(), operations);
    t.regex((await page.locator('.info .title').textContent()) ?? '', /sandbar/);
    t.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
