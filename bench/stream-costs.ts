/**
 * Where the time of streaming items goes, without HTTP: reads the same rows
 * several ways from one process and prints rows/s for each.
 *
 *   node --import tsx bench/stream-costs.ts        (ITEMS=100000 ROUNDS=3)
 *
 * Uses DATABASE_URL's server or an embedded cluster in a temporary directory.
 * Tagged-template and unsafe SQL are fine here: this is a measurement, not product code.
 */
import postgres from 'postgres';
import { createLogger } from '../src/log.ts';
import { openBenchDatabase } from './database.ts';

const ITEMS = Number(process.env.ITEMS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DATABASE = 'sandbar_bench_stream';

const database = await openBenchDatabase(DATABASE, createLogger('warn'), { synchronous_commit: 'off' });
const sql = postgres(database.url, { max: 1, prepare: true, onnotice: () => undefined });

try {
  const [{ id: userId }] = await sql<[{ id: string }]>`insert into app.users (email) values ('stream@example.test') returning id`;
  const [{ id: projectId }] = await sql<[{ id: string }]>`select id from app.create_project('stream', ${userId})`;
  const [{ id: cid }] = await sql<[{ id: string }]>`insert into app.collections (project_id, name) values (${projectId}, 'c') returning id`;
  const filler = 'x'.repeat(180);
  await sql`insert into app.items (collection_id, project_id, key, value)
            select ${cid}, ${projectId}, 'k-' || lpad(i::text, 7, '0'), '{"n":' || i || ',"payload":"' || ${filler} || '"}'
            from generate_series(1, ${ITEMS}::int) i`;
  await sql`vacuum analyze app.items`;

  // The JSON text the product sends, stored with each item since ADR 15; `built` builds it at read time as before.
  const json = 'i.item_json';
  const built = `app.item_json(i.key, i.value, i.created_at, i.updated_at)`;
  // A connection per COPY: a second COPY TO STDOUT on the same postgres.js connection never starts (3.4.9).
  const copy = async (select: string) => {
    const conn = postgres(database.url, { max: 1, onnotice: () => undefined });
    try {
      const stream = await conn.unsafe(`copy (${select}) to stdout`).readable();
      let n = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
      return n;
    } finally {
      await conn.end({ timeout: 1 });
    }
  };
  const cursor = async (select: string, fetch: number, each: (row: any) => string) => {
    let n = 0;
    let chars = 0;
    for await (const rows of sql.unsafe(select, [cid], { prepare: true }).cursor(fetch)) {
      // Build each batch's text as the product's stream does, and use it so it is not optimized away.
      let out = '';
      for (const row of rows) out += each(row);
      chars += out.length;
      n += rows.length;
    }
    return chars > 0 ? n : 0;
  };
  const where = (p: string) => `from app.items i where i.collection_id = ${p} order by i.id`;
  const ways: Array<[string, () => Promise<number>]> = [
    ['COPY key, value, created_at, updated_at (the ceiling)', () => copy(`select key, value, created_at, updated_at ${where(`'${cid}'`)}`)],
    ['COPY of the JSON text the product sends (stored, ADR 15)', () => copy(`select ${json} ${where(`'${cid}'`)}`)],
    ['COPY of the same JSON built at read time (app.item_json, as before ADR 15)', () => copy(`select ${built} ${where(`'${cid}'`)}`)],
    ['COPY of JSON text without the two timestamps (what they cost)', () =>
      copy(`select json_build_object('key', i.key, 'value', i.value)::text ${where(`'${cid}'`)}`)],
    ['COPY of key, value only (what the timestamps cost the ceiling)', () => copy(`select key, value ${where(`'${cid}'`)}`)],
    ['cursor(100) of id + JSON text (the product before ADR 13)', () => cursor(`select i.id, ${json} as item ${where('$1')}`, 100, (r) => `,${r.item}`)],
    ['cursor(1000) of id + JSON text', () => cursor(`select i.id, ${json} as item ${where('$1')}`, 1000, (r) => `,${r.item}`)],
    ['cursor(1000) of id + JSON text by concatenating to_json() of each column', () =>
      cursor(
        `select i.id, '{"key":' || to_json(i.key) || ',"value":' || to_json(i.value) || ',"created":' || to_json(i.created_at) || ',"updated":' || to_json(i.updated_at) || '}' as item ${where('$1')}`,
        1000,
        (r) => `,${r.item}`,
      )],
    ['cursor(1000) of raw columns + JSON.stringify in Node', () =>
      cursor(`select i.id, i.key, i.value, i.created_at, i.updated_at ${where('$1')}`, 1000, (r) =>
        `,${JSON.stringify({ key: r.key, value: r.value, created: r.created_at, updated: r.updated_at })}`,
      )],
  ];
  const rates = new Map<string, number[]>(ways.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, read] of round % 2 ? [...ways].reverse() : ways) {
      const t0 = performance.now();
      const n = await read();
      if (n !== ITEMS) throw new Error(`${name}: ${n} rows, expected ${ITEMS}`);
      rates.get(name)!.push(n / ((performance.now() - t0) / 1000));
    }
  }
  const ceiling = median(rates.get(ways[0]![0])!);
  console.log(`| way of reading ${ITEMS.toLocaleString('en')} items | rows/s (median of ${ROUNDS}) | vs the COPY ceiling |\n|---|---|---|`);
  for (const [name] of ways) {
    const m = median(rates.get(name)!);
    console.log(`| ${name} | ${Math.round(m).toLocaleString('en')} | ${(m / ceiling).toFixed(2)} |`);
  }
} finally {
  await sql.end({ timeout: 1 });
  await database.stop();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
