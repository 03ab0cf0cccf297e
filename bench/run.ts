/**
 * `npm run bench [-- --quick] [-- --check] [-- --growth] [-- --ladder] [-- --only=get,stream] [-- --rounds=N --seconds=S]`
 *
 * Measures sandbar against its ceilings, side by side in one run (issue 11):
 * starts sandbar in this process on a fresh database (DATABASE_URL's server,
 * else an embedded cluster in a temporary directory), loads data with SQL,
 * then for each workload runs the product and its ceiling alternately for
 * several rounds, so that drift on this shared machine hits both alike.
 * Load comes from autocannon in a worker thread (bench/load-worker.ts).
 * Writes bench/results/latest.json and prints a table of ratios.
 *
 * --check exits 1 when a ratio falls below half its target or a workload
 * fails: a crash detector, not a gate on noise. See bench/README.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import postgres from 'postgres';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { openBenchDatabase } from './database.ts';
import { startService } from '../src/service.ts';
import { startCeiling } from './ceiling.ts';
import { addCpu, cpuNow, cpuSpent, postmasterPid, type CpuSeconds } from './cpu.ts';
import { itemValue } from './items.ts';
import { streamItems } from '../sql/collections.queries.ts';
import { BATCH_BYTES, BATCH_ROWS } from '../src/collections/stream.ts';
import type { HttpResult, Scenario, StreamResult, Task } from './load-worker.ts';

// ---- options ------------------------------------------------------------------

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const check = args.includes('--check');
const growth = args.includes('--growth');
// GET item, release get and workflow save also measure the ceiling with one product cost added at a time (bench/ceiling.ts).
const ladder = args.includes('--ladder');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');

const P = quick
  ? { rounds: 2, seconds: 3, warmup: 1, items: 100_000, upsertItems: 100_000, collections: 1_000, differing: 100, sandboxRounds: 2 }
  : { rounds: 5, seconds: 10, warmup: 2, items: 1_000_000, upsertItems: 1_000_000, collections: 10_000, differing: 1_000, sandboxRounds: 3 };
// --rounds=N and --seconds=S override the mode's, e.g. for a tuning experiment that needs less noise.
const numberArg = (name: string) => {
  const v = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return v === undefined ? undefined : Number(v);
};
P.rounds = numberArg('rounds') ?? P.rounds;
P.seconds = numberArg('seconds') ?? P.seconds;
/** Connections for the request/response workloads, as in ../shared/docs/performance-notes.md. */
const CONNECTIONS = 50;
/** Concurrent 1000-item POSTs (and ceiling statements) in the upsert workload. */
const UPSERT_CONCURRENCY = 4;
const UPSERT_BATCH = 1000;
const VALUE_BYTES = 200;
const RELEASES = 10_000;
const DATABASE = 'sandbar_bench';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const started = Date.now();
const log = createLogger('warn');

// ---- results ------------------------------------------------------------------

interface Spread {
  median: number;
  min: number;
  max: number;
}

interface Row {
  workload: string;
  variant: string;
  unit: string;
  /** 'rung': a step of a ladder (--ladder), reported but judged against no target. */
  status: 'ok' | 'below' | 'failed' | 'skipped' | 'rung';
  product?: Spread;
  ceiling?: Spread;
  /** product/ceiling per round; for absolute rows, absent. */
  ratio?: Spread;
  /** ≥ target for ratios; for absolute rows the limit in ms (lower is better). */
  target: number;
  absolute?: boolean;
  p99?: { product: number; ceiling: number; ratio: Spread; limit: number };
  /**
   * CPU µs per unit (per 2xx answer) in each component, over every round (bench/cpu.ts): the
   * product's and the ceiling's side by side. Absent off Linux; no postgres for a DATABASE_URL server.
   */
  cpu?: { product: CpuSeconds; ceiling: CpuSeconds };
  /** Streams: the server's RSS growth during one product stream, at most over the rounds. */
  rssGrowthMb?: number;
  note?: string;
}

const rows: Row[] = [];

function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s.at(-1)! };
}

// ---- database, service, ceiling, load worker ------------------------------------

// Commits do not wait for the WAL flush: product and ceiling then differ by CPU work, not by this disk.
const database = await openBenchDatabase(DATABASE, log, { synchronous_commit: 'off' });
const tmp = database.dir;
// The embedded cluster runs detached (pg_ctl): whatever ends this run must stop it.
const stopping: Array<() => Promise<unknown>> = [];
let stopped: Promise<void> | undefined;
function stopAll(): Promise<void> {
  stopped ??= (async () => {
    for (const stop of stopping.reverse()) await stop().catch(() => undefined);
    await database.stop();
  })();
  return stopped;
}
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => void stopAll().finally(() => process.exit(code)));
}
process.on('uncaughtException', (error) => {
  console.error(error);
  void stopAll().finally(() => process.exit(2));
});

const dbUrl = database.url;

// SANDBAR_* variables pass through, so a tuning experiment is `SANDBAR_DB_POOL_MAX=2 npm run bench`.
const passThrough = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('SANDBAR_') && k !== 'SANDBAR_DATA_DIR'));
const config = loadConfig({ ...passThrough, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATABASE_URL: dbUrl, SANDBAR_DATA_DIR: tmp });
const service = await startService(config, log, { url: dbUrl, server: { kind: 'external', url: () => dbUrl, stop: async () => undefined } });
stopping.push(() => service.stop());
const ceiling = await startCeiling(dbUrl, config.SANDBAR_DB_POOL_MAX);
stopping.push(() => ceiling.stop());
const sql = postgres(dbUrl, { max: 4, onnotice: () => undefined });
stopping.push(() => sql.end({ timeout: 1 }));

