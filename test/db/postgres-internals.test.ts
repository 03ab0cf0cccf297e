/**
 * What sandbar relies on inside postgres.js beyond its typed API.
 *
 * patches/postgres+3.4.9.patch changes postgres.js's internal Queue (the pool's
 * lists of open/busy/full connections and of waiting queries): remove() searched
 * every slot the queue had ever used, and a queue that never empties (the busy
 * list under steady load) never gave slots back, so each query cost more than
 * the last until the load paused (Queue.remove was 14 % of the server's CPU in
 * a 10 s GET benchmark). The patch must keep the queue's behaviour exactly.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import test from 'ava';
import postgres from 'postgres';
import { createTestDatabase } from '../helpers/db.ts';

type Queue<T> = { readonly length: number; push(x: T): T; shift(): T | undefined; remove(x: T): T | null };
// Not exported by the package (its exports map has "." only): load the file the service runs.
const { default: createQueue } = (await import(new URL('../../node_modules/postgres/src/queue.js', import.meta.url).href)) as {
  default: <T>(initial?: T[]) => Queue<T>;
};

/** Asserts that both installed copies of a postgres.js file (ESM and CommonJS) contain each of `marks`. */
async function assertPatched(t: import('ava').ExecutionContext, file: string, marks: string[]): Promise<void> {
  for (const dir of ['src', 'cjs/src']) {
    const source = await readFile(new URL(`../../node_modules/postgres/${dir}/${file}`, import.meta.url), 'utf8');
    for (const mark of marks) t.true(source.includes(mark), `${dir}/${file}: ${mark}`);
  }
}

test('the installed postgres.js carries the queue patch', async (t) => {
  await assertPatched(t, 'queue.js', ['xs.indexOf(x, index)', 'xs = xs.slice(index)']);
});

test('the installed postgres.js carries the closed-connection patch (ADR 8 amendment)', async (t) => {
  await assertPatched(t, 'index.js', ['c.queue === closed || onopen(c)']);
  await assertPatched(t, 'connection.js', ['query = results = errorResponse = null', ";(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED'"]);
});

test('a raw query may ask for its result columns in binary format (binaryResults), and the same statement after it is text again', async (t) => {
  const d = await createTestDatabase();
  t.teardown(() => d.drop());
  const text = 'select $1::int4 as n, $2::int8 as id, $3::bool as more, $4::text as body';
  const args = [7, '9007199254740993', true, 'é,"\\'];
  // One connection, so the second and third run the first's prepared statement with other result formats.
  const reserved = await d.sql.reserve();
  t.teardown(() => reserved.release());
  const [binary] = await reserved.unsafe(text, args, { prepare: true, binaryResults: true }).raw();
  const [n, id, more, body] = binary as unknown as Buffer[];
  t.is(n!.readInt32BE(0), 7);
  t.is(id!.readBigInt64BE(0), 9007199254740993n);
  t.deepEqual([...more!], [1]);
  t.is(body!.toString('utf8'), 'é,"\\');
  // Parsed queries read text: they ignore the option and get their values as usual.
  const [parsed] = await reserved.unsafe(text, args, { prepare: true, binaryResults: true });
  t.deepEqual({ ...parsed }, { n: 7, id: '9007199254740993', more: true, body: 'é,"\\' });
  for (const options of [{ prepare: true }, { prepare: true, binaryResults: false }]) {
    const [row] = await reserved.unsafe(text, args, options).raw();
    t.deepEqual((row as unknown as Buffer[]).map((b) => b.toString('utf8')), ['7', '9007199254740993', 't', 'é,"\\']);
  }
  await assertPatched(t, 'connection.js', ['binaryResults ? b.i16(1).i16(1) : b.i16(0)']);
});

type MessageReader = { read(view: Buffer): void; reset(): void };
type ReaderFactory = (deliver: (messages: Buffer) => void) => MessageReader;

/** Protocol messages: a type byte, a length that counts itself, a body of that many bytes less four. */
function protocolMessages(bodySizes: number[]): Buffer[] {
  return bodySizes.map((size, i) => {
    const m = Buffer.alloc(5 + size);
    m[0] = 0x44; // 'D'
    m.writeUInt32BE(size + 4, 1);
    for (let j = 5; j < m.length; j++) m[j] = (i * 31 + j) % 251;
    return m;
  });
}

/** Splits what a reader delivered back into messages, failing if a delivery ends inside one. */
function splitMessages(deliveries: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const d of deliveries) {
    let at = 0;
    while (at < d.length) {
      const end = at + d.readUInt32BE(at + 1) + 1;
      if (end > d.length) throw new Error('a delivery ended inside a message');
      out.push(Buffer.from(d.subarray(at, end)));
      at = end;
    }
  }
  return out;
}

