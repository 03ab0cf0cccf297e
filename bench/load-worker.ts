/**
 * The load generator, in a worker thread: the server under test runs on the
 * main thread, so generating load there would steal its event loop. Requests
 * are described by plain data (functions cannot cross threads) and built here.
 */
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import http from 'node:http';
import { parentPort } from 'node:worker_threads';
import autocannon, { type Request } from 'autocannon';
import postgres from 'postgres';
import { itemValue } from './items.ts';

export type Scenario =
  /** GET `template` with `{i}` replaced by a random integer in [0, n), left-padded to `pad` digits. */
  | { kind: 'random-get'; template: string; n: number; pad: number; headers: Record<string, string> }
  /** POST `path` with {"name": "<prefix>-<seq>"}: a new release handle per request. */
  | { kind: 'release-create'; path: string; prefix: string; headers: Record<string, string> }
  /** PUT `prefix/<new uuid>[?query]` with action new, then PUT the same id with action edit and lock_version 1. */
  | { kind: 'workflow-save'; prefix: string; query?: string; definition: unknown; headers: Record<string, string> }
  /** POST `path` with {"items": [batch new items]}, keys `<prefix>-<seq>`, values of `valueBytes`. */
  | { kind: 'upsert'; path: string; prefix: string; batch: number; valueBytes: number; headers: Record<string, string> };

export type Task =
  | { kind: 'http'; url: string; connections: number; duration?: number; amount?: number; scenario: Scenario }
  /** GET `path` (which answers {"items": [...], "cursor": …}) and follow the cursors to the end (or to maxRows). */
  | { kind: 'cursors'; url: string; path: string; headers: Record<string, string>; maxRows?: number }
  /** GET `path` (one JSON array of items) and count them. */
  | { kind: 'download'; url: string; path: string; headers: Record<string, string> }
  /** Run `query`, a `COPY (…) TO STDOUT`, on a connection of its own to `dbUrl`, and count its lines (the stream ceiling). */
  | { kind: 'copy'; dbUrl: string; query: string };

export interface HttpResult {
  kind: 'http';
  /** 2xx responses per second over the whole run. */
  rate: number;
  ok: number;
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
  p50: number;
  p99: number;
  seconds: number;
}

export interface StreamResult {
  kind: 'stream';
  rows: number;
  pages: number;
  bytes: number;
  seconds: number;
}

let seq = 0;

function requests(s: Scenario): Request[] {
  switch (s.kind) {
    case 'random-get':
      return [
        {
          method: 'GET',
          headers: s.headers,
          setupRequest: (req) => {
            const i = String(Math.floor(Math.random() * s.n)).padStart(s.pad, '0');
            return { ...req, path: s.template.replace('{i}', i) };
          },
        },
      ];
    case 'release-create':
      return [
        {
          method: 'POST',
          path: s.path,
          headers: { ...s.headers, 'content-type': 'application/json' },
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `${s.prefix}-${seq++}` }) }),
        },
      ];
    case 'workflow-save': {
      const headers = { ...s.headers, 'content-type': 'application/json' };
      const query = s.query === undefined ? '' : `?${s.query}`;
      return [
        {
          method: 'PUT',
          headers,
          setupRequest: (req, ctx) => {
            ctx.id = randomUUID();
            const body = { action: 'new', name: `wf-${ctx.id as string}`, definition: s.definition };
            return { ...req, path: `${s.prefix}/${ctx.id as string}${query}`, body: JSON.stringify(body) };
          },
        },
        {
          method: 'PUT',
          headers,
          setupRequest: (req, ctx) => {
            const body = { action: 'edit', name: `wf-${ctx.id as string}`, definition: s.definition, lock_version: 1 };
            return { ...req, path: `${s.prefix}/${ctx.id as string}${query}`, body: JSON.stringify(body) };
          },
        },
      ];
    }
    case 'upsert':
      return [
        {
          method: 'POST',
          path: s.path,
          headers: { ...s.headers, 'content-type': 'application/json' },
          setupRequest: (req) => {
            const items = [];
            for (let i = 0; i < s.batch; i++) {
              const n = seq++;
              items.push({ key: `${s.prefix}-${n}`, value: itemValue(n, s.valueBytes) });
            }
            return { ...req, body: JSON.stringify({ items }) };
          },
        },
      ];
  }
}

async function runHttp(t: Extract<Task, { kind: 'http' }>): Promise<HttpResult> {
  const started = performance.now();
  const options = {
    url: t.url,
    connections: t.connections,
    // A run of `amount` requests ends on autocannon's next sample tick after the last
    // response (every 1 s by default), so its time was rounded up to whole seconds: a
    // quick upsert run of ~1.3 s counted as 2 s (49.5k items/s, every time). Tick often.
    ...(t.amount !== undefined ? { amount: t.amount, sampleInt: 10 } : { duration: t.duration ?? 3 }),
    timeout: 60,
    requests: requests(t.scenario),
  };
  // Off the main thread autocannon leaves aggregation to its caller (its own worker manager, normally).
  const r = autocannon.aggregateResult([await autocannon(options)], options);
  // With `amount`, autocannon's own duration is in whole seconds; measure it here.
  const seconds = t.amount !== undefined ? (performance.now() - started) / 1000 : r.duration;
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, v]) => [code, v.count]));
  return {
    kind: 'http',
    rate: r['2xx'] / seconds,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    statusCodes,
    p50: r.latency.p50,
    p99: r.latency.p99,
    seconds,
  };
}

/**
 * The stream client reads bytes and never decodes them, as the COPY ceiling's reader does:
 * node:http on a keep-alive agent (undici's fetch cost ~1 ms of CPU a page here, on the
 * same two cores as the server and PostgreSQL), counting items by a mark in the bytes.
 * Inside a JSON string a quote is always escaped, so `{"key"` there is structure.
 */