// A worker does not inherit `--import tsx`'s loader, so it registers tsx itself before loading the TypeScript.
const worker = new Worker(
  `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
     .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./load-worker.ts', import.meta.url).href)}); });`,
  { eval: true },
);
stopping.push(() => worker.terminate());
let taskId = 0;
let workerGone: Error | undefined;
const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
/** The load worker's OS thread id, which it sends first (bench/cpu.ts). */
let loadThreadId: number | undefined;
worker.on('message', (m: { id: number; result?: unknown; error?: string } | { osThreadId?: number }) => {
  if (!('id' in m)) {
    loadThreadId = m.osThreadId;
    return;
  }
  const w = waiting.get(m.id);
  waiting.delete(m.id);
  if (m.error !== undefined) w?.reject(new Error(m.error));
  else w?.resolve(m.result);
});
const loadWorkerFailed = (e: Error) => {
  workerGone ??= e;
  for (const w of waiting.values()) w.reject(e);
  waiting.clear();
};
worker.on('error', loadWorkerFailed);
worker.on('exit', (code) => loadWorkerFailed(new Error(`the load worker exited (${code})`)));
/** No single task of the bench may take this long: a stalled stream fails its workload instead of hanging the run. */
const TASK_TIMEOUT_MS = quick ? 60_000 : 300_000;
function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${TASK_TIMEOUT_MS / 1000} s`)), TASK_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
function load<T extends HttpResult | StreamResult>(task: Task): Promise<T> {
  if (workerGone) return Promise.reject(workerGone);
  const id = taskId++;
  const result = new Promise<T>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, task });
  });
  const what = task.kind === 'http' ? `load on ${task.url}` : task.kind === 'copy' ? 'COPY' : `${task.kind} of ${task.path}`;
  return withTimeout(result, what);
}

// ---- fixture --------------------------------------------------------------------

async function api<T = any>(method: string, p: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${service.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function must<T = any>(method: string, p: string, token: string, body?: unknown): Promise<T> {
  const r = await api<T>(method, p, token, body);
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${p} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

const [owner] = await sql<[{ id: string }]>`insert into app.users (email) values ('bench@example.test') returning id`;
const pat = (await service.auth.issuePersonalToken(owner!.id, 'bench', 30)).token;
const project = await must<{ id: string }>('POST', '/api/projects', pat, { name: 'bench' });
const runToken = (await must<{ token: string }>('POST', `/api/projects/${project.id}/runs`, pat, {})).token;

/** A collection made through the API (so the product's own path creates it), filled by SQL. */
async function collectionWithItems(name: string, count: number): Promise<string> {
  const c = await must<{ id: string }>('POST', `/api/projects/${project.id}/collections`, pat, { name });
  await fill(c.id, count);
  return c.id;
}

async function fill(collectionId: string, count: number): Promise<void> {
  const filler = 'x'.repeat(VALUE_BYTES - 20);
  for (let from = 0; from < count; from += 250_000) {
    const to = Math.min(count, from + 250_000) - 1;
    await sql`
      insert into app.items (collection_id, project_id, key, value)
      select ${collectionId}, ${project.id}, 'k-' || lpad(i::text, 7, '0'), '{"n":' || i || ',"payload":"' || ${filler} || '"}'
      from generate_series(${from}::int, ${to}::int) i`;
  }
}

const loadStarted = Date.now();
const itemsCollectionId = await collectionWithItems('bench-items', P.items);
const server = await must<{ id: string }>('POST', `/api/projects/${project.id}/servers`, pat, { name: 'bench' });
await sql`insert into app.releases (server_id, project_id, name)
          select ${server.id}, ${project.id}, 'r-' || lpad(i::text, 6, '0') from generate_series(0, ${RELEASES - 1}::int) i`;
// After a bulk load autovacuum would otherwise halve point reads for a while (performance-notes.md).
await sql`vacuum analyze`;
console.log(`loaded ${P.items.toLocaleString('en')} items and ${RELEASES.toLocaleString('en')} releases in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s`);

const authHeaders = (token: string, v2 = false): Record<string, string> => ({
  authorization: `Bearer ${token}`,
  ...(v2 ? { 'x-api-version': '2' } : {}),
});

// ---- measuring ------------------------------------------------------------------

interface Side {
  label: string;
  url: string;
  scenario: Scenario;
  /** A ladder rung: a ceiling with one product cost added, reported with this note and not judged. */
  rung?: string;
}

/** PostgreSQL's CPU is read only from the bench's own cluster (bench/cpu.ts). */
const postmaster = database.kind === 'embedded' ? postmasterPid(path.join(database.dir, 'pg')) : undefined;

/** One timed autocannon run; a round with non-2xx answers or socket errors fails the workload. */
async function hit(side: Side, duration: number): Promise<HttpResult & { cpu?: CpuSeconds }> {
  const before = cpuNow(loadThreadId, postmaster);
  const r = await load<HttpResult>({ kind: 'http', url: side.url, connections: CONNECTIONS, duration, scenario: side.scenario });
  const after = cpuNow(loadThreadId, postmaster);
  if (r.non2xx > 0 || r.errors > 0) {
    throw new Error(`${side.label}: ${r.non2xx} non-2xx answers (${JSON.stringify(r.statusCodes)}) and ${r.errors} errors in ${r.ok + r.non2xx} requests`);
  }
  return before && after ? { ...r, cpu: cpuSpent(before, after) } : r;
}

/** CPU seconds summed over rounds, as µs per 2xx answer. */
function perAnswer(spent: { cpu: CpuSeconds; ok: number }): CpuSeconds {
  const us = (s: number) => (s * 1e6) / Math.max(spent.ok, 1);
  return { main: us(spent.cpu.main), load: us(spent.cpu.load), ...(spent.cpu.postgres !== undefined ? { postgres: us(spent.cpu.postgres) } : {}) };
}

/**
 * Warms every side up, then runs `rounds` rounds; each round runs the ceiling
 * and every product variant, in alternating order (ABBA), and yields one
 * ratio per variant.
 */
async function compareHttp(workload: string, unit: string, target: number, ceilingSide: Side, products: Side[], p99Limit?: number): Promise<void> {
  for (const side of [ceilingSide, ...products]) await hit(side, P.warmup);
  const per = new Map<string, { rate: number[]; ceil: number[]; ratio: number[]; p99: number[]; cp99: number[]; p99ratio: number[] }>();
  for (const p of products) per.set(p.label, { rate: [], ceil: [], ratio: [], p99: [], cp99: [], p99ratio: [] });
  const spent = new Map<string, { cpu: CpuSeconds; ok: number }>();
  for (let round = 0; round < P.rounds; round++) {
    const order = round % 2 === 0 ? [ceilingSide, ...products] : [...products].reverse().concat(ceilingSide);
    const results = new Map<string, HttpResult>();
    for (const side of order) {
      const r = await hit(side, P.seconds);
      results.set(side.label, r);
      if (!r.cpu) continue;
      const s = spent.get(side.label) ?? { cpu: { main: 0, load: 0 }, ok: 0 };
      addCpu(s.cpu, r.cpu);
      s.ok += r.ok;
      spent.set(side.label, s);
    }
    const c = results.get(ceilingSide.label)!;
    for (const p of products) {
      const r = results.get(p.label)!;
      const m = per.get(p.label)!;
      m.rate.push(r.rate);
      m.ceil.push(c.rate);
      m.ratio.push(r.rate / c.rate);
      m.p99.push(r.p99);
      m.cp99.push(c.p99);
      m.p99ratio.push(r.p99 / Math.max(c.p99, 1));
    }
  }
  for (const p of products) {
    const m = per.get(p.label)!;
    const ratio = spread(m.ratio);
    rows.push({
      workload,
      variant: p.label,
      unit,
      status: p.rung ? 'rung' : verdict(ratio.median, target),
      ...(p.rung ? { note: p.rung } : {}),
      product: spread(m.rate),
      ceiling: spread(m.ceil),
      ratio,
      target,
      ...(spent.has(p.label) && spent.has(ceilingSide.label)
        ? { cpu: { product: perAnswer(spent.get(p.label)!), ceiling: perAnswer(spent.get(ceilingSide.label)!) } }
        : {}),
      ...(p99Limit !== undefined
        ? { p99: { product: spread(m.p99).median, ceiling: spread(m.cp99).median, ratio: spread(m.p99ratio), limit: p99Limit } }
        : {}),
    });
  }
}

function verdict(ratio: number, target: number): Row['status'] {
  return ratio >= target ? 'ok' : 'below';
}

/** A route that answers "No route for …" does not exist yet: the workload is skipped, not failed. */
async function routeExists(method: string, p: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<boolean> {
  const res = await fetch(`${service.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return !(res.status === 404 && /No route for/.test(text)) && res.status !== 405;
}

