import test from 'ava';
import fc from 'fast-check';
import { effectiveHandle } from '../../src/fleet/effective-handle.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let d: TestDatabase;
test.before(async () => {
  d = await createTestDatabase();
});
test.after.always(() => d?.drop());

type Input = [name: string | null, releaseCommand: string | null];

/** app.effective_handle on every pair, in one round trip (JSON carries nulls and any text exactly). */
async function inDatabase(inputs: Input[]): Promise<Array<string | null>> {
  const rows = await d.sql`
    select app.effective_handle(e->>0, e->>1) as handle
    from json_array_elements(${d.sql.json(inputs)}::json) with ordinality as u(e, i)
    order by i`;
  return rows.map((r) => r.handle as string | null);
}

// Characters where PostgreSQL and JavaScript could disagree: slashes (the whole
// point), newlines and other line terminators (`.`, `^`, `$`), whitespace, and
// code points outside the BMP (UTF-16 surrogate pairs vs UTF-8 code points).
// NUL is left out: PostgreSQL text cannot hold it.
const tricky = fc.constantFrom('/', '/', '/', '//', '.', '..', ' ', '\t', '\n', '\r', '\r\n', '\u2028', '\u0085', '\u00a0', 'é', 'e\u0301', '😀', 'ß', '$', '^', '*', '\\', '"', "'", '{', '}', ',');
const anyChar = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c !== '\0');
const text = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 6, arbitrary: fc.string({ unit: fc.oneof(tricky, fc.constantFrom('a', 'b', 'foo', 'bin'), anyChar), maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: anyChar, maxLength: 20 }) },
);
const input: fc.Arbitrary<Input> = fc.tuple(fc.option(text, { nil: null, freq: 4 }), fc.option(text, { nil: null, freq: 6 }));

const BATCH = 500;
const RUNS = 12; // 6,000 generated inputs

test('effectiveHandle agrees with app.effective_handle on generated inputs', async (t) => {
  let compared = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(input, { minLength: BATCH, maxLength: BATCH }), async (inputs) => {
      const expected = await inDatabase(inputs);
      compared += inputs.length;
      const actual = inputs.map(([n, c]) => effectiveHandle(n, c));
      for (let i = 0; i < inputs.length; i++) {
        if (actual[i] !== expected[i]) {
          throw new Error(`${JSON.stringify(inputs[i])}: TypeScript ${JSON.stringify(actual[i])}, SQL ${JSON.stringify(expected[i])}`);
        }
      }
    }),
    { numRuns: RUNS },
  );
  t.true(compared >= 5000, `compared ${compared}`);
});

test('effectiveHandle agrees with app.effective_handle on hand-picked edge cases', async (t) => {
  const cases: Input[] = [
    ['foo', '/opt/foo/bin/bar'],
    [null, '/opt/foo/bin/foo'],
    [null, '/a/b/foo'],
    [null, '/a/b/foo/'],
    [null, '/a/b/foo///'],
    ['', '/a/b/foo'],
    ['', ''],
    [null, null],
    ['', null],
    [null, '/'],
    [null, '///'],
    [null, 'foo'],
    [null, ' '],
    [' ', '/x/y'],
    [null, 'a/b\nc'],
    [null, 'a\n/b'],
    [null, '/a/\n'],
    [null, 'x\n/'],
    [null, 'a/\n/'],
    [null, '/dir/😀'],
    [null, '/dir/e\u0301/'],
    [null, 'a\u2028/b'],
  ];
  const expected = await inDatabase(cases);
  t.deepEqual(cases.map(([n, c]) => effectiveHandle(n, c)), expected);
  // And the ones a reader would check by hand, so a bug shared by both sides shows too.
  t.deepEqual(expected.slice(0, 11), ['foo', 'foo', 'foo', 'foo', 'foo', 'foo', null, null, null, null, null]);
  t.is(effectiveHandle(null, 'a/b\nc'), 'b\nc');
  t.is(effectiveHandle(null, '/a/\n'), '\n');
});
