import { parseArgs } from 'node:util';
import type { Command } from '../cli.ts';
import type { Config } from '../config/config.ts';
import { createDb } from '../db/db.ts';
import { createLogger } from '../log.ts';
import { openDatabase } from '../service.ts';
import { createUser, findUserByEmail } from '../../sql/identity.queries.ts';
import { Auth } from './auth.ts';
import { loadSigningKey } from './keys.ts';

/** Runs `fn` with the database (migrated, embedded cluster borrowed if a server runs) and the token service. */
async function withAuth<T>(config: Config, fn: (auth: Auth, db: ReturnType<typeof createDb>) => Promise<T>): Promise<T> {
  const log = createLogger('warn');
  const database = await openDatabase(config, log, { migrate: true, whenRunning: 'borrow' });
  const db = createDb({ url: database.url, poolMax: 1, longPoolMax: 1, longQueueTimeoutMs: 60_000, statementTimeoutMs: 30_000, applicationName: 'sandbar-cli' });
  const auth = new Auth(await loadSigningKey(config), config, db, log);
  try {
    return await fn(auth, db);
  } finally {
    await auth.close();
    await db.end(5);
    await database.server.stop();
  }
}

export const identityCommands: Record<string, Command> = {
  'user create': {
    usage: 'sandbar user create <email> [--superuser]',
    summary: 'Create a user and print {"id","email","token"} with a new personal access token.',
    async run(args, config) {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { superuser: { type: 'boolean', default: false } } });
      const email = positionals[0];
      if (!email || positionals.length > 1) {
        console.error('Usage: sandbar user create <email> [--superuser]');
        return 2;
      }
      return withAuth(config, async (auth, db) => {
        const [user] = await createUser.run({ email, isSuperuser: values.superuser }, db.conn).catch((error: { code?: string }) => {
          if (error.code === '23505') throw new Error(`a user with email ${email} already exists (use \`sandbar token issue ${email}\`)`);
          if (error.code === '23514') throw new Error(`"${email}" is not an email address`);
          throw error;
        });
        const issued = await auth.issuePersonalToken(user!.id, 'cli', 90);
        console.log(JSON.stringify({ id: user!.id, email: user!.email, token: issued.token }));
        return 0;
      });
    },
  },
  'token issue': {
    usage: 'sandbar token issue <email> [--days N | --never-expires]',
    summary: 'Issue a new personal access token for an existing user and print it as JSON.',
    async run(args, config) {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { days: { type: 'string' }, 'never-expires': { type: 'boolean', default: false } },
      });
      const email = positionals[0];
      // The API refuses expires_in_days with never_expires (422); quietly letting one win here would issue
      // a token that outlives what the operator typed.
      if (values.days !== undefined && values['never-expires']) {
        console.error('sandbar token issue: give --days N or --never-expires, not both.');
        console.error('Usage: sandbar token issue <email> [--days N | --never-expires]');
        return 2;
      }
      const days = values.days === undefined ? 90 : Number(values.days);
      if (!email || positionals.length > 1 || !Number.isInteger(days) || days < 1 || days > 3650) {
        console.error('Usage: sandbar token issue <email> [--days N | --never-expires]');
        return 2;
      }
      return withAuth(config, async (auth, db) => {
        const [user] = await findUserByEmail.run({ email }, db.conn);
        if (!user) throw new Error(`no user with email ${email}`);
        const issued = await auth.issuePersonalToken(user.id, 'cli', values['never-expires'] ? null : days);
        console.log(JSON.stringify({ jti: issued.jti, email: user.email, token: issued.token, expires_at: issued.expires_at }));
        return 0;
      });
    },
  },
};
