import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { migrate as gmMigrate, watch as gmWatch, Logger, type Settings } from 'graphile-migrate';
// graphile-migrate keeps its pg pools open 200 ms after use, and exits the
// process if one of their idle connections then errors (say, the embedded
// cluster stops). We close them as soon as a migration is done.
import { clearAllPools } from 'graphile-migrate/dist/pgReal.js';

export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/**
 * Settings for running migrations from the service. `.gmrc` holds the
 * developer settings (shadow database, commit workflow); the service only ever
 * applies committed migrations, with none of the developer actions.
 */
function settings(connectionString: string, rootConnectionString: string): Settings {
  return {
    connectionString,
    // With an external DATABASE_URL the service has no other root connection to give, and graphile-migrate
    // refuses one equal to connectionString; applying migrations never uses it (only reset and shadow do).
    ...(rootConnectionString !== connectionString ? { rootConnectionString } : {}),
    migrationsFolder,
    logger: quietLogger,
  };
}

// graphile-migrate narrates every step; the service reports only its errors.
const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error') console.error(message);
});

/** Applies pending committed migrations. */
export async function migrate(connectionString: string, rootConnectionString: string): Promise<void> {
  try {
    await gmMigrate(settings(connectionString, rootConnectionString));
  } finally {
    clearAllPools();
  }
}

/** Applies committed migrations and then the current (uncommitted) one: for development and tests. */
export async function migrateWithCurrent(connectionString: string, rootConnectionString: string): Promise<void> {
  try {
    await gmMigrate(settings(connectionString, rootConnectionString));
    await gmWatch(settings(connectionString, rootConnectionString), true);
  } finally {
    clearAllPools();
  }
}

/**
 * The newest committed migration as graphile-migrate records it once applied
 * (graphile_migrate.migrations.filename): its number without the message slug,
 * so "000003-add-things.sql" is "000003.sql". Undefined when there is none.
 */
export async function latestCommittedMigration(): Promise<string | undefined> {
  const numbers = (await readdir(path.join(migrationsFolder, 'committed')).catch(() => [] as string[]))
    .map((f) => /^(\d{6})(-[-\w]*)?\.sql$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
  const latest = numbers.at(-1);
  return latest === undefined ? undefined : `${latest}.sql`;
}

/** Creates `database` on the server if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await admin`select 1 as found from pg_database where datname = ${database}`;
    if (!row) {
      await admin`create database ${admin(database)}`.catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created concurrently
      });
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
}
