import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One HTTP request a race client sends. */
export interface RaceRequest {
  method: string;
  path: string;
  token?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

export interface RaceResult {
  process: number;
  client: number;
  index: number;
  status: number;
  body: unknown;
  /** Set when the request failed at the network level (reset, refused). */
  networkError?: string;
}

export interface RaceOptions {
  baseUrl: string;
  /** OS processes to spread the clients over (default 2). */
  processes?: number;
  /** Concurrent clients per process (default 32). */
  clientsPerProcess?: number;
  /** The requests client `client` of process `proc` sends, in order. */
  requestsFor(proc: number, client: number): RaceRequest[];
}

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'race-worker.ts');

/**
 * Races many clients spread over several OS processes against a server. Every
 * process connects and prepares first, then all are released together (a
 * barrier over stdin), so the requests really overlap.
 */
export async function race(options: RaceOptions): Promise<RaceResult[]> {
  const processes = options.processes ?? 2;
  const clients = options.clientsPerProcess ?? 32;
  const children = Array.from({ length: processes }, (_, proc) => {
    const spec = {
      baseUrl: options.baseUrl,
      proc,
      clients: Array.from({ length: clients }, (_, c) => options.requestsFor(proc, c)),
    };
    const child = spawn(process.execPath, ['--import=tsx', worker], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const onData = () => {
        if (out.includes('READY\n')) {
          child.stdout.off('data', onData);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.on('exit', (code) => reject(new Error(`race worker exited early with ${code}`)));
    });
    const done = new Promise<RaceResult[]>((resolve, reject) => {
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`race worker exited with ${code}`));
        const line = out.split('\n').find((l) => l.startsWith('RESULTS '));
        if (!line) return reject(new Error('race worker printed no results'));
        resolve(JSON.parse(line.slice('RESULTS '.length)) as RaceResult[]);
      });
    });
    child.stdin.write(`${JSON.stringify(spec)}\n`);
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.child.stdin.end('GO\n');
  return (await Promise.all(children.map((c) => c.done))).flat();
}
