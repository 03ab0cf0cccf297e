/**
 * Every example in the docs runs, so none goes stale.
 *
 * - Each ```sql block of docs/*.md, docs/adr/*.md and README.md runs, in file
 *   order, on a fresh database per file (blocks of one file share it, so a
 *   later block may use rows an earlier one made). A block whose first line is
 *   `-- fails with <SQLSTATE>` must fail with exactly that SQLSTATE.
 * - Each ```sh block of README.md that talks to the API through `$SANDBAR_URL`
 *   runs in bash (`set -euo pipefail`) against a test server, with
 *   SANDBAR_URL and TOKEN (a fresh user's personal access token) exported.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { createTestDatabase } from '../helpers/db.ts';
import { createTestUser } from '../helpers/identity.ts';
import { startTestServer } from '../helpers/server.ts';

interface Block {
  lang: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
}

function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ lang: open[1]!, text: body.join('\n'), line: start + 1 });
  }
  return blocks;
}

const docFiles = [
  ...readdirSync('docs').filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`),
  ...readdirSync('docs/adr').filter((f) => f.endsWith('.md')).sort().map((f) => `docs/adr/${f}`),
  'README.md',
];

for (const file of docFiles) {
  const blocks = codeBlocks(readFileSync(file, 'utf8')).filter((b) => b.lang === 'sql');
  if (blocks.length === 0) continue;
  test(`sql examples of ${file}`, async (t) => {
    const db = await createTestDatabase();
    // One session for the whole file, as at psql: a block may `begin; … commit;`.
    const session = await db.sql.reserve();
    try {
      for (const [index, block] of blocks.entries()) {
        const where = `${file} sql block ${index + 1} (line ${block.line})`;
        const expected = /^-- fails with ([0-9A-Z]{5})\b/.exec(block.text)?.[1];
        let failure: { code?: string; message: string } | undefined;
        try {
          // The simple query protocol: a block may hold several statements, as at psql.
          await session.unsafe(block.text).simple();
        } catch (error) {
          failure = error as { code?: string; message: string };
          // A failure inside an explicit transaction leaves it aborted; psql users would roll back too.
          await session.unsafe('rollback').simple().catch(() => undefined);
        }
        if (expected) {
          t.is(failure?.code, expected, `${where} should fail with ${expected}, got ${failure ? `${failure.code}: ${failure.message}` : 'no error'}`);
        } else if (failure) {
          t.fail(`${where} failed: ${failure.code ?? ''} ${failure.message}`);
        }
      }
      t.pass();
    } finally {
      session.release();
      await db.drop();
    }
  });
}

const readmeShell = codeBlocks(readFileSync('README.md', 'utf8')).filter((b) => b.lang === 'sh' && b.text.includes('$SANDBAR_URL'));

test('README curl examples run against a server', async (t) => {
  t.true(readmeShell.length > 0, 'README.md has no sh block using $SANDBAR_URL');
  const s = await startTestServer();
  try {
    const user = await createTestUser(s);
    for (const [index, block] of readmeShell.entries()) {
      const where = `README.md sh block ${index + 1} (line ${block.line})`;
      const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('bash', ['-c', `set -euo pipefail\n${block.text}`], {
          // The CLI (e.g. `sandbar user create`) must reach the server's database and signing key.
          env: {
            ...process.env,
            SANDBAR_URL: s.url,
            TOKEN: user.token,
            DATABASE_URL: s.databaseUrl,
            SANDBAR_DATA_DIR: process.env.SANDBAR_TEST_DATA_DIR ?? '.data-test',
            LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) => resolve({ code, out }));
      });
      t.is(result.code, 0, `${where} failed:\n${result.out}`);
    }
  } finally {
    await s.stop();
  }
});
