import test from 'ava';
import { latestCommittedMigration } from '../../src/db/migrate.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
test.before(async () => {
  s = await startTestServer();
});
test.after.always(() => s?.stop());

const uuidLike = /^[0-9a-f-]{36}$/;

test('GET /healthz answers 200 without touching the database', async (t) => {
  const res = await s.request('/healthz');
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { status: 'ok' });
});

test('GET /readyz answers 200 when the database is reachable and migrated', async (t) => {
  const res = await s.request('/readyz');
  t.is(res.status, 200);
  const body = (await res.json()) as { status: string; migration: string | null };
  // graphile-migrate records "000001.sql" for "000001-initial-schema.sql": readiness must compare the same form.
  const latest = await latestCommittedMigration();
  t.regex(latest ?? '', /^\d{6}\.sql$/);
  t.deepEqual(body, { status: 'ready', migration: latest });
});

test('every response carries an x-request-id, and a sane incoming one is echoed', async (t) => {
  const generated = await s.request('/healthz');
  t.regex(generated.headers.get('x-request-id') ?? '', uuidLike);
  const echoed = await s.request('/nope', { headers: { 'x-request-id': 'abc-123' } });
  t.is(echoed.headers.get('x-request-id'), 'abc-123');
  const hostile = await s.request('/healthz', { headers: { 'x-request-id': 'a b\u00e9<script>' } });
  t.regex(hostile.headers.get('x-request-id') ?? '', uuidLike);
});

test('an unknown route is 404 with the JSON error shape', async (t) => {
  const res = await s.request('/no/such/route');
  t.is(res.status, 404);
  t.deepEqual(await res.json(), { error: 'not_found', message: 'No route for GET /no/such/route.' });
});

test('a known route with the wrong method is 405 with an Allow header', async (t) => {
  const res = await s.request('/healthz', { method: 'DELETE' });
  t.is(res.status, 405);
  t.is(res.headers.get('allow'), 'HEAD, GET');
  t.deepEqual(await res.json(), { error: 'method_not_allowed', message: 'DELETE is not allowed on /healthz.', allow: 'HEAD, GET' });
});

test('a 405 names the allowed methods in the Allow header and the body', async (t) => {
  const res = await s.request('/api/projects', { method: 'PUT' });
  t.is(res.status, 405);
  t.is(res.headers.get('allow'), 'POST, HEAD, GET');
  t.deepEqual(await res.json(), { error: 'method_not_allowed', message: 'PUT is not allowed on /api/projects.', allow: 'POST, HEAD, GET' });
});

test('malformed JSON is 400, never 500', async (t) => {
  const res = await s.request('/healthz', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a": ',
  });
  t.is(res.status, 400);
  t.deepEqual(await res.json(), { error: 'bad_request', message: 'The request body is not valid JSON.' });
});

test('a body that is not JSON is 415', async (t) => {
  const res = await s.request('/healthz', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'hello',
  });
  t.is(res.status, 415);
  t.is(((await res.json()) as { error: string }).error, 'unsupported_media_type');
});

test('a body over 10 MB is 413 (declared length and chunked)', async (t) => {
  const big = JSON.stringify({ value: 'x'.repeat(10 * 1024 * 1024) });
  const declared = await s.request('/healthz', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: big,
  });
  t.is(declared.status, 413);
  t.deepEqual(await declared.json(), { error: 'payload_too_large', message: 'The request body is too large.' });

  const chunks = (async function* () {
    for (let i = 0; i < 11; i++) yield new TextEncoder().encode(i === 0 ? '{"v":"' + 'y'.repeat(1024 * 1024) : 'y'.repeat(1024 * 1024));
  })();
  const chunked = await fetch(`${s.url}/healthz`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: ReadableStream.from(chunks),
    duplex: 'half',
  } as RequestInit);
  t.is(chunked.status, 413);
});

test('GET /metrics serves Prometheus text with request counts and pool gauges', async (t) => {
  await s.request('/healthz');
  const res = await s.request('/metrics');
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  t.regex(text, /sandbar_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
  t.regex(text, /sandbar_http_request_duration_seconds_bucket\{/);
  t.regex(text, /sandbar_db_pool_max\{pool="hot"\} \d+/);
});