interface Workload {
  name: string;
  id: string;
  /** The rows this workload reports, for a skipped or failed one. */
  variants: string[];
  target: number;
  unit: string;
  absolute?: boolean;
  probe(): Promise<boolean>;
  run(): Promise<void>;
}

const workloads: Workload[] = [];

// 1. release create + get by handle --------------------------------------------------

workloads.push({
  name: 'release create + get by handle',
  id: 'release',
  variants: ['create', 'get by handle'],
  target: 0.7,
  unit: 'req/s',
  probe: () => routeExists('GET', `/api/servers/${server.id}/releases/r-000000`, pat),
  async run() {
    await compareHttp(
      'release create',
      'req/s',
      0.7,
      { label: 'ceiling', url: ceiling.url, scenario: { kind: 'release-create', path: `/releases/${server.id}/${project.id}`, prefix: 'c', headers: {} } },
      [{ label: 'create (PAT)', url: service.url, scenario: { kind: 'release-create', path: `/api/servers/${server.id}/releases`, prefix: 'p', headers: authHeaders(pat) } }],
    );
    await compareHttp(
      'release get by handle',
      'req/s',
      0.7,
      { label: 'ceiling', url: ceiling.url, scenario: { kind: 'random-get', template: `/releases/${server.id}/r-{i}`, n: RELEASES, pad: 6, headers: {} } },
      [
        ...(ladder
          ? [
              {
                label: 'rung: + authorization',
                url: ceiling.url,
                scenario: { kind: 'random-get' as const, template: `/ladder/release/${owner!.id}/${server.id}/r-{i}`, n: RELEASES, pad: 6, headers: {} },
                rung: "the bare route sending the product's statement (role in the server's project and the release), user id in the path",
              },
            ]
          : []),
        { label: 'get (PAT)', url: service.url, scenario: { kind: 'random-get', template: `/api/servers/${server.id}/releases/r-{i}`, n: RELEASES, pad: 6, headers: authHeaders(pat) } },
      ],
    );
  },
});

// 2. GET one item by key ----------------------------------------------------------------

workloads.push({
  name: 'GET one item by key',
  id: 'get',
  variants: ['v1 PAT', 'v2 PAT', 'v1 run token', 'v2 run token'],
  target: 0.8,
  unit: 'req/s',
  probe: () => routeExists('GET', `/collections/${project.id}/bench-items/k-0000000`, pat, undefined, { 'x-api-version': '2' }),
  async run() {
    const v1 = (token: string) => ({ kind: 'random-get' as const, template: '/collections/bench-items/k-{i}', n: P.items, pad: 7, headers: authHeaders(token) });
    const v2 = (token: string) => ({
      kind: 'random-get' as const,
      template: `/collections/${project.id}/bench-items/k-{i}`,
      n: P.items,
      pad: 7,
      headers: authHeaders(token, true),
    });
    await compareHttp(
      'GET item by key',
      'req/s',
      0.8,
      { label: 'ceiling', url: ceiling.url, scenario: { kind: 'random-get', template: `/items/${itemsCollectionId}/k-{i}`, n: P.items, pad: 7, headers: {} } },
      [
        ...(ladder
          ? [
              {
                label: 'rung: + item JSON',
                url: ceiling.url,
                scenario: { kind: 'random-get' as const, template: `/ladder/json/${itemsCollectionId}/k-{i}`, n: P.items, pad: 7, headers: {} },
                rung: 'the bare route sending the item JSON stored with each item (app.items.item_json, ADR 15)',
              },
              {
                label: 'rung: + authorization',
                url: ceiling.url,
                scenario: { kind: 'random-get' as const, template: `/ladder/authorized/${owner!.id}/${project.id}/bench-items/k-{i}`, n: P.items, pad: 7, headers: {} },
                rung: "the bare route sending the product's v2 statement (role, collection and item JSON), user id in the path",
              },
            ]
          : []),
        { label: 'v1 PAT', url: service.url, scenario: v1(pat) },
        { label: 'v2 PAT', url: service.url, scenario: v2(pat) },
        { label: 'v1 run token', url: service.url, scenario: v1(runToken) },
        { label: 'v2 run token', url: service.url, scenario: v2(runToken) },
      ],
      2,
    );
  },
});

// 3. workflow save ------------------------------------------------------------------------

/** A workflow definition of Lightning's shape and size (a few kB). */
const definition = {
  jobs: Array.from({ length: 5 }, (_, i) => ({
    id: `job-${i}`,
    name: `Step ${i}`,
    adaptor: '@openfn/language-http@6.4.0',
    body: `fn(state => {\n  // step ${i}\n  return { ...state, step: ${i} };\n});\n`.repeat(4),
  })),
  triggers: [{ id: 'trigger', type: 'webhook', enabled: true }],
  edges: Array.from({ length: 5 }, (_, i) => ({
    id: `edge-${i}`,
    source_job_id: i === 0 ? null : `job-${i - 1}`,
    source_trigger_id: i === 0 ? 'trigger' : null,
    target_job_id: `job-${i}`,
    condition_type: 'on_job_success',
  })),
};

