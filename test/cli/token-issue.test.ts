/**
 * `sandbar token issue` refuses contradictory flags before it touches a database, as the API
 * refuses expires_in_days with never_expires.
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';

test('token issue with both --days and --never-expires exits 2 with the reason and issues nothing', (t) => {
  for (const args of [['--days', '5', '--never-expires'], ['--never-expires', '--days=5']]) {
    const run = spawnSync(process.execPath, ['bin/sandbar.js', 'token', 'issue', 'bob@example.com', ...args], {
      encoding: 'utf8',
      // Nothing may be reached: a database it tried would fail differently (exit 1).
      env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    });
    t.is(run.status, 2, args.join(' '));
    t.is(run.stdout, '', args.join(' '));
    t.is(
      run.stderr,
      'sandbar token issue: give --days N or --never-expires, not both.\nUsage: sandbar token issue <email> [--days N | --never-expires]\n',
      args.join(' '),
    );
  }
});
