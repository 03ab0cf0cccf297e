// A race client process: reads a spec line, warms up, prints READY, waits for GO, then fires.
import { createInterface } from 'node:readline';
import type { RaceRequest, RaceResult } from './race.ts';

const lines = createInterface({ input: process.stdin });
const it = lines[Symbol.asyncIterator]();
const spec = JSON.parse((await it.next()).value as string) as { baseUrl: string; proc: number; clients: RaceRequest[][] };

// Warm the connection pool so the first requests are not slowed by TCP setup.
await fetch(`${spec.baseUrl}/healthz`).then((r) => r.text());
process.stdout.write('READY\n');
await it.next();

async function send(r: RaceRequest): Promise<Pick<RaceResult, 'status' | 'body' | 'networkError'>> {
  const headers: Record<string, string> = { ...r.headers };
  if (r.token) headers.authorization = `Bearer ${r.token}`;
  if (r.json !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${spec.baseUrl}${r.path}`, {
      method: r.method,
      headers,
      ...(r.json !== undefined ? { body: JSON.stringify(r.json) } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body };
  } catch (error) {
    return { status: 0, body: null, networkError: String(error) };
  }
}

const results: RaceResult[] = [];
await Promise.all(
  spec.clients.map(async (requests, client) => {
    for (const [index, r] of requests.entries()) {
      results.push({ process: spec.proc, client, index, ...(await send(r)) });
    }
  }),
);
process.stdout.write(`RESULTS ${JSON.stringify(results)}\n`);
lines.close();
