import path from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable sandbar reads, validated once at start-up.
 * README.md § Configuration documents each one; keep the two in step.
 */
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');

const schema = z.object({
  PORT: integer(0, 65535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: postgresUrl.optional(),
  // The long pool's own way to the same database (e.g. past PgBouncer's transaction pooling,
  // which drops the long pool's planner settings: docs/scaling.md). Needs DATABASE_URL.
  SANDBAR_LONG_DATABASE_URL: postgresUrl.optional(),
  SANDBAR_DATA_DIR: z.string().min(1).default('./.data'),
  SANDBAR_PG_PORT: integer(1, 65535).default(54329),
  SANDBAR_DB_POOL_MAX: integer(1, 100).default(4),
  SANDBAR_DB_LONG_POOL_MAX: integer(1, 100).default(4),
  SANDBAR_LONG_QUEUE_TIMEOUT_MS: integer(0, 600_000).default(10_000),
  SANDBAR_STATEMENT_TIMEOUT_MS: integer(100, 3_600_000).default(30_000),
  SANDBAR_BODY_LIMIT_BYTES: integer(1024, 100 * 1024 * 1024).default(10 * 1024 * 1024),
  SANDBAR_SHUTDOWN_TIMEOUT_MS: integer(0, 600_000).default(10_000),
  // External (Buffer) memory allowed to pile up before a full collection is asked for; 0 leaves it to V8 (src/memory.ts).
  SANDBAR_GC_SLACK_MB: integer(0, 4096).default(16),
  SANDBAR_JWT_PRIVATE_KEY: z.string().min(1).optional(),
  SANDBAR_JWT_ISSUER: z.string().min(1).default('sandbar'),
  SANDBAR_JWT_AUDIENCE: z.string().min(1).default('sandbar'),
  SANDBAR_RUN_TOKEN_TTL_SECONDS: integer(60, 7 * 24 * 3600).default(3600),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema> & { dataDir: string };

export class ConfigError extends Error {}

/** Parses `env`; on a bad value throws a ConfigError whose message is one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k in schema.shape && v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message} (got ${JSON.stringify(env[name])})`);
  }
  if (parsed.data.SANDBAR_LONG_DATABASE_URL !== undefined && parsed.data.DATABASE_URL === undefined) {
    // Without DATABASE_URL the database is an embedded cluster or a container the long pool could not be pointed at.
    throw new ConfigError('Invalid configuration: SANDBAR_LONG_DATABASE_URL needs DATABASE_URL (both must reach the same database)');
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.SANDBAR_DATA_DIR) };
}
