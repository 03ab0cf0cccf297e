import type Router from '@koa/router';
import { latestCommittedMigration } from '../db/migrate.ts';
import type { Deps } from './deps.ts';
import { HttpError } from './errors.ts';
import type { Metrics } from './metrics.ts';

export function healthRoutes(router: Router, deps: Deps, metrics: Metrics): void {
  // Liveness: the process answers. Never touches the database.
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  // Readiness: the database answers and has every committed migration applied.
  router.get('/readyz', async (ctx) => {
    const expected = await latestCommittedMigration();
    let applied: string | undefined;
    try {
      const rows = await deps.db.sql<{ filename: string }[]>`
        select filename from graphile_migrate.migrations order by filename desc limit 1`;
      applied = rows[0]?.filename;
    } catch (error) {
      deps.log.warn({ err: error }, 'readiness check failed');
      throw new HttpError(503, 'not_ready', 'The database is unreachable.', { 'retry-after': '1' });
    }
    if (expected !== undefined && applied !== expected) {
      throw new HttpError(503, 'not_ready', `Migrations are not current (applied ${applied ?? 'none'}, expected ${expected}).`, {
        'retry-after': '5',
      });
    }
    ctx.body = { status: 'ready', migration: applied ?? null };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}
