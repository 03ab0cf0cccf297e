/**
 * API4 limits: body size (refused without buffering the upload), item key and
 * value length, stream page size, and slow clients cut off by the server's
 * header and request timeouts while everyone else is served.
 */
import net from 'node:net';
import test from 'ava';
import { createTestProject, createTestRun, createTestUser, ok } from '../helpers/identity.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MB = 1024 * 1024;

let s: TestServer;
let token: string;
let ownerToken: string;
let projectId: string;
test.before(async () => {
  s = await startTestServer();
  const owner = await createTestUser(s);
  ownerToken = owner.token;
  const project = await createTestProject(s, owner);
  projectId = project.id;
  await ok(s.request(`/api/projects/${projectId}/collections`, { method: 'POST', token: owner.token, json: { name: 'limits' } }));
  await ok(s.request(`/api/projects/${projectId}/collections`, { method: 'POST', token: owner.token, json: { name: 'big' } }));
  await ok(s.request(`/api/projects/${projectId}/collections`, { method: 'POST', token: owner.token, json: { name: 'empty' } }));
  await s.sql`
    insert into app.items (collection_id, project_id, key, value)
    select c.id, c.project_id, 'k' || lpad(i::text, 6, '0'), 'v'
      from app.collections c, generate_series(1, 10050) i
     where c.project_id = ${projectId} and c.name = 'big'`;
  token = (await createTestRun(s, owner, projectId)).token;
});
test.after.always(() => s?.stop());

interface Upload {
  status: number;
  body: string;
  /** Bytes the client had handed to the socket when the answer arrived. */
  sentWhenAnswered: number;
  /** Whether the client got to write everything it meant to. */
  finished: boolean;
}

/**
 * Uploads `total` bytes of a JSON body over a raw socket (chunked unless
 * `declareLength`), one reused 64 kB chunk at a time and honouring
 * backpressure, so the client never holds more than a chunk: any growth in
 * memory is the server's. A raw socket because the server may answer and close
 * while we are still writing, and http.request then reports EPIPE instead of the answer.
 */
