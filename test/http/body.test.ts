/**
 * Request bodies (content codings, what JSON the parser takes) and what Node's
 * HTTP layer refuses before Koa sees a request (oversized headers, garbage,
 * Expect): all answer the JSON error shape with an x-request-id.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import test from 'ava';
import { createTestProject, createTestUser, ok, type TestUser } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let s: TestServer;
let owner: TestUser;
test.before(async () => {
  s = await startTestServer();
  owner = await createTestUser(s);
});
test.after.always(() => s?.stop());

const uuidLike = /^[0-9a-f-]{36}$/;
const bytes = (text: string) => new TextEncoder().encode(text);

/** A raw POST of `body` with content-type application/json and `headers`. */
function post(path: string, body: Uint8Array | string, headers: Record<string, string> = {}, token?: string): Promise<Response> {
  return s.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, ...(token ? { token } : {}) });
}

async function projectsNamed(name: string): Promise<number> {
  const [row] = await s.sql`select count(*)::int as n from app.projects where name = ${name}`;
  return row!.n as number;
}

// ---- content codings ----

test('gzip, x-gzip, deflate and br bodies are decoded, the coding compared case-insensitively', async (t) => {
  const codings: Array<[string, (b: Uint8Array) => Uint8Array]> = [
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['GZip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    ['identity', (b) => b],
  ];
  for (const [coding, encode] of codings) {
    const name = `encoded ${coding} ${randomUUID()}`;
    const res = await post('/api/projects', encode(bytes(JSON.stringify({ name }))), { 'content-encoding': coding }, owner.token);
    t.is(res.status, 201, coding);
    t.is(((await res.json()) as { name: string }).name, name, coding);
  }
});

test('a content coding we do not accept is 415, before authentication and on any path', async (t) => {
  for (const coding of ['zstd', 'compress', 'gzip, gzip', 'identity, gzip', 'bogus']) {
    for (const [path, token] of [['/api/projects', owner.token], ['/api/projects', undefined], ['/nowhere', undefined]] as const) {
      const res = await post(path, gzipSync(bytes('{"name":"x"}')), { 'content-encoding': coding }, token);
      t.is(res.status, 415, `${coding} ${path}`);
      t.deepEqual(await res.json(), {
        error: 'unsupported_media_type',
        message: `Content-Encoding "${coding}" is not accepted; send identity, gzip, deflate or br.`,
      });
    }
  }
  t.is(await projectsNamed('x'), 0);
});

test('a body that is not valid data of its coding is 400, never 500', async (t) => {
  const json = bytes('{"name":"x"}');
  const gzipped = gzipSync(json);
  const cases: Array<[coding: string, body: Uint8Array, why: string]> = [
    ['gzip', json, 'not gzip at all'],
    ['gzip', gzipped.subarray(0, gzipped.length - 6), 'truncated'],
    ['x-gzip', gzipped.subarray(0, 12), 'cut inside the deflate stream'],
    ['deflate', bytes('not deflate data'), 'not deflate'],
    ['br', bytes('not brotli data at all, not at all'), 'not brotli'],
  ];
  for (const [coding, body, why] of cases) {
    for (const token of [owner.token, undefined]) {
      const res = await post('/api/projects', body, { 'content-encoding': coding }, token);
      t.is(res.status, 400, why);
      t.deepEqual(await res.json(), { error: 'bad_request', message: `The request body is not valid ${coding} data.` }, why);
      t.regex(res.headers.get('x-request-id') ?? '', uuidLike);
    }
  }
  t.is(await projectsNamed('x'), 0);
  // Valid gzip of invalid JSON is the ordinary JSON error.
  const res = await post('/api/projects', gzipSync(bytes('{"name": ')), { 'content-encoding': 'gzip' }, owner.token);
  t.is(res.status, 400);
  t.deepEqual(await res.json(), { error: 'bad_request', message: 'The request body is not valid JSON.' });
});

test('the body limit holds for the decoded body: a small gzip of more than 10 MB is 413', async (t) => {
  const big = gzipSync(bytes(JSON.stringify({ name: 'x'.repeat(11 * 1024 * 1024) })));
  t.true(big.length < 100_000);
  const res = await post('/api/projects', big, { 'content-encoding': 'gzip' }, owner.token);
  t.is(res.status, 413);
  t.deepEqual(await res.json(), { error: 'payload_too_large', message: 'The request body is too large.' });
});

// ---- what JSON the parser takes ----

test('valid JSON that is not an object is 422 on any path: every body the API takes is an object', async (t) => {
  const expected = { error: 'invalid', message: 'The request body must be a JSON object.' };
  for (const body of ['null', '"x"', '1', 'true', '[]', '[{"name":"x"}]', ' \n null ']) {
    for (const [path, token] of [['/api/projects', owner.token], ['/nowhere', undefined]] as const) {
      const res = await post(path, body, {}, token);
      t.is(res.status, 422, `${body} ${path}`);
      t.deepEqual(await res.json(), expected, `${body} ${path}`);
    }
  }
  // Not JSON at all stays a 400.
  for (const body of ['nul', '{', ' ', "{'name':'x'}"]) {
    const res = await post('/api/projects', body, {}, owner.token);
    t.is(res.status, 400, body);
    t.deepEqual(await res.json(), { error: 'bad_request', message: 'The request body is not valid JSON.' }, body);
  }
});

test('a "__proto__" key anywhere in the body is 422, however it is spelled', async (t) => {
  const expected = { error: 'invalid', message: 'The request body must not contain a "__proto__" key.' };
  const name = `proto ${randomUUID()}`;
  for (const body of [
    `{"name":"${name}","__proto__":{"admin":true}}`,
    `{"name":"${name}","x":[{"__proto__":null}]}`,
    `{"name":"${name}","\\u005f_proto__":{}}`,
  ]) {
    const res = await post('/api/projects', body, {}, owner.token);
    t.is(res.status, 422, body);
    t.deepEqual(await res.json(), expected, body);
  }
  t.is(await projectsNamed(name), 0);
  // The name is fine as a value, and as part of a longer key (which the allow-list then refuses).
  const value = await post('/api/projects', JSON.stringify({ name: '__proto__' }), {}, owner.token);
  t.is(value.status, 201);
  t.is((await post('/api/projects', JSON.stringify({ name, __proto__x: 1 }), {}, owner.token)).status, 422);
});

test('invalid UTF-8 in a body is 422, not stored as U+FFFD', async (t) => {
  const name = `utf8 ${randomUUID()}`;
  const prefix = bytes(`{"name":"${name}`);
  for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf]]) {
    const body = new Uint8Array([...prefix, ...bad, ...bytes('"}')]);
    const res = await post('/api/projects', body, {}, owner.token);
    t.is(res.status, 422, bad.join(','));
    t.deepEqual(await res.json(), { error: 'invalid', message: 'The request body is not valid UTF-8.' });
    // Also when it is gzipped.
    const gz = await post('/api/projects', gzipSync(body), { 'content-encoding': 'gzip' }, owner.token);
    t.is(gz.status, 422, `gzip ${bad.join(',')}`);
  }
  t.is(await projectsNamed(name), 0);
  // A UTF-8 BOM is allowed (and dropped), as before.
  const bom = await post('/api/projects', new Uint8Array([0xef, 0xbb, 0xbf, ...bytes(JSON.stringify({ name }))]), {}, owner.token);
  t.is(bom.status, 201);
  t.is(await projectsNamed(name), 1);
});

