import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { ensureDatabase, migrateWithCurrent } from './db/migrate.ts';
import { freePort } from './db/embedded.ts';
import { provideDatabaseServer } from './db/provider.ts';
import { identityCommands } from './identity/cli.ts';
import { createLogger } from './log.ts';
import { openDatabase, startService } from './service.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Command {
  usage: string;
  summary: string;
  run(args: string[], config: Config): Promise<number>;
}

const commands: Record<string, Command> = {
  serve: {
    usage: 'sandbar serve',
    summary: 'Migrate the database and serve HTTP on HOST:PORT (what `npm start` runs).',
    run: serve,
  },
  migrate: {
    usage: 'sandbar migrate',
    summary: 'Apply pending committed migrations and exit.',
    async run(_args, config) {
      const log = createLogger(config.LOG_LEVEL);
      const database = await openDatabase(config, log, { migrate: true, whenRunning: 'borrow' });
      await database.server.stop();
      console.log('migrations applied');
      return 0;
    },
  },
  psql: {
    usage: 'sandbar psql [psql arguments…]',
    summary: 'Open psql on the configured database (starting the embedded cluster if needed).',
    async run(args, config) {
      const log = createLogger('warn');
      const database = await openDatabase(config, log, { migrate: false, whenRunning: 'borrow' });
      try {
        return await runChild('psql', [database.url, ...args]);
      } finally {
        await database.server.stop();
      }
    },
  },
  'dev-env': {
    usage: 'sandbar dev-env',
    summary: 'Print DATABASE_URL, SHADOW_DATABASE_URL and ROOT_DATABASE_URL for graphile-migrate and pgtyped.',
    async run(_args, config) {
      const log = createLogger('warn');
      const database = await openDatabase(config, log, { migrate: false, whenRunning: 'borrow' });
      const shadow = new URL(database.url);
      shadow.pathname = `${shadow.pathname}_shadow`;
      const rootUrl = new URL(database.url);
      rootUrl.pathname = '/postgres';
      console.log(`export DATABASE_URL='${database.url}'`);
      console.log(`export SHADOW_DATABASE_URL='${shadow.toString()}'`);
      console.log(`export ROOT_DATABASE_URL='${rootUrl.toString()}'`);
      // Left running on purpose: the URLs are for graphile-migrate and pgtyped to use next.
      // pg_ctl started it detached; `sandbar serve` adopts it, or stop it with its pg_ctl.
      if (database.server.kind === 'embedded') console.error('# the embedded cluster stays running for these URLs');
      return 0;
    },
  },
  'gen-queries': {
    usage: 'sandbar gen-queries [--check]',
    summary: 'Regenerate sql/*.queries.ts with pgtyped against a scratch migrated database; --check fails if they change.',
    run: genQueries,
  },
  ...identityCommands,
};

