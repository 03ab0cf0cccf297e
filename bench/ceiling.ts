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
import { resolveCollectionInProject } from '../sql/collections.queries.ts';
import { serverAccess } from '../sql/fleet.queries.ts';
import { saveWorkflow, workflowAccess } from '../sql/workflows.queries.ts';
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

  // The GET ladder (`npm run bench -- --ladder`): the bare route above with one of the product's
  // costs added at a time, to tell how much of the gap each one is.
  // Rung 1: the item's JSON, stored with it (ADR 15), as the product sends it.
  router.get('/ladder/json/:collection_id/:key', async (ctx) => {
    const [row] = await sql`
      select i.item_json as item
      from app.items i where i.collection_id = ${ctx.params.collection_id!} and i.key = ${ctx.params.key!}`;
    if (!row) ctx.throw(404);
    ctx.type = 'application/json';
    ctx.body = row!.item;
  });
  // Rung 2: the product's own v2 statement (authorization, collection and item JSON in one), with
  // the user id in the path instead of a verified token: none of sandbar's middleware, zod, pgtyped or auth.
  const v2 = await productStatement(resolveCollectionInProject, ['userId', 'runId', 'projectId', 'name', 'key']);
  router.get('/ladder/authorized/:user_id/:project_id/:name/:key', async (ctx) => {
    const p = ctx.params;
    const [row] = await sql.unsafe(v2.text, v2.bind({ userId: p.user_id!, runId: null, projectId: p.project_id!, name: p.name!, key: p.key! }), { prepare: true });
    if (!row?.role) ctx.throw(403);
    if (!row!.item) ctx.throw(404);
    ctx.type = 'application/json';
    ctx.body = row!.item;
  });

  // The release and workflow ladders: the product's own statements on the bare routes, user id in the path.
  const release = await productStatement(serverAccess, ['serverId', 'userId', 'runId', 'handle']);
  router.get('/ladder/release/:user_id/:server_id/:handle', async (ctx) => {
    const p = ctx.params;
    const [row] = await sql.unsafe(release.text, release.bind({ serverId: p.server_id!, userId: p.user_id!, runId: null, handle: p.handle! }), { prepare: true });
    // Raw rows keep pgtyped's nullability hints in their column names.
    if (!row?.['release_id?']) ctx.throw(404);
    ctx.body = {
      id: row!['release_id?'],
      server_id: p.server_id,
      name: row!.release_name,
      release_command: row!['release_command?'],
      effective_handle: row!['release_handle?'],
      created_at: row!['release_created_at?'],
      updated_at: row!['release_updated_at?'],
    };
  });

  // Rung 1: app.save_workflow (the workflow row and its snapshot) from the product's statement, no
  // authorization. Rung 2 (?authorize): the product's authorizing statement first, as its route does.
  const save = await productStatement(saveWorkflow, ['id', 'action', 'projectId', 'name', 'body', 'lockVersion']);
  const access = await productStatement(workflowAccess, ['userId', 'runId', 'projectId', 'id']);
  router.put('/ladder/workflows/:user_id/:project_id/:id', async (ctx) => {
    const p = ctx.params;
    const text = await coBody.text(ctx.req);
    const body = JSON.parse(text) as { action: string; name: string; lock_version?: number };
    if (ctx.query.authorize !== undefined) {
      const [allowed] = await sql.unsafe(access.text, access.bind({ userId: p.user_id!, runId: null, projectId: p.project_id!, id: p.id! }), { prepare: true });
      if (!allowed?.role) ctx.throw(403);
    }
    const params = { id: p.id!, action: body.action, projectId: p.project_id!, name: body.name, body: text, lockVersion: body.lock_version ?? null };
    const [row] = await sql.unsafe(save.text, save.bind(params), { prepare: true });
    ctx.status = row!['kind!'] === 'new' ? 201 : 200;
    ctx.body = row;
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

/**
 * A pgtyped query's SQL text and a function that orders its parameters, found by running it once
 * against a connection that only records what it is given: the ladder then sends exactly the
 * product's statement without pgtyped's per-call processing (which is one of the product's costs).
 */
async function productStatement<P extends object>(
  query: { run(params: P, conn: { query(q: string, b: unknown[]): Promise<{ rows: any[]; rowCount: number }> }): Promise<unknown> },
  names: Array<keyof P & string>,
): Promise<{ text: string; bind(params: P): any[] }> {
  let text = '';
  let order: string[] = [];
  const marks = Object.fromEntries(names.map((n) => [n, `\u0000${n}`])) as P;
  await query.run(marks, {
    query: async (q, bindings) => {
      text = q;
      order = bindings.map((b) => String(b).slice(1));
      return { rows: [], rowCount: 0 };
    },
  });
  if (!text || order.some((n) => !names.includes(n as keyof P & string))) throw new Error('could not capture the product statement');
  return { text, bind: (params) => order.map((n) => (params as Record<string, unknown>)[n]) };
}
