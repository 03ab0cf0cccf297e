/**
 * The reference docs list everything they claim to list: every app.* function
 * (docs/sql-functions.md), every error code and SQLSTATE (docs/errors.md) and
 * every metric (docs/operations.md). A new function, error or metric without
 * its entry fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { sqlstateMap } from '../../src/http/errors.ts';

const read = (file: string) => readFileSync(file, 'utf8');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => path.join(e.parentPath, e.name));
}

const migrations = ['migrations/committed', 'migrations/current'].flatMap((d) => filesUnder(d, '.sql')).map(read).join('\n');

test('docs/sql-functions.md has a section for every app.* function', (t) => {
  const functions = new Set([...migrations.matchAll(/create (?:or replace )?function app\.([a-z_]+)\s*\(/g)].map((m) => m[1]!));
  const doc = read('docs/sql-functions.md');
  const missing = [...functions].filter((f) => !doc.includes(`### \`app.${f}(`)).sort();
  t.true(functions.size >= 20);
  t.deepEqual(missing, []);
});

test('docs/errors.md lists every SQLSTATE a function raises, with its error code', (t) => {
  const raised = new Set(
    [...migrations.matchAll(/errcode = '(SB\d{3})',\s*message = '([a-z_]+)'/g)].map((m) => `| ${m[1]} | \`${m[2]}\` | ${m[1]!.slice(2)} |`),
  );
  const doc = read('docs/errors.md');
  t.true(raised.size >= 15);
  t.deepEqual([...raised].filter((row) => !doc.includes(row)).sort(), []);
});

test('docs/errors.md lists every SQLSTATE of the error map and every error code the HTTP layer answers', (t) => {
  const doc = read('docs/errors.md');
  const states = Object.keys(sqlstateMap);
  t.deepEqual(states.filter((s) => !doc.includes(s)), []);
  const codes = new Set<string>(['internal', ...Object.values(sqlstateMap).map((m) => m.error)]);
  for (const file of filesUnder('src', '.ts')) {
    for (const m of read(file).matchAll(/new HttpError\(\s*\d{3},\s*'([a-z_]+)'/g)) codes.add(m[1]!);
  }
  t.true(codes.size >= 10);
  t.deepEqual([...codes].filter((c) => !doc.includes(`\`${c}\``)).sort(), []);
});

test("docs/errors.md's standard SQLSTATE table says what the error map answers for each", (t) => {
  const doc = read('docs/errors.md');
  const section = doc.slice(doc.indexOf('## 3. Standard SQLSTATEs')).split('\n## ')[0]!;
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| SQLSTATE'));
  const documented = new Map<string, string>();
  for (const row of rows) {
    const cells = row.split(' | ');
    // | codes | name | HTTP | `error` | typical cause |: anything else is a row an edit has broken.
    t.is(cells.length, 5, row);
    for (const code of cells[0]!.slice(2).split(', ')) documented.set(code, `${cells[2]} ${cells[3]}`);
  }
  const expected = Object.entries(sqlstateMap).map(([code, m]) => [code, `${m.status} \`${m.error}\``]);
  t.deepEqual(
    expected.map(([code]) => [code, documented.get(code!)]),
    expected,
  );
});

test('docs/operations.md lists every metric', (t) => {
  const names = [...read('src/http/metrics.ts').matchAll(/name: '(sandbar_[a-z_]+)'/g)].map((m) => m[1]!);
  t.true(names.length >= 4);
  const doc = read('docs/operations.md');
  t.deepEqual(names.filter((n) => !doc.includes(`\`${n}\``)), []);
});