workloads.push({
  name: 'workflow save (new, then edit)',
  id: 'workflow',
  variants: ['new + edit (PAT)'],
  target: 0.7,
  unit: 'saves/s',
  probe: () => routeExists('PUT', `/api/projects/${project.id}/workflows/00000000-0000-4000-8000-000000000000`, pat, {}),
  async run() {
    await compareHttp(
      'workflow save',
      'saves/s',
      0.7,
      { label: 'ceiling', url: ceiling.url, scenario: { kind: 'workflow-save', prefix: `/workflows/${project.id}`, definition, headers: {} } },
      [
        ...(ladder
          ? [
              {
                label: 'rung: + snapshot',
                url: ceiling.url,
                scenario: { kind: 'workflow-save' as const, prefix: `/ladder/workflows/${owner!.id}/${project.id}`, definition, headers: {} },
                rung: "the bare route calling the product's app.save_workflow (the workflow row and its snapshot), no authorization",
              },
              {
                label: 'rung: + authorization',
                url: ceiling.url,
                scenario: { kind: 'workflow-save' as const, prefix: `/ladder/workflows/${owner!.id}/${project.id}`, query: 'authorize', definition, headers: {} },
                rung: "the same with the product's authorizing statement first (two round trips, as the product), user id in the path",
              },
            ]
          : []),
        { label: 'new + edit (PAT)', url: service.url, scenario: { kind: 'workflow-save', prefix: `/api/projects/${project.id}/workflows`, definition, headers: authHeaders(pat) } },
      ],
    );
  },
});

// 4. upsert items in 1000-item POSTs -------------------------------------------------------

workloads.push({
  name: `upsert ${P.upsertItems.toLocaleString('en')} items`,
  id: 'upsert',
  variants: ['POST 1000 items'],
  target: 0.6,
  unit: 'items/s',
  probe: () => routeExists('POST', '/collections/bench-items', pat, { items: [] }),
  async run() {
    const productCollection = await must<{ id: string }>('POST', `/api/projects/${project.id}/collections`, pat, { name: 'bench-upsert-p' });
    const ceilingCollection = await must<{ id: string }>('POST', `/api/projects/${project.id}/collections`, pat, { name: 'bench-upsert-c' });
    void productCollection;
    const requests = P.upsertItems / UPSERT_BATCH;
    let seq = 0;
    const product = async (round: number): Promise<number> => {
      const r = await load<HttpResult>({
        kind: 'http',
        url: service.url,
        connections: UPSERT_CONCURRENCY,
        amount: requests,
        scenario: { kind: 'upsert', path: '/collections/bench-upsert-p', prefix: `p${round}`, batch: UPSERT_BATCH, valueBytes: VALUE_BYTES, headers: authHeaders(pat) },
      });
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`upsert: ${r.non2xx} non-2xx (${JSON.stringify(r.statusCodes)}), ${r.errors} errors`);
      return (r.ok * UPSERT_BATCH) / r.seconds;
    };
    // The ceiling's statement, from this process, on the ceiling's pool (same size as sandbar's hot pool).
    const ceilingRun = async (round: number): Promise<number> => {
      const t0 = performance.now();
      let next = 0;
      const lane = async () => {
        while (next < requests) {
          next++;
          const keys: string[] = [];
          const values: string[] = [];
          for (let i = 0; i < UPSERT_BATCH; i++) {
            const n = seq++;
            keys.push(`c${round}-${n}`);
            values.push(itemValue(n, VALUE_BYTES));
          }
          await ceiling.sql`
            insert into app.items as i (collection_id, project_id, key, value)
            select ${ceilingCollection.id}, ${project.id}, u.key, u.value
            from unnest(${keys}::text[], ${values}::text[]) as u (key, value)
            on conflict (collection_id, key) do update set value = excluded.value, updated_at = now()`;
        }
      };
      await Promise.all(Array.from({ length: UPSERT_CONCURRENCY }, lane));
      return P.upsertItems / ((performance.now() - t0) / 1000);
    };
    const rate: number[] = [];
    const ceil: number[] = [];
    const ratio: number[] = [];
    for (let round = 0; round < P.rounds; round++) {
      let p: number;
      let c: number;
      if (round % 2 === 0) {
        c = await ceilingRun(round);
        p = await product(round);
      } else {
        p = await product(round);
        c = await ceilingRun(round);
      }
      rate.push(p);
      ceil.push(c);
      ratio.push(p / c);
    }
    const r = spread(ratio);
    rows.push({ workload: this.name, variant: 'POST 1000 items', unit: 'items/s', status: verdict(r.median, 0.6), product: spread(rate), ceiling: spread(ceil), ratio: r, target: 0.6 });
  },
});

// 5. stream items ----------------------------------------------------------------------------

let rssGrowthMb: number | undefined;

