/**
 * The ceilings the HTTP workloads are measured against: a bare Koa app in the
 * same process as sandbar, one postgres.js query per request on its own pool
 * (same size as sandbar's hot pool, prepared statements on), no auth, no
 * validation, no error map. What sandbar adds on top of this is its overhead.
 * Tagged-template SQL is fine here: this is a yardstick, not product code.
 */
import Router from '@koa/router';
import coBody from 'co-body';
import Koa from 'koa';
import postgres from 'postgres';
import { listen, type HttpServer } from '../src/http/server.ts';

export interface Ceiling {
  url: string;
  sql: postgres.Sql;
  stop(): Promise<void>;
}

export async function startCeiling(databaseUrl: string, poolMax: number): Promise<Ceiling> {
  const sql = postgres(databaseUrl, { max: poolMax, prepare: true, onnotice: () => undefined });
  const koa = new Koa();
  const router = new Router();

  router.post('/releases/:server_id/:project_id', async (ctx) => {
    const body = (await coBody.json(ctx.req)) as { name?: string };
    const [row] = await sql`
      insert into app.releases (server_id, project_id, name)
      values (${ctx.params.server_id!}, ${ctx.params.project_id!}, ${body.name ?? null})
      returning id, server_id, name, release_command, effective_handle, created_at, updated_at`;
    ctx.status = 201;
    ctx.body = row;
  });

  router.get('/releases/:server_id/:handle', async (ctx) => {
    const [row] = await sql`
      select id, server_id, name, release_command, effective_handle, created_at, updated_at
      from app.releases where server_id = ${ctx.params.server_id!} and effective_handle = ${ctx.params.handle!}`;
    if (!row) ctx.throw(404);
    ctx.body = row;
  });

  router.get('/items/:collection_id/:key', async (ctx) => {
    const [row] = await sql`select value from app.items where collection_id = ${ctx.params.collection_id!} and key = ${ctx.params.key!}`;
    if (!row) ctx.throw(404);
    ctx.body = { key: ctx.params.key, value: row!.value };
  });

  router.put('/workflows/:project_id/:id', async (ctx) => {
    const body = (await coBody.json(ctx.req)) as { name: string; definition: unknown };
    const [row] = await sql`
      insert into app.workflows as w (id, project_id, name, definition)
      values (${ctx.params.id!}, ${ctx.params.project_id!}, ${body.name}, ${sql.json(body.definition as postgres.JSONValue)})
      on conflict (id) do update
        set name = excluded.name, definition = excluded.definition, lock_version = w.lock_version + 1, updated_at = now()
      returning id, project_id, name, lock_version, created_at, updated_at`;
    ctx.body = row;
  });

  koa.use(router.routes());
  const http: HttpServer = await listen(koa, '127.0.0.1', 0);
  return {
    url: http.url,
    sql,
    async stop() {
      await http.close(1000);
      await sql.end({ timeout: 1 });
    },
  };
}
