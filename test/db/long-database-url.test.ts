/**
 * SANDBAR_LONG_DATABASE_URL: the long pool reaches the same database by a way of its own
 * (docs/scaling.md: past PgBouncer's transaction pooling), keeping its session settings.
 */
import { randomUUID } from 'node:crypto';
import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { createDb } from '../../src/db/db.ts';
import postgres from 'postgres';
import { adminUrl, createTestDatabase } from '../helpers/db.ts';

test('the long pool connects with SANDBAR_LONG_DATABASE_URL and the hot pool with DATABASE_URL', async (t) => {
  const d = await createTestDatabase();
  // A second login role stands for "another way to the same database".
  const role = `sandbar_long_${randomUUID().slice(0, 8)}`;
  const password = randomUUID();
  await d.sql.unsafe(`create role ${role} login password '${password}'`);
  const longUrl = new URL(d.url);
  longUrl.username = role;
  longUrl.password = password;
  const config = loadConfig({ DATABASE_URL: d.url, SANDBAR_LONG_DATABASE_URL: longUrl.href });
  const db = createDb({ url: d.url, longUrl: config.SANDBAR_LONG_DATABASE_URL, poolMax: 1, longPoolMax: 1, longQueueTimeoutMs: 1000, statementTimeoutMs: 5000 });
  try {
    const [hot] = await db.sql`select current_user as who, current_setting('enable_sort') as sort`;
    const [long] = await db.long`select current_user as who, current_database() as db, current_setting('enable_sort') as sort`;
    t.deepEqual(long, { who: role, db: new URL(d.url).pathname.slice(1), sort: 'off' });
    t.not(hot!.who, role);
    t.is(hot!.sort, 'on');
  } finally {
    await db.end();
    await d.drop();
    // Roles belong to the cluster, not to the test's database.
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => undefined });
    await admin.unsafe(`drop role ${role}`).finally(() => admin.end());
  }
});

test('SANDBAR_LONG_DATABASE_URL without DATABASE_URL is refused in one line', (t) => {
  const error = t.throws(() => loadConfig({ SANDBAR_LONG_DATABASE_URL: 'postgres://long@pgbouncer/sandbar' }), { instanceOf: ConfigError });
  t.is(error.message, 'Invalid configuration: SANDBAR_LONG_DATABASE_URL needs DATABASE_URL (both must reach the same database)');
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://a/b', SANDBAR_LONG_DATABASE_URL: 'http://x' }), {
    message: 'Invalid configuration: SANDBAR_LONG_DATABASE_URL must be a postgres:// URL (got "http://x")',
  });
  t.is(loadConfig({}).SANDBAR_LONG_DATABASE_URL, undefined);
});