workloads.push({
  name: `stream ${P.items.toLocaleString('en')} items`,
  id: 'stream',
  variants: ['GET /collections/:name + cursors', 'download'],
  target: 0.5,
  unit: 'rows/s',
  probe: () => routeExists('GET', '/collections/bench-items?limit=1', pat),
  async run() {
    // COPY takes no bind parameters, so the (server-generated, validated) uuid is inlined.
    if (!/^[0-9a-f-]{36}$/.test(itemsCollectionId)) throw new Error('unexpected collection id');
    // Run by the load worker, which also reads the product's streams (runCopy in load-worker.ts says why).
    // (`json`: a diagnostic second ceiling, COPY of the JSON text the product sends, stored with each item.)
    const copy = async (json = false): Promise<number> => {
      const columns = json ? 'item_json' : 'key, value, created_at, updated_at';
      const query = `copy (select ${columns} from app.items where collection_id = '${itemsCollectionId}' order by id) to stdout`;
      const r = await load<StreamResult>({ kind: 'copy', dbUrl, query });
      if (r.rows !== P.items) throw new Error(`COPY gave ${r.rows} rows, expected ${P.items}`);
      return r.rows / r.seconds;
    };
    const growthMb = new Map<string, number>();
    const variants: Array<{ label: string; task: Task }> = [
      { label: 'GET /collections/:name + cursors', task: { kind: 'cursors', url: service.url, path: '/collections/bench-items', headers: authHeaders(pat) } },
      { label: 'download', task: { kind: 'download', url: service.url, path: `/api/projects/${project.id}/collections/bench-items/download`, headers: authHeaders(pat) } },
    ];
    const per = new Map(variants.map((v) => [v.label, { rate: [] as number[], ceil: [] as number[], ratio: [] as number[], jsonRatio: [] as number[] }]));
    {
      for (let round = 0; round < P.rounds; round++) {
        const labels = ['ceiling', 'ceiling-json', ...variants.map((v) => v.label)];
        const order = round % 2 === 0 ? labels : [...labels].reverse();
        const got = new Map<string, number>();
        for (const label of order) {
          if (label.startsWith('ceiling')) {
            got.set(label, await copy(label === 'ceiling-json'));
            continue;
          }
          // RSS growth is the server's: sampled only while a product stream runs, from just before it.
          const baseRss = process.memoryUsage().rss;
          let peakRss = baseRss;
          const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
          let r: StreamResult;
          try {
            r = await load<StreamResult>(variants.find((v) => v.label === label)!.task);
          } finally {
            clearInterval(sampler);
          }
          growthMb.set(label, Math.max(growthMb.get(label) ?? 0, (peakRss - baseRss) / 2 ** 20));
          if (r.rows !== P.items) throw new Error(`${label} gave ${r.rows} rows, expected ${P.items}`);
          got.set(label, r.rows / r.seconds);
        }
        for (const v of variants) {
          const m = per.get(v.label)!;
          m.rate.push(got.get(v.label)!);
          m.ceil.push(got.get('ceiling')!);
          m.ratio.push(got.get(v.label)! / got.get('ceiling')!);
          m.jsonRatio.push(got.get(v.label)! / got.get('ceiling-json')!);
        }
      }
    }
    for (const v of variants) {
      const m = per.get(v.label)!;
      const r = spread(m.ratio);
      const rss = growthMb.get(v.label)!;
      rssGrowthMb = Math.max(rssGrowthMb ?? 0, rss);
      rows.push({
        workload: this.name,
        variant: v.label,
        unit: 'rows/s',
        status: rss < 50 ? verdict(r.median, 0.5) : 'below',
        product: spread(m.rate),
        ceiling: spread(m.ceil),
        ratio: r,
        target: 0.5,
        rssGrowthMb: rss,
        note: `server RSS growth ${rss.toFixed(0)} MB at most during one stream (limit 50 MB); vs COPY of the product's JSON text: ${spread(m.jsonRatio).median.toFixed(2)}`,
      });
    }
  },
});

// 6. provision + merge a sandbox ------------------------------------------------------------

/**
 * A parent of `collections` collections, a sandbox provisioned from it through
 * the API, then made to differ by `differing` collections each way (the
 * parent's doomed collections hold 10 items each), then merged through the API.
 */
async function sandboxRound(collections: number, differing: number, round: string, parentItems = 0): Promise<{ provisionMs: number; mergeMs: number }> {
  const parent = await must<{ id: string }>('POST', '/api/projects', pat, { name: `bench-parent-${round}` });
  await sql`insert into app.collections (project_id, name)
            select ${parent.id}, 'c-' || lpad(i::text, 6, '0') from generate_series(1, ${collections}::int) i`;
  await sql`insert into app.items (collection_id, project_id, key, value)
            select c.id, c.project_id, 'k' || j, 'v' from app.collections c, generate_series(1, 10) j
            where c.project_id = ${parent.id} and c.name <= ${'c-' + String(differing).padStart(6, '0')}`;
  // The issue's parent holds 1M items: the rest of them in the last collection, which the merge keeps.
  const rest = parentItems - differing * 10;
  if (rest > 0) {
    await sql`insert into app.items (collection_id, project_id, key, value)
              select c.id, c.project_id, 'k-' || lpad(i::text, 7, '0'), ${itemValue(0, VALUE_BYTES)}
              from app.collections c, generate_series(1, ${rest}::int) i
              where c.project_id = ${parent.id} and c.name = ${'c-' + String(collections).padStart(6, '0')}`;
  }
  await sql`analyze app.collections`;
  let t0 = performance.now();
  const sandbox = await must<{ id: string }>('POST', `/api/projects/${parent.id}/sandboxes`, pat, { name: `bench-sandbox-${round}` });
  const provisionMs = performance.now() - t0;
  const [{ n }] = await sql<[{ n: number }]>`select count(*)::int as n from app.collections where project_id = ${sandbox.id}`;
  if (n !== collections) throw new Error(`the sandbox got ${n} collections, expected ${collections}`);
  await sql`delete from app.collections where project_id = ${sandbox.id} and name <= ${'c-' + String(differing).padStart(6, '0')}`;
  await sql`insert into app.collections (project_id, name)
            select ${sandbox.id}, 'new-' || lpad(i::text, 6, '0') from generate_series(1, ${differing}::int) i`;
  t0 = performance.now();
  const merged = await must<{ created: string[]; deleted: unknown[] }>('POST', `/api/projects/${sandbox.id}/merge`, pat, {});
  const mergeMs = performance.now() - t0;
  if (merged.created.length !== differing || merged.deleted.length !== differing) {
    throw new Error(`merge created ${merged.created.length} and deleted ${merged.deleted.length}, expected ${differing} each`);
  }
  return { provisionMs, mergeMs };
}

workloads.push({
  name: `sandbox of ${P.collections.toLocaleString('en')} collections`,
  id: 'sandbox',
  variants: ['provision', 'merge'],
  target: 1000,
  unit: 'ms',
  absolute: true,
  probe: async () => {
    const p = await must<{ id: string }>('POST', '/api/projects', pat, { name: 'bench-probe' });
    return routeExists('POST', `/api/projects/${p.id}/merge`, pat, { target_id: p.id });
  },
  async run() {
    const provision: number[] = [];
    const merge: number[] = [];
    for (let round = 0; round < P.sandboxRounds; round++) {
      const r = await sandboxRound(P.collections, P.differing, String(round), P.items);
      provision.push(r.provisionMs);
      merge.push(r.mergeMs);
    }
    const note = `${P.differing.toLocaleString('en')} collections differing each way; parent holds ${P.items.toLocaleString('en')} items`;
    for (const [variant, xs] of [['provision', provision], ['merge', merge]] as const) {
      const s = spread(xs);
      rows.push({ workload: this.name, variant, unit: 'ms', status: s.median < 1000 ? 'ok' : 'below', product: s, target: 1000, absolute: true, note });
    }
  },
});

// ---- growth table (--growth) ----------------------------------------------------------------

/** The issue's "spread over 1,000 collections": a total of N items in 1,000 collections of one project, N/1,000 each. */
const SPREAD = 1_000;