function upload(path: string, total: number, declareLength: boolean): Promise<Upload> {
  const url = new URL(s.url);
  const chunk = Buffer.alloc(64 * 1024, 'a');
  return new Promise((resolve) => {
    let sent = 0;
    let finished = false;
    let received = '';
    let sentWhenAnswered = -1;
    const socket = net.connect(Number(url.port), url.hostname);
    const framing = declareLength ? `Content-Length: ${total}` : 'Transfer-Encoding: chunked';
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`,
    );
    socket.on('data', (d: Buffer) => {
      if (sentWhenAnswered < 0) sentWhenAnswered = sent;
      received += d.toString();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      // A chunked answer: drop the chunk-size lines.
      const text = /transfer-encoding: chunked/i.test(head) ? body.split('\r\n').filter((_, i) => i % 2 === 1).join('') : body;
      resolve({ status, body: text, sentWhenAnswered, finished });
    });
    const write = () => {
      while (sent < total && sentWhenAnswered < 0 && !socket.destroyed) {
        const piece = sent === 0 ? Buffer.concat([Buffer.from('{"items":"'), chunk.subarray(10)]) : chunk;
        sent += piece.length;
        const framed = declareLength ? piece : Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
        if (!socket.write(framed)) {
          socket.once('drain', write);
          return;
        }
      }
      if (sent >= total && sentWhenAnswered < 0 && !socket.destroyed) {
        finished = true;
        socket.end(declareLength ? '' : '0\r\n\r\n');
      } else if (sentWhenAnswered >= 0) {
        // Answered: stop sending and let the server close (it says connection: close).
        setTimeout(() => socket.destroy(), 2_000).unref();
      }
    };
    write();
  });
}

test.serial('a 50 MB chunked body is refused before the upload completes, without buffering it', async (t) => {
  const outcomes: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const rssBefore = process.memoryUsage().rss;
    const r = await upload('/collections/limits', 50 * MB, false);
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    t.log(`attempt ${attempt}: ${r.status === 0 ? 'connection reset' : r.status} after ${(Math.max(r.sentWhenAnswered, 0) / MB).toFixed(1)} MB of 50 MB sent; RSS grew ${(rssGrowth / MB).toFixed(1)} MB`);
    outcomes.push(r.status);
    t.false(r.finished, 'the server stopped the upload before the client could send it all');
    // Known issue (docs/reliability.md): the server closes with the rest of the upload unread, so
    // the kernel may answer with a TCP reset that overtakes the 413; either way nothing was buffered.
    t.true(r.status === 413 || r.status === 0, `status ${r.status}`);
    if (r.status === 413) t.is(JSON.parse(r.body).error, 'payload_too_large');
    // Client and server share this process; the client holds one 64 kB chunk. Buffering the upload would add
    // ≥ 50 MB (more once decoded to a string); reading up to the 10 MB limit, and garbage not yet collected, less.
    t.true(rssGrowth < 40 * MB, `RSS grew by ${rssGrowth} bytes`);
  }
  t.log(`413 seen in ${outcomes.filter((x) => x === 413).length} of ${outcomes.length} attempts`);
  t.is((await fetch(`${s.url}/healthz`)).status, 200);
});

test.serial('a declared Content-Length over 10 MB is refused with 413 at once', async (t) => {
  const r = await upload('/collections/limits', 50 * MB, true);
  t.log(`answered ${r.status} after ${(r.sentWhenAnswered / MB).toFixed(1)} MB sent`);
  t.is(r.status, 413);
  t.false(r.finished);
});

test('a body just under 10 MB is read (and then judged on its content, not its size)', async (t) => {
  const value = 'x'.repeat(999_999);
  const items = Array.from({ length: 10 }, (_, i) => ({ key: `big-${i}`, value }));
  const res = await s.request('/collections/limits', { method: 'POST', token, json: { items } });
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { upserted: 10, error: null });
});

test('an item key over 255 characters is 422, whether in the path or in a body; 255 is fine', async (t) => {
  const long = 'k'.repeat(256);
  const put = await s.request(`/collections/limits/${long}`, { method: 'PUT', token, json: { value: 'v' } });
  t.is(put.status, 422);
  const post = await s.request('/collections/limits', { method: 'POST', token, json: { items: [{ key: long, value: 'v' }] } });
  t.is(post.status, 422);
  // Characters, not bytes or UTF-16 units: 255 emoji are 255 characters.
  const emoji = '😀'.repeat(255);
  t.is((await s.request(`/collections/limits/${encodeURIComponent(emoji)}`, { method: 'PUT', token, json: { value: 'v' } })).status, 200);
  t.is((await s.request(`/collections/limits/${'k'.repeat(255)}`, { method: 'PUT', token, json: { value: 'v' } })).status, 200);
  const [row] = await s.sql`select count(*)::int as n from app.items where project_id = ${projectId} and length(key) > 255`;
  t.is(row!.n, 0);
});

test('an item value over 1,000,000 characters is 422; exactly 1,000,000 is stored', async (t) => {
  const put = await s.request('/collections/limits/too-long', { method: 'PUT', token, json: { value: 'v'.repeat(1_000_001) } });
  t.is(put.status, 422);
  const post = await s.request('/collections/limits', { method: 'POST', token, json: { items: [{ key: 'too-long', value: '😀'.repeat(1_000_001) }] } });
  t.is(post.status, 422);
  const fits = await s.request('/collections/limits/fits', { method: 'PUT', token, json: { value: '😀'.repeat(1_000_000) } });
  t.is(fits.status, 200);
  const [row] = await s.sql`select length(value) as n from app.items where project_id = ${projectId} and key = 'fits'`;
  t.is(row!.n, 1_000_000);
  const [none] = await s.sql`select count(*)::int as n from app.items where project_id = ${projectId} and key = 'too-long'`;
  t.is(none!.n, 0);
});

test('the stream page size is capped at 10,000 (with a cursor to the rest), however large the limit; a non-positive or over-20-digit limit is 400', async (t) => {
  const res = await s.request('/collections/big?limit=99999999999', { token });
  t.is(res.status, 200);
  const page = (await res.json()) as { items: unknown[]; cursor: string | null };
  t.is(page.items.length, 10_000);
  t.not(page.cursor, null);
  const rest = (await (await s.request(`/collections/big?limit=99999999999&cursor=${page.cursor}`, { token })).json()) as { items: unknown[]; cursor: string | null };
  t.is(rest.items.length, 50);
  t.is(rest.cursor, null);
  // A 10,000-item page is three batches (BATCH_ROWS is 4,000); one that ends on the last item has no cursor.
  const head = (await (await s.request('/collections/big?limit=50', { token })).json()) as { items: unknown[]; cursor: string | null };
  const tail = (await (await s.request(`/collections/big?limit=10000&cursor=${head.cursor}`, { token })).json()) as { items: unknown[]; cursor: string | null };
  t.is(tail.items.length, 10_000);
  t.is(tail.cursor, null);
  // Up to 20 digits, however large (past 2^53 too), is served as 10,000; leading zeros do not change a number.
  for (const huge of ['9007199254740992', '99999999999999999999', '00000000000000010000']) {
    const res = await s.request(`/collections/big?limit=${huge}`, { token });
    t.is(res.status, 200, `limit=${huge}`);
    t.is(((await res.json()) as { items: unknown[] }).items.length, 10_000, `limit=${huge}`);
  }
  t.is(((await (await s.request('/collections/big?limit=00000000000000000003', { token })).json()) as { items: unknown[] }).items.length, 3);
  for (const bad of ['0', '00000000000000000000', '-1', '1.5', 'ten', '1e3', '', '100000000000000000000']) {
    t.is((await s.request(`/collections/big?limit=${bad}`, { token })).status, 400, `limit=${bad}`);
  }
});

test('an impossible filter date is 400 even where no item is there to compare it with', async (t) => {
  for (const date of ['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-00-10T00:00:00Z', '2024-01-01T25:00:00Z', '2024-01-01T23:60:00Z', '2024-01-01T24:00:01Z']) {
    for (const param of ['created_after', 'created_before', 'updated_after', 'updated_before']) {
      t.is((await s.request(`/collections/empty?${param}=${encodeURIComponent(date)}`, { token })).status, 400, `GET ${param}=${date}`);
      t.is((await s.request(`/collections/empty?${param}=${encodeURIComponent(date)}`, { method: 'DELETE', token })).status, 400, `DELETE ${param}=${date}`);
    }
  }
  for (const date of ['2024-02-29T00:00:00Z', '2024-01-01T24:00:00Z', '2024-12-31T23:59:60+14:00']) {
    t.is((await s.request(`/collections/empty?updated_after=${encodeURIComponent(date)}`, { token })).status, 200, date);
  }
});

test('a filter offset PostgreSQL refuses (beyond ±15:59) is 400 on pages and bulk deletes, v1 and v2; its whole range is served', async (t) => {
  const v2 = { 'x-api-version': '2' };
  const bad = ['+16', '+99', '-00:75', '+99:99', '+00:60', '-16:00', '+1600', '+0060'];
  for (const offset of bad) {
    const q = `created_after=${encodeURIComponent(`2020-01-01T00:00:00${offset}`)}`;
    for (const [path, headers] of [[`/collections/empty?${q}`, {}], [`/collections/${projectId}/empty?${q}`, v2], [`/collections/big?${q}`, {}]] as const) {
      const page = await s.request(path, { token, headers });
      t.is(page.status, 400, `GET ${path}`);
      t.deepEqual(await page.json(), { error: 'bad_request', message: 'created_after: must be a real date and time' }, `GET ${path}`);
      if (path.includes('/big')) continue;
      const del = await s.request(path, { method: 'DELETE', token, headers });
      t.is(del.status, 400, `DELETE ${path}`);
      t.deepEqual(await del.json(), { error: 'bad_request', message: 'created_after: must be a real date and time' }, `DELETE ${path}`);
    }
  }
  // A year 0 PostgreSQL refuses too (it has none), where an empty collection would not have asked it.
  t.is((await s.request(`/collections/empty?updated_before=${encodeURIComponent('0000-06-01T00:00:00Z')}`, { token })).status, 400);
  // Compared with real rows, so PostgreSQL casts each: all 10,050 were created after any of these instants.
  for (const offset of ['+15:59', '-15:59', '+1559', '-1559', '+15', '-00', '+00:00', '-09:30', '+0545']) {
    for (const date of [`2020-01-01T00:00:00${offset}`, `0001-01-01T00:00${offset}`]) {
      const res = await s.request(`/collections/big?limit=1&created_after=${encodeURIComponent(date)}`, { token });
      t.is(res.status, 200, date);
      t.is(((await res.json()) as { items: unknown[] }).items.length, 1, date);
    }
  }
});

test('a NUL byte in an item key: absent on GET and DELETE, malformed in a key pattern, unstorable on PUT', async (t) => {
  t.is((await s.request('/collections/limits/a%00b', { token })).status, 204);
  const del = await s.request('/collections/limits/a%00b', { method: 'DELETE', token });
  t.is(del.status, 200);
  t.deepEqual(await del.json(), { key: 'a\u0000b', deleted: 0, error: null });
  t.is((await s.request('/collections/limits?key=a%00*', { token })).status, 400);
  t.is((await s.request('/collections/limits?key=a%00*', { method: 'DELETE', token })).status, 400);
  t.is((await s.request('/collections/limits/a%00b', { method: 'PUT', token, json: { value: 'v' } })).status, 422);
  // v2, with the NUL in the collection name: no such collection, for every method.
  const v2 = { 'x-api-version': '2' };
  for (const method of ['GET', 'DELETE']) {
    t.is((await s.request(`/collections/${projectId}/a%00b`, { method, token, headers: v2 })).status, 404, method);
  }
  t.is((await s.request(`/collections/${projectId}/a%00b`, { method: 'POST', token, headers: v2, json: { items: [] } })).status, 404);
  t.is((await s.request(`/collections/${projectId}/a%00b/k`, { method: 'PUT', token, headers: v2, json: { value: 'v' } })).status, 404);
});

// ---- slow clients ----

/** A raw socket that sends `head` and then one more header line every `everyMs`, never finishing. */
function trickler(url: string, head: string, line: string, everyMs: number) {
  const u = new URL(url);
  const socket = net.connect(Number(u.port), u.hostname);
  let received = '';
  let closedAt: number | undefined;
  const opened = Date.now();
  socket.on('data', (d) => (received += d.toString()));
  socket.on('error', () => undefined);
  socket.on('close', () => (closedAt = Date.now()));
  socket.write(head);
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(line);
  }, everyMs);
  return {
    get closed() {
      return closedAt !== undefined;
    },
    get lifetimeMs() {
      return (closedAt ?? Date.now()) - opened;
    },
    get received() {
      return received;
    },
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

async function until(what: string, condition: () => boolean, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test.serial('slow-loris: clients trickling headers or a body are cut off by the server; others are served meanwhile', async (t) => {
  t.timeout(60_000);
  const slow = await startTestServer();
  try {
    const server = slow.service.http.server;
    server.headersTimeout = 1_000;
    server.requestTimeout = 2_000;
    // Node checks those timeouts on a timer armed at listen time (every 30 s by default); re-arm it
    // quickly, as setupConnectionsTracking does on 'listening', so the test need not wait 30 s.
    (server as typeof server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = 100;
    server.emit('listening');

    const owner = await createTestUser(slow);
    const project = await createTestProject(slow, owner);
    const headerTricklers = Array.from({ length: 20 }, () =>
      trickler(slow.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n', 200),
    );
    const bodyTricklers = Array.from({ length: 20 }, () =>
      trickler(
        slow.url,
        `POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${owner.token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"name":"`,
        'a',
        200,
      ),
    );
    const all = [...headerTricklers, ...bodyTricklers];
    try {
      let served = 0;
      // Normal clients keep being answered while the slow ones hang on.
      while (!all.every((c) => c.closed)) {
        const [health, read] = await Promise.all([
          fetch(`${slow.url}/healthz`, { signal: AbortSignal.timeout(5_000) }),
          fetch(`${slow.url}/api/projects/${project.id}`, { headers: { authorization: `Bearer ${owner.token}` }, signal: AbortSignal.timeout(5_000) }),
        ]);
        t.is(health.status, 200);
        t.is(read.status, 200);
        await Promise.all([health.text(), read.text()]);
        served += 2;
        if (all.some((c) => c.lifetimeMs > 20_000)) break;
      }
      await until('every slow client to be cut off', () => all.every((c) => c.closed), 20_000);
      t.log(`${served} normal requests answered while ${all.length} slow clients were cut off`);
      t.true(served > 0);
      for (const c of headerTricklers) t.regex(c.received, /^(HTTP\/1\.1 408|$)/, 'a header trickler gets 408 or a bare close');
      for (const c of bodyTricklers) t.regex(c.received, /^(HTTP\/1\.1 408|$)/, 'a body trickler gets 408 or a bare close');
      const [row] = await slow.sql`select count(*)::int as n from app.projects where name like 'a%' and name <> ${project.name}`;
      t.is(row!.n, 0, 'no half-sent body was acted upon');
    } finally {
      for (const c of all) c.stop();
    }
  } finally {
    await slow.stop();
  }
});

test('/api/projects answers a wrong content type with 415 and malformed JSON with 400, never 5xx', async (t) => {
  const text = await s.request('/api/projects', { method: 'POST', body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${ownerToken}` } });
  t.is(text.status, 415);
  const broken = await s.request('/api/projects', { method: 'POST', body: '{"name":', headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerToken}` } });
  t.is(broken.status, 400);
});
