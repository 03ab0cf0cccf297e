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
import test from 'ava';

type Queue<T> = { readonly length: number; push(x: T): T; shift(): T | undefined; remove(x: T): T | null };
// Not exported by the package (its exports map has "." only): load the file the service runs.
const { default: createQueue } = (await import(new URL('../../node_modules/postgres/src/queue.js', import.meta.url).href)) as {
  default: <T>(initial?: T[]) => Queue<T>;
};

test('the installed postgres.js carries the queue patch', async (t) => {
  const { readFile } = await import('node:fs/promises');
  for (const file of ['src/queue.js', 'cjs/src/queue.js']) {
    const source = await readFile(new URL(`../../node_modules/postgres/${file}`, import.meta.url), 'utf8');
    t.true(source.includes('xs.indexOf(x, index)'), file);
    t.true(source.includes('xs = xs.slice(index)'), file);
  }
});

test('the installed postgres.js carries the closed-connection patch (ADR 8 amendment)', async (t) => {
  const { readFile } = await import('node:fs/promises');
  for (const dir of ['src', 'cjs/src']) {
    const read = (file: string) => readFile(new URL(`../../node_modules/postgres/${dir}/${file}`, import.meta.url), 'utf8');
    t.true((await read('index.js')).includes('c.queue === closed || onopen(c)'), `${dir}/index.js`);
    const connection = await read('connection.js');
    t.true(connection.includes('query = results = errorResponse = null'), `${dir}/connection.js`);
    t.true(connection.includes(";(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED'"), `${dir}/connection.js`);
  }
});

test('a raw query may ask for its result columns in binary format (binaryResults), and the same statement after it is text again', async (t) => {
  const { createTestDatabase } = await import('../helpers/db.ts');
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
  for (const options of [{ prepare: true }, { prepare: true, binaryResults: false }]) {
    const [row] = await reserved.unsafe(text, args, options).raw();
    t.deepEqual((row as unknown as Buffer[]).map((b) => b.toString('utf8')), ['7', '9007199254740993', 't', 'é,"\\']);
  }
  const { readFile } = await import('node:fs/promises');
  for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
    const source = await readFile(new URL(`../../node_modules/postgres/${file}`, import.meta.url), 'utf8');
    t.true(source.includes('binaryResults ? b.i16(1).i16(1) : b.i16(0)'), file);
  }
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