interface GrowthRow {
  layout: string;
  /** Items in the collection, or in the project's 1,000 collections together. */
  total: number;
  perCollection: number;
  /** Over the rounds (median, min, max), as all of these. */
  getRate: Spread;
  getP99: Spread;
  /** Cursor paging, first 100k items at most (spread: whole collections one after another). */
  streamRate: Spread;
  /** Stream seconds / page requests. */
  streamMsPerRequest: Spread;
  /** Collections streamed per measurement (1 for one collection). */
  streamCollections: number;
  /** EXPLAIN (ANALYZE, BUFFERS) of the first stream page, in one line. */
  firstPage: string;
  /** EXPLAIN (ANALYZE, BUFFERS) of 200 random-key item lookups, averaged. */
  lookup: string;
}

/** What one growth row measures: a collection of its own, or the middle one of a spread project. */
interface GrowthTarget {
  layout: string;
  total: number;
  perCollection: number;
  projectId: string;
  /** The collection the GET reads random keys of. */
  getName: string;
  /** Collections the stream reads one after another (until 100k items). */
  streamNames: string[];
}

const growthItems: GrowthRow[] = [];
const growthMerge: Array<{ collections: number; provisionMs: number; mergeMs: number }> = [];
const growthInfo: {
  seconds?: number;
  loadSeconds?: number;
  vacuumSeconds?: number;
  itemsInTable?: number;
  tableBytes?: number;
  sharedBuffers?: string;
  loadAverageBefore?: number[];
  loadAverageAfter?: number[];
} = {};

/**
 * A project of its own with SPREAD collections (c-0000 … c-0999) holding `total` items between
 * them, item i in collection i % SPREAD: every collection's rows are interleaved with the others'.
 */
async function spreadProject(total: number): Promise<GrowthTarget> {
  const p = await must<{ id: string }>('POST', '/api/projects', pat, { name: `bench-spread-${total}` });
  const made = await sql<Array<{ id: string; name: string }>>`
    insert into app.collections (project_id, name)
    select ${p.id}, 'c-' || lpad(i::text, 4, '0') from generate_series(0, ${SPREAD - 1}::int) i
    returning id, name`;
  const names = made.map((c) => c.name).sort();
  const ids = [...made].sort((a, b) => (a.name < b.name ? -1 : 1)).map((c) => c.id);
  const filler = 'x'.repeat(VALUE_BYTES - 20);
  for (let from = 0; from < total; from += 250_000) {
    const to = Math.min(total, from + 250_000) - 1;
    await sql`
      insert into app.items (collection_id, project_id, key, value)
      select (${ids}::text[])[i % ${SPREAD}::int + 1]::uuid, ${p.id}, 'k-' || lpad((i / ${SPREAD}::int)::text, 7, '0'),
             '{"n":' || i || ',"payload":"' || ${filler} || '"}'
      from generate_series(${from}::int, ${to}::int) i`;
  }
  const mid = SPREAD / 2;
  // Whole collections one after another until 100k items: one 10-item collection is too short to time.
  const streamCount = Math.min(SPREAD, Math.max(1, Math.ceil(100_000 / (total / SPREAD))));
  const streamNames = Array.from({ length: streamCount }, (_, k) => names[(mid + k) % SPREAD]!);
  return { layout: `spread over ${SPREAD.toLocaleString('en')} collections`, total, perCollection: total / SPREAD, projectId: p.id, getName: names[mid]!, streamNames };
}

/**
 * Runs a generated query (sql/*.queries.ts) under EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON):
 * pgtyped hands this connection the product's own query text and bindings.
 */
function explaining(): { query(q: string, bindings: unknown[]): Promise<{ rows: any[]; rowCount: number }> } {
  return {
    query: async (q, bindings) => {
      const rows = await sql.unsafe(`explain (analyze, buffers, format json) ${q}`, bindings as never[]);
      return { rows: [...rows], rowCount: rows.length };
    },
  };
}

/** EXPLAIN (ANALYZE, BUFFERS) of the stream's first page (streamItems, sql/collections.sql), in one line. */
async function explainFirstPage(projectId: string, name: string): Promise<string> {
  const [c] = await sql<[{ id: string }]>`select id from app.collections where project_id = ${projectId} and name = ${name}`;
  const [row] = (await streamItems.run(
    { collectionId: c!.id, afterId: '0', keyPattern: null, createdAfter: null, createdBefore: null, updatedAfter: null, updatedBefore: null, rows: BATCH_ROWS, bytes: BATCH_BYTES },
    explaining(),
  )) as unknown[];
  interface PlanNode {
    'Node Type': string;
    'Index Name'?: string;
    'Actual Rows': number;
    'Shared Hit Blocks'?: number;
    'Shared Read Blocks'?: number;
    Plans?: PlanNode[];
  }
  const plan = (row as unknown as { 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> })['QUERY PLAN'][0]!;
  const nodes: string[] = [];
  for (let n: PlanNode | undefined = plan.Plan; n; n = n.Plans?.[0]) nodes.push(n['Index Name'] ? `${n['Node Type']} on ${n['Index Name']}` : n['Node Type']);
  const top = plan.Plan;
  return `${nodes.join(' > ')}: ${top['Actual Rows']} rows, ${plan['Execution Time'].toFixed(2)} ms, shared hit ${top['Shared Hit Blocks'] ?? 0} read ${top['Shared Read Blocks'] ?? 0}`;
}

/** The GET's item lookup (as in resolveCollectionInProject) for 200 random keys of the target's GET collection, under EXPLAIN (ANALYZE, BUFFERS). */
async function explainLookups(t: GrowthTarget): Promise<string> {
  const [c] = await sql<[{ id: string }]>`select id from app.collections where project_id = ${t.projectId} and name = ${t.getName}`;
  const total = { ms: 0, hit: 0, read: 0 };
  const n = 200;
  for (let k = 0; k < n; k++) {
    const key = `k-${String(Math.floor(Math.random() * t.perCollection)).padStart(7, '0')}`;
    const [row] = await sql.unsafe(`explain (analyze, buffers, format json) select i.item_json from app.items i where i.collection_id = $1 and i.key = $2`, [c!.id, key]);
    const plan = (row as unknown as { 'QUERY PLAN': Array<{ Plan: { 'Shared Hit Blocks'?: number; 'Shared Read Blocks'?: number }; 'Execution Time': number }> })['QUERY PLAN'][0]!;
    total.ms += plan['Execution Time'];
    total.hit += plan.Plan['Shared Hit Blocks'] ?? 0;
    total.read += plan.Plan['Shared Read Blocks'] ?? 0;
  }
  return `${(total.ms / n).toFixed(3)} ms, shared hit ${(total.hit / n).toFixed(1)} read ${(total.read / n).toFixed(1)} per lookup`;
}