function help(): string {
  const width = Math.max(...Object.values(commands).map((c) => c.usage.length));
  return [
    'sandbar — projects, sandboxes, collections, workflows and fleet releases on PostgreSQL.',
    '',
    'Usage:',
    ...Object.values(commands).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from environment variables; see README.md § Configuration.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    process.exitCode = name ? 0 : 1;
    return;
  }
  const command = commands[name] ?? commands[`${name} ${rest[0] ?? ''}`];
  if (!command) {
    console.error(`sandbar: unknown command "${name}"\n\n${help()}`);
    process.exitCode = 2;
    return;
  }
  const args = commands[name] ? rest : rest.slice(1);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`Usage: ${command.usage}\n\n${command.summary}`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  try {
    process.exitCode = await command.run(args, config);
  } catch (error) {
    console.error(`${command.usage.split(' [')[0]!.split(' <')[0]}: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

async function serve(_args: string[], config: Config): Promise<number> {
  const log = createLogger(config.LOG_LEVEL);
  const database = await openDatabase(config, log, { migrate: true });
  let service;
  try {
    service = await startService(config, log, database);
  } catch (error) {
    await database.server.stop();
    throw error;
  }
  log.info({ url: service.url, database: database.server.kind }, `sandbar listening on ${service.url}`);

  await new Promise<void>((resolve) => {
    let firstSignalAt: number | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (firstSignalAt !== undefined) {
        // npm forwards Ctrl-C to its child too, so the first duplicate is not an
        // impatient operator; a second signal after a pause is.
        if (Date.now() - firstSignalAt < 2000) return;
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      firstSignalAt = Date.now();
      log.info({ signal }, 'shutting down: draining requests');
      void service.stop().then(resolve, (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  log.info('stopped');
  return 0;
}

async function genQueries(args: string[], config: Config): Promise<number> {
  const { values } = parseArgs({ args, options: { check: { type: 'boolean', default: false } } });
  const log = createLogger('warn');
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sandbar-gen-'));
  const server = await provideDatabaseServer({
    databaseUrl: config.DATABASE_URL,
    embeddedDir: path.join(tmp, 'pg'),
    embeddedPort: await freePort(),
    log,
    whenRunning: 'own',
  });
  try {
    const database = `sandbar_gen_${process.pid}`;
    const adminUrl = server.url('postgres');
    await ensureDatabase(adminUrl, database);
    const url = server.url(database);
    await migrateWithCurrent(url, adminUrl);
    // --check compares the generated files before and after regenerating them, rather
    // than asking git: it must also work outside a git checkout (CI on an exported
    // tree), and untracked .sql files under development are not a diff.
    const before = values.check ? await generatedQueries() : undefined;
    const pgtyped = path.join(root, 'node_modules', '@pgtyped', 'cli', 'lib', 'index.js');
    const code = await runChild(process.execPath, [pgtyped, '-c', path.join(root, 'pgtyped.config.json'), '--uri', url], root);
    if (code !== 0) return code;
    await useOwnPreparedQuery();
    if (before) {
      const after = await generatedQueries();
      const sources = new Set((await readdir(path.join(root, 'sql')).catch(() => [] as string[])).filter((f) => f.endsWith('.sql')));
      const stale = [...new Set([...before.keys(), ...after.keys()])]
        .filter((f) => before.get(f) !== after.get(f) || !sources.has(f.replace(/\.queries\.ts$/, '.sql')))
        .sort();
      if (stale.length > 0) {
        console.error(
          `Generated queries are out of date (or have no .sql file); run \`npm run gen\` and commit:\n${stale.map((f) => `  sql/${f}`).join('\n')}`,
        );
        return 1;
      }
      console.log('generated queries are up to date');
    }
    return 0;
  } finally {
    await server.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Points each generated file's PreparedQuery import at src/db/prepared-query.ts, which
 * works out a query's text once instead of on every call (it says why). pgtyped has no
 * option for the runtime it imports, so this rewrites the one import line it writes, and
 * fails if that line changes, rather than quietly leaving a file on pgtyped's own.
 */
async function useOwnPreparedQuery(): Promise<void> {
  const from = "import { PreparedQuery } from '@pgtyped/runtime';";
  const to = "import { PreparedQuery } from '../src/db/prepared-query.ts';";
  const files = [...(await generatedQueries())].filter(([, text]) => !text.includes(to));
  const unexpected = files.filter(([, text]) => !text.includes(from)).map(([name]) => `sql/${name}`);
  if (unexpected.length > 0) throw new Error(`pgtyped's import of PreparedQuery is not the line expected (${from}) in ${unexpected.join(', ')}`);
  for (const [name, text] of files) await writeFile(path.join(root, 'sql', name), text.replace(from, to));
}

/** sql/*.queries.ts, file name → content. */
async function generatedQueries(): Promise<Map<string, string>> {
  const dir = path.join(root, 'sql');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.queries.ts'));
  return new Map(await Promise.all(names.map(async (f) => [f, await readFile(path.join(dir, f), 'utf8')] as const)));
}

function runChild(cmd: string, args: string[], cwd?: string): Promise<number>;
function runChild(cmd: string, args: string[], cwd: string, capture: true): Promise<{ code: number; output: string }>;
function runChild(cmd: string, args: string[], cwd?: string, capture?: boolean): Promise<number | { code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit' });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve(capture ? { code: code ?? 1, output } : (code ?? 1)));
  });
}