// Serial: it keeps the event loop busy for seconds, which the tests that talk to a server must not share.
test.serial('messageReader (the read-buffer patch) delivers exactly the messages, however reads cut them and whatever overwrites the buffer after', async (t) => {
  const esm = (await import(new URL('../../node_modules/postgres/src/connection.js', import.meta.url).href)) as { messageReader: ReaderFactory };
  const cjs = createRequire(import.meta.url)('../../node_modules/postgres/cjs/src/connection.js') as { messageReader: ReaderFactory };
  const sizes = [0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 250, 1, 4096, 0, 70_000, 3, 300_000, 2, 0, 9];
  // 9,000,000: more than the 4 MiB gathered at first, so its buffer grows as its bytes come, not
  // sized from its header. Read only in the larger pieces: byte by byte it took ~20 s.
  const big = [...sizes, 3_000_000, 9_000_000];
  const streams = [sizes, big].map((s) => {
    const messages = protocolMessages([...s, ...s.slice().reverse()]);
    return { messages, stream: Buffer.concat(messages) };
  });
  // Read sizes: every size from 1 to 13 bytes, pieces of a message and a half, and seeded random ones.
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 20_000) + 1;
  const chunkings: Array<() => number> = [...Array.from({ length: 13 }, (_, k) => () => k + 1), () => 104_000, () => 262_144, random];
  const { messages } = streams[0]!;
  for (const [flavour, messageReader] of [['esm', esm.messageReader], ['cjs', cjs.messageReader]] as const) {
    for (const [c, nextSize] of chunkings.entries()) {
      const { messages, stream } = streams[c < 13 ? 0 : 1]!;
      const deliveries: Buffer[] = [];
      const reader = messageReader((d) => deliveries.push(d));
      // One buffer for every read, as onread uses it: scribbled over once the reader returns.
      const readBuffer = Buffer.alloc(256 * 1024);
      for (let at = 0; at < stream.length; ) {
        const size = Math.min(nextSize(), stream.length - at, readBuffer.length);
        stream.copy(readBuffer, 0, at, at + size);
        reader.read(readBuffer.subarray(0, size));
        readBuffer.fill(0xee, 0, size);
        at += size;
      }
      const got = splitMessages(deliveries);
      if (got.length !== messages.length || got.some((m, i) => !m.equals(messages[i]!))) {
        t.fail(`${flavour}, chunking ${c}: ${got.length} messages back of ${messages.length}`);
      }
    }
    // reset() drops a half-read message, as when its connection closes; the next one starts clean.
    const deliveries: Buffer[] = [];
    const reader = messageReader((d) => deliveries.push(d));
    reader.read(Buffer.from(messages[14]!.subarray(0, 1000)));
    reader.reset();
    reader.read(Buffer.from(messages[5]!));
    t.deepEqual(splitMessages(deliveries), [messages[5]!], flavour);
    // A length below 4 is no PostgreSQL message: refused (the connection destroys its socket), not misread.
    t.throws(() => messageReader(() => undefined).read(Buffer.from([0x44, 0, 0, 0, 3, 0, 0])), { message: /Invalid message length 3/ });
  }
});

test('a plain connection reads into its one 256 KiB buffer, and a connection that dies mid-message starts clean on the next', async (t) => {
  const msg = (type: string, body: Buffer) => {
    const b = Buffer.alloc(5 + body.length);
    b[0] = type.charCodeAt(0);
    b.writeUInt32BE(body.length + 4, 1);
    body.copy(b, 5);
    return b;
  };
  const ready = msg('Z', Buffer.from('I'));
  const rowDescription = () => {
    const body = Buffer.concat([Buffer.from([0, 1]), Buffer.from('v\0'), Buffer.alloc(18)]);
    body.writeUInt32BE(25, 2 + 2 + 6); // text
    return msg('T', body);
  };
  const dataRow = (v: string) => {
    const body = Buffer.alloc(6 + v.length);
    body.writeUInt16BE(1, 0);
    body.writeInt32BE(v.length, 2);
    body.write(v, 6);
    return msg('D', body);
  };
  // A fake server: its first session dies 3 bytes into a row; its second sends a 600 kB row in three writes.
  let sessions = 0;
  const sockets: import('node:net').Socket[] = [];
  const server = net.createServer((c) => {
    const session = ++sessions;
    let buf = Buffer.alloc(0);
    let started = false;
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!started) {
        if (buf.length < 4 || buf.length < buf.readUInt32BE(0)) return;
        buf = buf.subarray(buf.readUInt32BE(0));
        started = true;
        c.write(Buffer.concat([msg('R', Buffer.alloc(4)), ready]));
      }
      while (buf.length >= 5 && buf.length >= buf.readUInt32BE(1) + 1) {
        const type = String.fromCharCode(buf[0]!);
        buf = buf.subarray(buf.readUInt32BE(1) + 1);
        if (type !== 'Q') continue;
        if (session === 1) {
          c.write(Buffer.concat([rowDescription(), dataRow('x'.repeat(10)).subarray(0, 3)]), () => setImmediate(() => c.destroy()));
        } else {
          const big = dataRow('y'.repeat(600_000));
          c.write(Buffer.concat([rowDescription(), big.subarray(0, 2)]));
          setImmediate(() => {
            c.write(big.subarray(2, 300_001));
            setImmediate(() => c.write(Buffer.concat([big.subarray(300_001), msg('C', Buffer.from('SELECT 1\0')), ready])));
          });
        }
      }
    });
  });
  server.on('connection', (c) => sockets.push(c));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const sql = postgres({ host: '127.0.0.1', port, max: 1, fetch_types: false, connect_timeout: 5 });
  t.teardown(() => sql.end({ timeout: 1 }));
  const first = await sql.unsafe('select 1').simple().then(() => 'resolved', (e: { code?: string }) => e.code);
  t.is(first, 'CONNECTION_CLOSED');
  const [row] = await sql.unsafe('select 2').simple();
  t.is((row!.v as string).length, 600_000);
  t.true(/^y+$/.test(row!.v as string));
  t.is(sessions, 2);
  // The client side of the live session was made with onread's buffer (net.Socket keeps it under kBuffer).
  const reserved = await sql.reserve();
  t.teardown(() => reserved.release());
  const clientSockets = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter(
    (h): h is import('node:net').Socket => h instanceof net.Socket && (h as import('node:net').Socket).remotePort === port,
  );
  t.true(clientSockets.length >= 1);
  for (const socket of clientSockets) {
    const key = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'kBuffer')!;
    t.is(((socket as unknown as Record<symbol, Buffer | null>)[key] ?? Buffer.alloc(0)).length, 256 * 1024);
  }
});