async function measureGrowth(): Promise<void> {
  const growthStarted = Date.now();
  growthInfo.loadAverageBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const sizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000, 10_000_000];
  const spreadTotals = quick ? [100_000] : [10_000, 100_000, 1_000_000, 10_000_000];
  const loadStarted = Date.now();
  const targets: GrowthTarget[] = [];
  for (const n of sizes) {
    await collectionWithItems(`grow-${n}`, n);
    targets.push({ layout: 'one collection', total: n, perCollection: n, projectId: project.id, getName: `grow-${n}`, streamNames: [`grow-${n}`] });
  }
  for (const n of spreadTotals) targets.push(await spreadProject(n));
  growthInfo.loadSeconds = (Date.now() - loadStarted) / 1000;
  const vacuumStarted = Date.now();
  await sql`vacuum analyze app.items`;
  growthInfo.vacuumSeconds = (Date.now() - vacuumStarted) / 1000;
  const [size] = await sql<[{ n: number; bytes: number }]>`select count(*)::int as n, pg_total_relation_size('app.items')::float8 as bytes from app.items`;
  growthInfo.itemsInTable = size!.n;
  growthInfo.sharedBuffers = (await sql<[{ shared_buffers: string }]>`show shared_buffers`)[0]!.shared_buffers;
  growthInfo.tableBytes = size!.bytes;
  console.log(
    `growth: loaded ${targets.reduce((s, t) => s + t.total, 0).toLocaleString('en')} items in ${growthInfo.loadSeconds.toFixed(0)} s, vacuum analyze ${growthInfo.vacuumSeconds.toFixed(0)} s; ` +
      `app.items holds ${size!.n.toLocaleString('en')} items, ${(size!.bytes / 2 ** 30).toFixed(1)} GiB with indexes`,
  );
  const firstPage = new Map<GrowthTarget, string>();
  for (const t of targets) {
    firstPage.set(t, await explainFirstPage(t.projectId, t.streamNames[0]!));
    console.log(`growth: first stream page, ${t.layout}, ${t.perCollection.toLocaleString('en')} per collection: ${firstPage.get(t)}`);
  }

  const v2 = authHeaders(pat, true);
  const side = (t: GrowthTarget): Side => ({
    label: `${t.layout} ${t.total}`,
    url: service.url,
    scenario: { kind: 'random-get', template: `/collections/${t.projectId}/${t.getName}/k-{i}`, n: t.perCollection, pad: 7, headers: v2 },
  });
  /** v2 cursor paging through the target's collections in turn, 100k items at most. */
  const stream = async (t: GrowthTarget): Promise<{ rows: number; pages: number; seconds: number }> => {
    const sum = { rows: 0, pages: 0, seconds: 0 };
    for (const name of t.streamNames) {
      const s = await load<StreamResult>({ kind: 'cursors', url: service.url, path: `/collections/${t.projectId}/${name}`, headers: v2, maxRows: 100_000 - sum.rows });
      sum.rows += s.rows;
      sum.pages += s.pages;
      sum.seconds += s.seconds;
      if (sum.rows >= 100_000) break;
    }
    const expected = Math.min(100_000, t.perCollection * t.streamNames.length);
    if (sum.rows < expected) throw new Error(`growth stream of ${t.layout} ${t.total} gave ${sum.rows} rows, expected ${expected}`);
    return sum;
  };
  for (const t of targets) await hit(side(t), P.warmup);
  // Sizes and layouts alternate within each round, like product and ceiling do, so drift does not pass for growth.
  const per = new Map(targets.map((t) => [t, { rate: [] as number[], p99: [] as number[], stream: [] as number[], msPerRequest: [] as number[] }]));
  for (let round = 0; round < P.rounds; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      const g = await hit(side(t), P.seconds);
      // The stream rate is measured over the first 100k items at most, so each size costs about the same time.
      const s = await stream(t);
      const m = per.get(t)!;
      m.rate.push(g.rate);
      m.p99.push(g.p99);
      m.stream.push(s.rows / s.seconds);
      m.msPerRequest.push((s.seconds * 1000) / s.pages);
    }
  }
  for (const t of targets) {
    const m = per.get(t)!;
    growthItems.push({
      layout: t.layout,
      total: t.total,
      perCollection: t.perCollection,
      getRate: spread(m.rate),
      getP99: spread(m.p99),
      streamRate: spread(m.stream),
      streamMsPerRequest: spread(m.msPerRequest),
      streamCollections: t.streamNames.length,
      firstPage: firstPage.get(t)!,
      lookup: await explainLookups(t),
    });
    console.log(`growth: 200 random-key lookups, ${t.layout}, ${t.perCollection.toLocaleString('en')} per collection: ${growthItems.at(-1)!.lookup}`);
  }
  for (const n of quick ? [100, 1_000] : [100, 1_000, 10_000]) {
    const r = await sandboxRound(n, n / 10, `growth-${n}`);
    growthMerge.push({ collections: n, ...r });
  }
  growthInfo.loadAverageAfter = os.loadavg().map((l) => Math.round(l * 100) / 100);
  growthInfo.seconds = (Date.now() - growthStarted) / 1000;
}

// ---- run ------------------------------------------------------------------------------------

/**
 * Each workload starts on a settled database: the upsert workload leaves two million new rows
 * behind, and autovacuum and checkpoints would otherwise run during the next workload and slow
 * its PostgreSQL-bound ceiling more than the product (a full run's stream ceiling: 382k ±27 %
 * rows/s unsettled, 450k ±16 % settled).
 */
async function settle(): Promise<void> {
  await sql`vacuum (analyze) app.items, app.collections, app.releases, app.workflows, app.workflow_snapshots`;
  // CHECKPOINT needs superuser or pg_checkpoint: the embedded cluster's user has it, a DATABASE_URL's may not.
  await sql`checkpoint`.catch(() => undefined);
}

