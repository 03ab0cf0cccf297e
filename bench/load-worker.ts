/**
 * The load generator, in a worker thread: the server under test runs on the
 * main thread, so generating load there would steal its event loop. Requests
 * are described by plain data (functions cannot cross threads) and built here.
 */
import { randomUUID } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import autocannon, { type Request } from 'autocannon';
import { itemValue } from './items.ts';

export type Scenario =
  /** GET `template` with `{i}` replaced by a random integer in [0, n), left-padded to `pad` digits. */
  | { kind: 'random-get'; template: string; n: number; pad: number; headers: Record<string, string> }
  /** POST `path` with {"name": "<prefix>-<seq>"}: a new release handle per request. */
  | { kind: 'release-create'; path: string; prefix: string; headers: Record<string, string> }
  /** PUT `prefix/<new uuid>` with action new, then PUT the same id with action edit and lock_version 1. */
  | { kind: 'workflow-save'; prefix: string; definition: unknown; headers: Record<string, string> }
  /** POST `path` with {"items": [batch new items]}, keys `<prefix>-<seq>`, values of `valueBytes`. */
  | { kind: 'upsert'; path: string; prefix: string; batch: number; valueBytes: number; headers: Record<string, string> };

export type Task =
  | { kind: 'http'; url: string; connections: number; duration?: number; amount?: number; scenario: Scenario }
  /** GET `path` (which answers {"items": [...], "cursor": …}) and follow the cursors to the end (or to maxRows). */
  | { kind: 'cursors'; url: string; path: string; headers: Record<string, string>; maxRows?: number }
  /** GET `path` (one JSON array of items) and count them. */
  | { kind: 'download'; url: string; path: string; headers: Record<string, string> };

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
      return [
        {
          method: 'PUT',
          headers,
          setupRequest: (req, ctx) => {
            ctx.id = randomUUID();
            const body = { action: 'new', name: `wf-${ctx.id as string}`, definition: s.definition };
            return { ...req, path: `${s.prefix}/${ctx.id as string}`, body: JSON.stringify(body) };
          },
        },
        {
          method: 'PUT',
          headers,
          setupRequest: (req, ctx) => {
            const body = { action: 'edit', name: `wf-${ctx.id as string}`, definition: s.definition, lock_version: 1 };
            return { ...req, path: `${s.prefix}/${ctx.id as string}`, body: JSON.stringify(body) };
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
    ...(t.amount !== undefined ? { amount: t.amount } : { duration: t.duration ?? 3 }),
    timeout: 60,
    requests: requests(t.scenario),
  };
  // Off the main thread autocannon leaves aggregation to its caller (its own worker manager, normally).
  const r = autocannon.aggregateResult([await autocannon(options)], options);
  // With `amount`, autocannon's duration is rounded to whole seconds; measure it here.
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

/** Counts item objects in JSON text without parsing it: inside a JSON string a quote is always escaped, so `{"key"` there is structure. */
const ITEM_MARK = '{"key"';
function countItems(text: string): number {
  let n = 0;
  for (let i = text.indexOf(ITEM_MARK); i !== -1; i = text.indexOf(ITEM_MARK, i + ITEM_MARK.length)) n++;
  return n;
}

async function runCursors(t: Extract<Task, { kind: 'cursors' }>): Promise<StreamResult> {
  const started = performance.now();
  let rows = 0;
  let pages = 0;
  let bytes = 0;
  let cursor: string | null = null;
  do {
    const sep = t.path.includes('?') ? '&' : '?';
    const path: string = cursor === null ? t.path : `${t.path}${sep}cursor=${encodeURIComponent(cursor)}`;
    const res = await fetch(`${t.url}${path}`, { headers: t.headers, signal: AbortSignal.timeout(300_000) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    pages++;
    bytes += text.length;
    rows += countItems(text);
    const tail = /"cursor":(null|"([^"]*)")\}$/.exec(text.slice(-200));
    if (!tail) throw new Error(`GET ${path}: no cursor at the end of the page`);
    cursor = tail[2] ?? null;
    if (process.env.BENCH_DEBUG) console.log(`cursors: page ${pages}, ${rows} rows, next ${cursor}`);
  } while (cursor !== null && rows < (t.maxRows ?? Infinity));
  return { kind: 'stream', rows, pages, bytes, seconds: (performance.now() - started) / 1000 };
}

async function runDownload(t: Extract<Task, { kind: 'download' }>): Promise<StreamResult> {
  const started = performance.now();
  const res = await fetch(`${t.url}${t.path}`, { headers: t.headers, signal: AbortSignal.timeout(300_000) });
  if (res.status !== 200 || !res.body) throw new Error(`GET ${t.path} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  let rows = 0;
  let bytes = 0;
  // The last ITEM_MARK.length - 1 characters carry over, so a mark split across two chunks is
  // counted once: too short to hold a whole mark, they are never counted twice.
  let carry = '';
  const decoder = new TextDecoder();
  const debug = process.env.BENCH_DEBUG ? setInterval(() => console.log(`download: ${bytes} bytes, ${rows} rows`), 1000) : undefined;
  for await (const chunk of res.body) {
    const text = carry + decoder.decode(chunk, { stream: true });
    bytes += chunk.byteLength;
    rows += countItems(text);
    carry = text.slice(-(ITEM_MARK.length - 1));
  }
  clearInterval(debug);
  return { kind: 'stream', rows, pages: 1, bytes, seconds: (performance.now() - started) / 1000 };
}

parentPort!.on('message', (msg: { id: number; task: Task }) => {
  const run = msg.task.kind === 'http' ? runHttp(msg.task) : msg.task.kind === 'cursors' ? runCursors(msg.task) : runDownload(msg.task);
  run.then(
    (result) => parentPort!.postMessage({ id: msg.id, result }),
    (error: unknown) => parentPort!.postMessage({ id: msg.id, error: String((error as Error)?.stack ?? error) }),
  );
});