const ITEM_MARK = Buffer.from('{"key"');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** Counts marks in a body that arrives in chunks, without copying the chunks. */
class ItemCounter {
  items = 0;
  bytes = 0;
  /** The last ITEM_MARK.length - 1 bytes seen: too short to hold a mark, so none is counted twice. */
  private carry = Buffer.alloc(0);
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    // A mark split across chunks lies within the carry and the chunk's first bytes.
    this.items += countMarks(Buffer.concat([this.carry, chunk.subarray(0, ITEM_MARK.length - 1)]));
    this.items += countMarks(chunk);
    const keep = ITEM_MARK.length - 1;
    this.carry = chunk.length >= keep ? Buffer.from(chunk.subarray(-keep)) : Buffer.concat([this.carry, chunk]).subarray(-keep);
  }
}

function countMarks(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(ITEM_MARK); i !== -1; i = b.indexOf(ITEM_MARK, i + ITEM_MARK.length)) n++;
  return n;
}

/** GETs `url`, feeding the body to `counter`; resolves to the status and the body's last 200 bytes. */
function get(url: string, headers: Record<string, string>, counter: ItemCounter): Promise<{ status: number; tail: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent, timeout: 300_000 }, (res) => {
      let tail: Buffer = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        counter.push(chunk);
        tail = chunk.length >= 200 ? chunk : Buffer.concat([tail, chunk]);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, tail: tail.subarray(-200).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} took more than 300 s`)));
    req.on('error', reject);
  });
}

async function runCursors(t: Extract<Task, { kind: 'cursors' }>): Promise<StreamResult> {
  const started = performance.now();
  const counter = new ItemCounter();
  let pages = 0;
  let cursor: string | null = null;
  do {
    const sep = t.path.includes('?') ? '&' : '?';
    const path: string = cursor === null ? t.path : `${t.path}${sep}cursor=${encodeURIComponent(cursor)}`;
    const { status, tail } = await get(`${t.url}${path}`, t.headers, counter);
    if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${tail}`);
    pages++;
    const end = /"cursor":(null|"([^"]*)")\}$/.exec(tail);
    if (!end) throw new Error(`GET ${path}: no cursor at the end of the page`);
    cursor = end[2] ?? null;
    if (process.env.BENCH_DEBUG) console.log(`cursors: page ${pages}, ${counter.items} rows, next ${cursor}`);
  } while (cursor !== null && counter.items < (t.maxRows ?? Infinity));
  return { kind: 'stream', rows: counter.items, pages, bytes: counter.bytes, seconds: (performance.now() - started) / 1000 };
}

async function runDownload(t: Extract<Task, { kind: 'download' }>): Promise<StreamResult> {
  const started = performance.now();
  const counter = new ItemCounter();
  const debug = process.env.BENCH_DEBUG ? setInterval(() => console.log(`download: ${counter.bytes} bytes, ${counter.items} rows`), 1000) : undefined;
  try {
    const { status, tail } = await get(`${t.url}${t.path}`, t.headers, counter);
    if (status !== 200) throw new Error(`GET ${t.path} answered ${status}: ${tail}`);
  } finally {
    clearInterval(debug);
  }
  return { kind: 'stream', rows: counter.items, pages: 1, bytes: counter.bytes, seconds: (performance.now() - started) / 1000 };
}

/**
 * The stream ceiling, read here rather than on the server's thread: sandbar's external-memory
 * governor (src/memory.ts) watches its own thread's Buffers, and read there a COPY's Buffers set
 * off one to four forced full collections per 100k rows, which slowed the ceiling by about a
 * fifth (stop 19). A bare COPY reader has no governor; here it has none either, and it reads as
 * the product's streams are read, in this thread.
 */
async function runCopy(t: Extract<Task, { kind: 'copy' }>): Promise<StreamResult> {
  // A connection of its own per COPY: a second COPY on a pooled postgres.js connection sometimes
  // never started (seen twice in six runs), which hung the whole bench. The index scan the
  // product's keyset pages use: once the upsert workload has filled other collections, the planner
  // picks a parallel seq scan and a sort instead, which ran at 460k-480k rows/s against
  // 790k-860k; the ceiling must be the fast way, not a slow plan.
  const conn = postgres(t.dbUrl, { max: 1, onnotice: () => undefined, connection: { enable_seqscan: 'off', enable_bitmapscan: 'off' } });
  try {
    await conn`select 1`;
    const started = performance.now();
    const stream = await conn.unsafe(t.query).readable();
    let rows = 0;
    let bytes = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
    }
    return { kind: 'stream', rows, pages: 1, bytes, seconds: (performance.now() - started) / 1000 };
  } finally {
    await conn.end({ timeout: 1 });
  }
}

const runners: { [K in Task['kind']]: (t: Extract<Task, { kind: K }>) => Promise<HttpResult | StreamResult> } = {
  http: runHttp,
  cursors: runCursors,
  download: runDownload,
  copy: runCopy,
};

// The main thread charges this thread's CPU to the load generator (bench/cpu.ts); /proc/thread-self
// names it as <pid>/task/<tid>. Off Linux there is no such link, and no CPU is read either.
let osThreadId: number | undefined;
try {
  osThreadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
} catch {
  osThreadId = undefined;
}
parentPort!.postMessage({ osThreadId });

parentPort!.on('message', (msg: { id: number; task: Task }) => {
  const run = (runners[msg.task.kind] as (t: Task) => Promise<HttpResult | StreamResult>)(msg.task);
  run.then(
    (result) => parentPort!.postMessage({ id: msg.id, result }),
    (error: unknown) => parentPort!.postMessage({ id: msg.id, error: String((error as Error)?.stack ?? error) }),
  );
});