test('a lone surrogate escape in a string or key is 422 everywhere; a surrogate pair is kept', async (t) => {
  const expected = { error: 'invalid', message: 'A string in the request body is not well-formed Unicode (a lone surrogate such as "\\ud800").' };
  const project = await createTestProject(s, owner);
  await ok(s.request(`/api/projects/${project.id}/collections`, { method: 'POST', token: owner.token, json: { name: 'text' } }));
  const put = (body: string) =>
    s.request(`/collections/${project.id}/text/k`, { method: 'PUT', token: owner.token, headers: { 'x-api-version': '2', 'content-type': 'application/json' }, body });
  for (const value of ['\\ud800', 'a\\udfffb', '\\ude00\\ud83d', '\\uDBFF']) {
    const res = await put(`{"value":"${value}"}`);
    t.is(res.status, 422, value);
    t.deepEqual(await res.json(), expected, value);
  }
  const rows = await s.sql`select count(*)::int as n from app.items i join app.collections c on c.id = i.collection_id where c.project_id = ${project.id}`;
  t.is(rows[0]!.n, 0);

  // A workflow definition (jsonb) said 400 from PostgreSQL before; a key counts as a string too.
  const workflow = `/api/projects/${project.id}/workflows/${randomUUID()}`;
  for (const definition of ['{"steps":["\\ud800"]}', '{"\\udc00":1}']) {
    const res = await s.request(workflow, {
      method: 'PUT',
      token: owner.token,
      headers: { 'content-type': 'application/json' },
      body: `{"action":"new","name":"w","definition":${definition}}`,
    });
    t.is(res.status, 422, definition);
    t.deepEqual(await res.json(), expected, definition);
  }

  await ok(put('{"value":"\\ud83d\\ude00 \\u00e9"}'));
  const [item] = await s.sql`select i.value from app.items i join app.collections c on c.id = i.collection_id where c.project_id = ${project.id}`;
  t.is(item!.value, '\u{1F600} é');
});