test('rows read through the reused read buffer arrive whole and exact, whatever sizes straddle its reads', async (t) => {
  const d = await createTestDatabase();
  t.teardown(() => d.drop());
  // Sizes round the 256 KiB read buffer and the 5-byte message header, several MB, and empty.
  const edge = 256 * 1024;
  const sizes = [0, 1, 2, 3, 4, 5, 6, edge - 20, edge - 15, edge - 11, edge - 10, edge - 9, edge - 5, edge, edge + 1, 2 * edge - 12, 2 * edge + 7, 3_000_001];
  const rows = await d.sql.unsafe(
    `select s.n, md5(v) as md5, v
       from unnest($1::int[]) with ordinality as s (size, n),
            lateral (select repeat(chr(65 + (s.n::int % 26)) || 'é', s.size / 3) || repeat('z', s.size % 3) as v) x
      order by s.n`,
    [sizes],
  );
  t.is(rows.length, sizes.length);
  for (const row of rows) t.is(createHash('md5').update(row.v as string).digest('hex'), row.md5 as string, `row ${row.n}`);
  // Many small messages in each read, then a 700 kB raw row: raw values are views of what the reader delivered.
  const raw = (await d.sql.unsafe(`select g, repeat('x', g % 7) from generate_series(1, 20000) g union all select 0, repeat('y', 700000)`).raw()) as unknown as Buffer[][];
  t.is(raw.length, 20001);
  t.true(raw.every(([g, x], i) => (i < 20000 ? g!.toString() === String(i + 1) && x!.length === (i + 1) % 7 : x!.length === 700000)));
});

test('a queue that never empties stays first-in first-out across compactions, and remove still finds its items', (t) => {
  const q = createQueue<{ n: number }>();
  const items = Array.from({ length: 10 }, (_, n) => q.push({ n }));
  let next = 10;
  const expected = [...items];
  // Far past the compaction threshold (1024 consumed slots), never letting the queue run dry.
  for (let i = 0; i < 50_000; i++) {
    t.is(q.shift(), expected.shift());
    expected.push(q.push({ n: next++ }));
    if (i % 997 === 0) {
      // Remove one from the middle, as the pool does when a connection changes state.
      const victim = expected.splice(3, 1)[0]!;
      t.is(q.remove(victim), victim);
      t.is(q.remove(victim), null);
      expected.push(q.push({ n: next++ }));
    }
    if (q.length !== expected.length) return t.fail(`length ${q.length} ≠ ${expected.length}`);
  }
  // Items already shifted out are not in the queue any more.
  t.is(q.remove(items[0]!), null);
  while (q.length > 0) t.is(q.shift(), expected.shift());
  t.deepEqual(expected, []);
  t.is(q.shift(), undefined);
});

test('a queue that empties starts over and stays usable', (t) => {
  const q = createQueue<string>(['a', 'b']);
  t.is(q.shift(), 'a');
  t.is(q.remove('b'), 'b');
  t.is(q.length, 0);
  q.push('c');
  t.is(q.shift(), 'c');
  t.is(q.length, 0);
});