let exitCode = 0;
try {
  for (const w of workloads) {
    if (only && !only.includes(w.id)) continue;
    const t0 = Date.now();
    try {
      if (!(await w.probe())) {
        for (const variant of w.variants) rows.push({ workload: w.name, variant, unit: w.unit, status: 'skipped', target: w.target, note: 'route not found (404)' });
      } else {
        await settle();
        await w.run();
      }
    } catch (error) {
      const message = String((error as Error).message ?? error).split('\n')[0]!;
      for (const variant of w.variants) rows.push({ workload: w.name, variant, unit: w.unit, status: 'failed', target: w.target, note: message.slice(0, 300) });
    }
    console.log(`${w.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (growth) await measureGrowth();
} finally {
  await stopAll();
}

// ---- report ---------------------------------------------------------------------------------

const seconds = (Date.now() - started) / 1000;
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(n >= 10 ? 1 : 2));
const pm = (s: Spread) => `${fmt(s.median)} ±${s.median ? Math.round(((s.max - s.min) / 2 / s.median) * 100) : 0}%`;
const machine = {
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  postgres: database.kind === 'external' ? 'external (DATABASE_URL)' : 'embedded 18',
  loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
};

const lines: string[] = [];
lines.push('| workload | variant | product | ceiling | ratio (median, min–max) | target | result |');
lines.push('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const failed = r.status === 'failed' || r.status === 'skipped';
  const product = r.product ? `${pm(r.product)} ${r.unit}` : '—';
  const ceilingCell = r.ceiling ? `${pm(r.ceiling)} ${r.unit}` : '—';
  const ratio = r.ratio ? `**${r.ratio.median.toFixed(2)}** (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})` : '—';
  const target = r.absolute ? `< ${r.target} ms` : `≥ ${r.target.toFixed(2)}`;
  let result: string = r.status === 'ok' ? 'ok' : r.status === 'below' ? 'BELOW' : r.status === 'rung' ? 'ladder rung, not judged' : r.status;
  if (r.p99) result += `; p99 ${r.p99.product} vs ${r.p99.ceiling} ms = ${r.p99.ratio.median.toFixed(2)}× (≤ ${r.p99.limit}×${r.p99.ratio.median > r.p99.limit ? ' BELOW' : ''})`;
  if (failed || r.note) result += `: ${r.note ?? ''}`;
  lines.push(`| ${r.workload} | ${r.variant} | ${product} | ${ceilingCell} | ${ratio} | ${target} | ${result} |`);
}
const withCpu = rows.filter((r) => r.cpu);
if (withCpu.length) {
  // Where each side's CPU went (bench/cpu.ts): a ratio's gap, component by component.
  const us = (c: CpuSeconds) => [c.main, c.load, c.postgres].map((v) => (v === undefined ? '—' : v.toFixed(0))).join(' / ');
  const sum = (c: CpuSeconds) => c.main + c.load + (c.postgres ?? 0);
  lines.push(
    '',
    '| workload | variant | product CPU µs per answer: server thread / load worker / PostgreSQL | ceiling, the same | sums, product vs ceiling |',
    '|---|---|---|---|---|',
  );
  for (const r of withCpu) {
    const { product, ceiling: c } = r.cpu!;
    lines.push(`| ${r.workload} | ${r.variant} | ${us(product)} | ${us(c)} | ${sum(product).toFixed(0)} vs ${sum(c).toFixed(0)} = ${(sum(product) / sum(c)).toFixed(2)}× |`);
  }
}
if (growthItems.length) {
  lines.push(
    '',
    '| layout | items per collection | items in those collections | GET v2 PAT req/s | GET p99 ms (min–max) | stream rows/s (cursors, first 100k items at most) | stream ms per page request |',
    '|---|---|---|---|---|---|---|',
  );
  for (const g of growthItems) {
    const streamed = g.streamCollections > 1 ? ` (${g.streamCollections.toLocaleString('en')} collections in turn)` : '';
    lines.push(
      `| ${g.layout} | ${g.perCollection.toLocaleString('en')} | ${g.total.toLocaleString('en')} | ${pm(g.getRate)} | ${g.getP99.median} (${g.getP99.min}–${g.getP99.max}) | ${pm(g.streamRate)}${streamed} | ${pm(g.streamMsPerRequest)} |`,
    );
  }
  lines.push('', ...growthItems.map((g) => `first stream page, ${g.layout}, ${g.perCollection.toLocaleString('en')} per collection: ${g.firstPage}`));
  lines.push('', ...growthItems.map((g) => `200 random-key lookups, ${g.layout}, ${g.perCollection.toLocaleString('en')} per collection: ${g.lookup}`));
}
if (growthMerge.length) {
  lines.push('', '| collections | provision ms | merge ms (10 % differing each way) |', '|---|---|---|');
  for (const g of growthMerge) lines.push(`| ${g.collections.toLocaleString('en')} | ${fmt(g.provisionMs)} | ${fmt(g.mergeMs)} |`);
}
if (growthInfo.seconds !== undefined) {
  lines.push(
    '',
    `growth: ${growthInfo.seconds.toFixed(0)} s (load ${growthInfo.loadSeconds!.toFixed(0)} s, vacuum analyze ${growthInfo.vacuumSeconds!.toFixed(0)} s); ` +
      `app.items ${growthInfo.itemsInTable!.toLocaleString('en')} items, ${(growthInfo.tableBytes! / 2 ** 30).toFixed(1)} GiB; shared_buffers ${growthInfo.sharedBuffers}; ` +
      `load average ${growthInfo.loadAverageBefore!.join(' ')} before, ${growthInfo.loadAverageAfter!.join(' ')} after`,
  );
}
const summary = `${quick ? 'quick' : 'full'} run, ${P.rounds} rounds of ${P.seconds} s, ${seconds.toFixed(0)} s in all; ${machine.cpus} cores (${machine.cpu}), Node ${machine.node}, PostgreSQL ${machine.postgres}, load average at the end ${machine.loadAverage.join(' ')}`;
console.log(`\n${lines.join('\n')}\n\n${summary}`);

await mkdir(path.join(benchDir, 'results'), { recursive: true });
await writeFile(
  path.join(benchDir, 'results', 'latest.json'),
  JSON.stringify(
    {
      finishedAt: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      seconds,
      machine,
      parameters: { ...P, connections: CONNECTIONS, upsertConcurrency: UPSERT_CONCURRENCY, poolMax: config.SANDBAR_DB_POOL_MAX },
      rows,
      rssGrowthMb,
      growth: { ...growthInfo, items: growthItems, merge: growthMerge },
      table: lines.join('\n'),
    },
    null,
    2,
  ) + '\n',
);

if (check) {
  const broken = rows.filter(
    (r) =>
      r.status === 'failed' ||
      (r.status !== 'rung' && r.ratio && r.ratio.median < r.target / 2) ||
      (r.absolute && r.product && r.product.median > r.target * 2) ||
      (r.p99 && r.p99.ratio.median > r.p99.limit * 2),
  );
  if (broken.length) {
    console.error(`--check: ${broken.length} row(s) below half their target or failed: ${broken.map((r) => `${r.workload} / ${r.variant}`).join('; ')}`);
    exitCode = 1;
  } else {
    console.log('--check: every measured row is above half its target');
  }
}
process.exit(exitCode);