// ---- what Node refuses before Koa ----

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `request` on a fresh connection and reads everything until the server closes it. */
function rawExchange(request: string | Uint8Array): Promise<RawResponse> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const end = raw.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(lines.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4) });
    });
    socket.write(request);
  });
}

test('a request line and headers over 16 KiB are 431 with the JSON error and a request id', async (t) => {
  const res = await rawExchange(`GET /${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  t.is(res.status, 431);
  t.is(res.headers['content-type'], 'application/json; charset=utf-8');
  t.regex(res.headers['x-request-id'] ?? '', uuidLike);
  t.deepEqual(JSON.parse(res.body), { error: 'headers_too_large', message: 'The request line and headers are too large (16 KiB at most).' });
  const header = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nx-big: ${'b'.repeat(20 * 1024)}\r\n\r\n`);
  t.is(header.status, 431);
});

test('a request that is not HTTP is 400 with the JSON error and a request id', async (t) => {
  for (const request of ['NONSENSE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 'GET /healthz HTTP/1.1\r\nbad header\r\n\r\n']) {
    const res = await rawExchange(request);
    t.is(res.status, 400, JSON.stringify(request));
    t.regex(res.headers['x-request-id'] ?? '', uuidLike);
    t.deepEqual(JSON.parse(res.body), { error: 'bad_request', message: 'The request is not valid HTTP/1.1.' });
  }
});

test('an Expect other than 100-continue is 417 with the JSON error and a request id', async (t) => {
  const res = await rawExchange('GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n');
  t.is(res.status, 417);
  t.regex(res.headers['x-request-id'] ?? '', uuidLike);
  t.deepEqual(JSON.parse(res.body), { error: 'expectation_failed', message: 'The only Expect this server meets is 100-continue.' });
});

/** A POST with `Expect: 100-continue`; sends `body` only if the server says 100 Continue. */
function expectContinue(path: string, length: number, body: () => string | Buffer): Promise<{ continued: boolean; status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = http.request(`${s.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(length), expect: '100-continue', authorization: `Bearer ${owner.token}` },
    });
    req.on('continue', () => {
      continued = true;
      req.end(body());
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ continued, status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

test('Expect: 100-continue with a declared body over the limit is 413 without 100 Continue, so nothing is uploaded', async (t) => {
  const length = 10 * 1024 * 1024 + 1;
  const res = await expectContinue('/api/projects', length, () => {
    throw new Error('the server said 100 Continue to an oversized body');
  });
  t.false(res.continued);
  t.is(res.status, 413);
  t.regex(String(res.headers['x-request-id']), uuidLike);
  t.deepEqual(JSON.parse(res.body), { error: 'payload_too_large', message: 'The request body is too large.' });

  // Within the limit: 100 Continue, then the request as usual.
  const name = `continued ${randomUUID()}`;
  const body = JSON.stringify({ name });
  const small = await expectContinue('/api/projects', Buffer.byteLength(body), () => body);
  t.true(small.continued);
  t.is(small.status, 201);
  t.is((JSON.parse(small.body) as { name: string }).name, name);
});
