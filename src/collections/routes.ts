import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import {
  createCollection,
  deleteCollection,
  deleteItem,
  deleteItemsBatch,
  findCollection,
  listCollections,
  renameCollection,
  resolveCollectionByName,
  resolveCollectionInProject,
  streamItems,
  upsertItems,
  type IListCollectionsResult,
} from '../../sql/collections.queries.ts';
import type { Deps } from '../http/deps.ts';
import { badRequest, conflict, forbidden, HttpError, notFound } from '../http/errors.ts';
import { noQuery, parseBody, parseParam, parseQuery, uuidParam } from '../http/validate.ts';
import { principalIds, type Access } from '../identity/principal.ts';
import { requireRoleAllows } from '../identity/auth.ts';
import { openItemStream, type StreamShape } from './stream.ts';

/**
 * Collections: the management API under /api/projects/:id/collections and the
 * Lightning-compatible data API under /collections (../shared/docs/collections-wire.md, beside this repository).
 *
 * Stream page size: `limit` defaults to 1000 and is capped at STREAM_LIMIT_MAX
 * (10,000); a larger limit is served as 10,000 with a cursor, which clients that
 * follow cursors (the adaptor does) cannot tell apart.
 */
export const STREAM_LIMIT_DEFAULT = 1000;
export const STREAM_LIMIT_MAX = 10_000;
/** Items removed per transaction by a delete-by-pattern or collection deletion. */
export const DELETE_BATCH = 10_000;
/** Items in one POST body (the adaptor sends 1000; the 10 MB body limit binds first for most values). */
export const UPSERT_ITEMS_MAX = 100_000;
const KEY_MAX = 255;
const VALUE_MAX = 1_000_000;

// A collection name as the database's slug check allows it; anything else names no collection.
const pathName = z.string().max(255).regex(/^[a-z0-9]+([-_.][a-z0-9]+)*$/);

/** Length in characters (code points), as Postgres counts it; a UTF-16 length within the limit needs no count. */
const chars = (max: number) => (s: string) => s.length <= max || [...s].length <= max;
const itemKey = z.string().min(1).refine(chars(KEY_MAX), `must be at most ${KEY_MAX} characters`);
const itemValue = z.string().refine(chars(VALUE_MAX), `must be at most ${VALUE_MAX} characters`);

const collectionBody = z.object({ name: z.string().min(1).max(255) }).strict();
const putBody = z.object({ value: itemValue }).strict();
const postBody = z.object({ items: z.array(z.object({ key: itemKey, value: itemValue }).strict()).max(UPSERT_ITEMS_MAX) }).strict();

// Full ISO-8601 date-times with an offset. Passed to Postgres as text, not as a JS Date: that keeps the
// microseconds of `created`/`updated`. (Typing the parameters timestamptz would not help: postgres.js
// serializes a timestamptz parameter through new Date(), which throws on 2024-02-30 and drops microseconds.)
const isoDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$/, 'must be an ISO-8601 date-time with offset')
  .refine(possibleDateTime, 'must be a real date and time');

/**
 * Calendar, clock and offset ranges. Postgres casts a filter date only when it has a row to compare it
 * with, so without this an impossible date (2024-02-30) on an empty page was a 200, not a 400; and an
 * offset it refuses (+16, +00:60) is SQLSTATE 22009, which no error map entry made a 400.
 */
function possibleDateTime(s: string): boolean {
  const [y, mo, d, h, mi, sec] = [s.slice(0, 4), s.slice(5, 7), s.slice(8, 10), s.slice(11, 13), s.slice(14, 16), s.slice(17, 19)].map(Number) as [
    number, number, number, number, number, number,
  ];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  const seconds = s[16] === ':' ? sec : 0;
  // Postgres has no year 0 (1 BC is written 0001-… BC, which this format cannot say).
  if (y < 1 || days === undefined || d < 1 || d > days || mi > 59 || seconds > 60) return false;
  // Postgres's limits for a numeric offset (MAX_TZDISP_HOUR): up to ±15:59, minutes below 60.
  const offset = /[+-](\d{2}):?(\d{2})?$/.exec(s);
  if (offset && (Number(offset[1]) > 15 || Number(offset[2] ?? 0) > 59)) return false;
  // Postgres accepts 24:00:00 (the end of the day) and nothing later.
  return h < 24 || (h === 24 && mi === 0 && seconds === 0 && !/\.\d*[1-9]/.test(s.slice(19)));
}
// No stored key holds a NUL byte (Postgres text cannot), so a pattern with one is malformed, not a 422 from the database.
const keyPatternParam = z.string().max(1000).refine((k) => !k.includes('\0'), 'must not contain NUL');
const dateFilters = {
  created_after: isoDateTime.optional(),
  created_before: isoDateTime.optional(),
  updated_after: isoDateTime.optional(),
  updated_before: isoDateTime.optional(),
};
const v1Only = { project_id: uuidParam.optional() };
const streamQuery = z
  .object({
    key: keyPatternParam.optional(),
    // No .int(): the digits already make it whole, and zod's int() refuses anything past 2^53 − 1,
    // which the OpenAPI document (up to 20 digits) promises to serve as STREAM_LIMIT_MAX.
    limit: z
      .string()
      .regex(/^\d{1,20}$/, 'must be a positive whole number')
      .transform(Number)
      .pipe(z.number().min(1))
      .transform((n) => Math.min(n, STREAM_LIMIT_MAX))
      .optional(),
    cursor: z.string().max(64).optional(),
    ...dateFilters,
  })
  .strict();
const deleteAllQuery = z.object({ key: keyPatternParam.optional(), ...dateFilters }).strict();
const itemQuery = z.object({}).strict();
// v1 also takes ?project_id= to disambiguate; on v2 the path names the project.
const v1Queries = {
  stream: streamQuery.extend(v1Only),
  deleteAll: deleteAllQuery.extend(v1Only),
  item: itemQuery.extend(v1Only),
};

type Version = 1 | 2;

declare module 'koa' {
  interface DefaultState {
    collectionsApiVersion?: Version;
  }
}

/** Missing or 1 → v1, 2 → v2, before any route of /collections decides what its path segments mean. */
async function apiVersion(ctx: Context, next: Next): Promise<void> {
  const header = ctx.get('x-api-version');
  if (header === '' || header === '1') ctx.state.collectionsApiVersion = 1;
  else if (header === '2') ctx.state.collectionsApiVersion = 2;
  else throw badRequest(`Unsupported API version: "${header}". Supported versions: 1, 2.`);
  await next();
}

/** The cursor is opaque to clients: base64url of the last item id sent. */
export function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const decoded = /^[A-Za-z0-9_-]+={0,2}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('latin1') : '';
  if (!/^[1-9]\d{0,18}$/.test(decoded) || BigInt(decoded) > 9223372036854775807n) throw badRequest('cursor: invalid cursor');
  return decoded;
}

/** v1 may name the project in the query to disambiguate; v2 schemas have no such field. */
const v1ProjectId = (q: object): string | undefined => (q as { project_id?: string }).project_id;

function toCollection(row: Omit<IListCollectionsResult, 'item_count' | 'byte_size'> & { item_count: string; byte_size: string }) {
  return { ...row, item_count: Number(row.item_count), byte_size: Number(row.byte_size) };
}

interface Target {
  collectionId: string;
  projectId: string;
  /** The JSON of the item asked for by key (see resolve); null when there is none. */
  item: string | null;
}

/** The data API's item filters, as a page or a bulk delete reads them from its query string. */
interface ItemFilters {
  key?: string;
  created_after?: string;
  created_before?: string;
  updated_after?: string;
  updated_before?: string;
}

/** ItemFilters as streamItems and app.delete_collection_items take them: each one given, null when unset. */
function filterParams(f: ItemFilters) {
  return {
    keyPattern: f.key ?? null,
    createdAfter: f.created_after ?? null,
    createdBefore: f.created_before ?? null,
    updatedAfter: f.updated_after ?? null,
    updatedBefore: f.updated_before ?? null,
  };
}

export function collectionsRoutes(router: Router, { db, auth }: Deps): void {
  /**
   * Resolves a data-API address to a collection the token may use with `access`.
   * Given a key, the same round trip fetches that item (a GET of one item is one query).
   */
  async function resolve(
    ctx: Context,
    access: Access,
    name: string,
    v2ProjectId: string | undefined,
    queryProjectId: string | undefined,
    key: string | null = null,
  ): Promise<Target> {
    const principal = await auth.authenticate(ctx);
    const { userId, runId } = principalIds(principal);
    const namesACollection = pathName.safeParse(name).success;
    if (v2ProjectId !== undefined) {
      const projectId = parseParam(v2ProjectId, uuidParam, 'project');
      // A name that is no slug names nothing, but the project must still be checked first (403 before 404);
      // it is looked up as '' (which no collection has), since one with a NUL byte would make Postgres
      // refuse the query (22021 → 422).
      const [row] = await resolveCollectionInProject.run({ userId, runId, projectId, name: namesACollection ? name : '', key }, db.conn);
      // v2 names the project: a valid token that may not use it is refused, not told "not found".
      if (!row?.role) throw forbidden('This token may not use that project.');
      requireRoleAllows(row.role, access);
      if (!row.collection_id) throw notFound('No such collection.');
      return { collectionId: row.collection_id, projectId, item: row.item };
    }
    // v1 searches only the projects the token reaches, so a collection elsewhere is simply not found.
    if (!namesACollection) throw notFound('No such collection.');
    const rows = await resolveCollectionByName.run({ userId, runId, name, projectId: queryProjectId ?? null, key }, db.conn);
    if (rows.length === 0) throw notFound('No such collection.');
    if (rows.length > 1) throw conflict('Multiple collections found with this name. Use API v2 with a project_id.');
    const row = rows[0]!;
    requireRoleAllows(row.role, access);
    return { collectionId: row.id, projectId: row.project_id, item: row.item };
  }

  /** Reads the collection's matching items as a page or a download (src/collections/stream.ts). */
  function streamItemsOf(collectionId: string, filters: ItemFilters, shape: StreamShape) {
    const params = { collectionId, ...filterParams(filters) };
    return openItemStream(db, (batch, conn) => streamItems.run({ ...params, ...batch }, conn), shape);
  }

  /** Deletes matching items DELETE_BATCH at a time, each batch its own transaction on the long pool. */
  async function deleteItems(collectionId: string, filters: ItemFilters): Promise<number> {
    const params = { collectionId, ...filterParams(filters) };
    let afterId = '0';
    let deleted = 0;
    for (;;) {
      const [row] = await db.tx((tx) => deleteItemsBatch.run({ ...params, afterId, batch: DELETE_BATCH }, tx), { pool: 'long' });
      deleted += row!.deleted;
      if (row!.last_id === null) return deleted;
      afterId = row!.last_id;
    }
  }

  // ---- data API handlers, shared by v1 and v2 ----------------------------------

  interface Address {
    name: string;
    key?: string;
    /** Set on v2 paths. */
    projectId?: string;
  }

  async function getOne(ctx: Context, a: Address & { key: string }): Promise<void> {
    const q = parseQuery(ctx, a.projectId === undefined ? v1Queries.item : itemQuery);
    // A key with a NUL byte cannot have been stored (Postgres text cannot hold one): it is absent, not invalid.
    const key = a.key.includes('\0') ? null : a.key;
    const { item } = await resolve(ctx, 'read', a.name, a.projectId, v1ProjectId(q), key);
    if (item === null) {
      ctx.status = 204;
      return;
    }
    ctx.type = 'application/json';
    ctx.body = item;
  }

  async function stream(ctx: Context, a: Address): Promise<void> {
    const q = parseQuery(ctx, a.projectId === undefined ? v1Queries.stream : streamQuery);
    const afterId = q.cursor === undefined ? '0' : decodeCursor(q.cursor);
    const target = await resolve(ctx, 'read', a.name, a.projectId, v1ProjectId(q));
    const limit = q.limit ?? STREAM_LIMIT_DEFAULT;
    const body = await streamItemsOf(target.collectionId, q, {
      open: '{"items":[',
      close: (next) => `],"cursor":${next === null ? 'null' : JSON.stringify(encodeCursor(next))}}`,
      limit,
      afterId,
    });
    ctx.type = 'application/json';
    ctx.body = body;
  }

  async function putOne(ctx: Context, a: Address & { key: string }): Promise<void> {
    const q = parseQuery(ctx, a.projectId === undefined ? v1Queries.item : itemQuery);
    const { value } = parseBody(ctx, putBody);
    const key = itemKey.safeParse(a.key);
    if (!key.success) throw new HttpError(422, 'invalid', `key: must be 1 to ${KEY_MAX} characters`);
    const target = await resolve(ctx, 'write', a.name, a.projectId, v1ProjectId(q));
    const [row] = await db.statement((conn) => upsertItems.run({ collectionId: target.collectionId, keys: [a.key], values: [value] }, conn));
    ctx.body = { upserted: row!.upserted, error: null };
  }

  async function postMany(ctx: Context, a: Address): Promise<void> {
    const q = parseQuery(ctx, a.projectId === undefined ? v1Queries.item : itemQuery);
    const { items } = parseBody(ctx, postBody);
    // One statement cannot touch a row twice (SQLSTATE 21000); say so before asking.
    const keys = new Set<string>();
    for (const item of items) {
      if (keys.has(item.key)) throw new HttpError(422, 'duplicate_key', 'Duplicate key found', {}, { upserted: 0 });
      keys.add(item.key);
    }
    const target = await resolve(ctx, 'write', a.name, a.projectId, v1ProjectId(q));
    // Retried on a deadlock: writers queue in key order (migration 000004), but a batch
    // delete takes its rows in id order, and an upsert is safe to repeat.
    const [row] = await db.statement((conn) =>
      upsertItems.run({ collectionId: target.collectionId, keys: items.map((i) => i.key), values: items.map((i) => i.value) }, conn),
    );
    ctx.body = { upserted: row!.upserted, error: null };
  }

  async function deleteOne(ctx: Context, a: Address & { key: string }): Promise<void> {
    const q = parseQuery(ctx, a.projectId === undefined ? v1Queries.item : itemQuery);
    const target = await resolve(ctx, 'write', a.name, a.projectId, v1ProjectId(q));
    const rows = a.key.includes('\0') ? [] : await db.statement((conn) => deleteItem.run({ collectionId: target.collectionId, key: a.key }, conn));
    ctx.body = { key: a.key, deleted: rows.length, error: null };
  }

  async function deleteMany(ctx: Context, a: Address): Promise<void> {
    const q = parseQuery(ctx, a.projectId === undefined ? v1Queries.deleteAll : deleteAllQuery);
    const target = await resolve(ctx, 'write', a.name, a.projectId, v1ProjectId(q));
    const deleted = await deleteItems(target.collectionId, q);
    ctx.body = { key: q.key ?? null, deleted, error: null };
  }

  // ---- data API routes --------------------------------------------------------
  // v1 /collections/:name[/:key] and v2 /collections/:project_id/:name[/:key] share
  // path shapes (two segments are a v1 item or a v2 collection), so each shape is
  // one route that dispatches on the version apiVersion() validated first.

  const noRoute = (ctx: Context) => new HttpError(404, 'not_found', `No route for ${ctx.method} ${ctx.path}.`);
  const v1 = (ctx: Context) => ctx.state.collectionsApiVersion === 1;

  router.get('/collections/:a', apiVersion, async (ctx) => {
    if (!v1(ctx)) throw noRoute(ctx);
    await stream(ctx, { name: ctx.params.a! });
  });
  router.get('/collections/:a/:b', apiVersion, async (ctx) => {
    const { a, b } = ctx.params as { a: string; b: string };
    if (v1(ctx)) await getOne(ctx, { name: a, key: b });
    else await stream(ctx, { projectId: a, name: b });
  });
  router.get('/collections/:a/:b/:c', apiVersion, async (ctx) => {
    const { a, b, c } = ctx.params as { a: string; b: string; c: string };
    if (v1(ctx)) throw noRoute(ctx);
    await getOne(ctx, { projectId: a, name: b, key: c });
  });

  router.put('/collections/:a/:b', apiVersion, async (ctx) => {
    const { a, b } = ctx.params as { a: string; b: string };
    if (!v1(ctx)) throw noRoute(ctx);
    await putOne(ctx, { name: a, key: b });
  });
  router.put('/collections/:a/:b/:c', apiVersion, async (ctx) => {
    const { a, b, c } = ctx.params as { a: string; b: string; c: string };
    if (v1(ctx)) throw noRoute(ctx);
    await putOne(ctx, { projectId: a, name: b, key: c });
  });

  router.post('/collections/:a', apiVersion, async (ctx) => {
    if (!v1(ctx)) throw noRoute(ctx);
    await postMany(ctx, { name: ctx.params.a! });
  });
  router.post('/collections/:a/:b', apiVersion, async (ctx) => {
    const { a, b } = ctx.params as { a: string; b: string };
    if (v1(ctx)) throw noRoute(ctx);
    await postMany(ctx, { projectId: a, name: b });
  });

  router.delete('/collections/:a', apiVersion, async (ctx) => {
    if (!v1(ctx)) throw noRoute(ctx);
    await deleteMany(ctx, { name: ctx.params.a! });
  });
  router.delete('/collections/:a/:b', apiVersion, async (ctx) => {
    const { a, b } = ctx.params as { a: string; b: string };
    if (v1(ctx)) await deleteOne(ctx, { name: a, key: b });
    else await deleteMany(ctx, { projectId: a, name: b });
  });
  router.delete('/collections/:a/:b/:c', apiVersion, async (ctx) => {
    const { a, b, c } = ctx.params as { a: string; b: string; c: string };
    if (v1(ctx)) throw noRoute(ctx);
    await deleteOne(ctx, { projectId: a, name: b, key: c });
  });

  // ---- management API ---------------------------------------------------------

  router.post('/api/projects/:id/collections', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.id, uuidParam, 'project');
    await auth.authorize(ctx, projectId, 'manage');
    const { name } = parseBody(ctx, collectionBody);
    const [row] = await createCollection.run({ projectId, name }, db.conn);
    ctx.status = 201;
    ctx.body = toCollection(row!);
  });

  router.get('/api/projects/:id/collections', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.id, uuidParam, 'project');
    await auth.authorize(ctx, projectId, 'read');
    const rows = await listCollections.run({ projectId }, db.conn);
    ctx.body = { collections: rows.map(toCollection) };
  });

  router.patch('/api/projects/:id/collections/:name', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.id, uuidParam, 'project');
    await auth.authorize(ctx, projectId, 'manage');
    const name = parseParam(ctx.params.name, pathName, 'collection');
    const body = parseBody(ctx, collectionBody);
    const [row] = await renameCollection.run({ projectId, name, newName: body.name }, db.conn);
    if (!row) throw notFound('No such collection.');
    ctx.body = toCollection(row);
  });

  router.delete('/api/projects/:id/collections/:name', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.id, uuidParam, 'project');
    await auth.authorize(ctx, projectId, 'manage');
    const name = parseParam(ctx.params.name, pathName, 'collection');
    const [found] = await findCollection.run({ projectId, name }, db.conn);
    if (!found) throw notFound('No such collection.');
    // Items first, in batches, so a collection of millions does not become one huge transaction;
    // the final delete cascades to anything written meanwhile.
    await deleteItems(found.id, {});
    const [gone] = await db.tx((tx) => deleteCollection.run({ id: found.id }, tx), { pool: 'long' });
    if (!gone?.deleted) throw notFound('No such collection.');
    ctx.status = 204;
  });

  // Not under /collections/…/:key, where it would shadow an item whose key is "download".
  router.get('/api/projects/:id/collections/:name/download', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.id, uuidParam, 'project');
    await auth.authorize(ctx, projectId, 'read');
    const name = parseParam(ctx.params.name, pathName, 'collection');
    const [found] = await findCollection.run({ projectId, name }, db.conn);
    if (!found) throw notFound('No such collection.');
    const body = await streamItemsOf(found.id, {}, {
      open: '[',
      close: () => ']',
    });
    ctx.attachment(`${name}.json`);
    ctx.type = 'application/json';
    ctx.body = body;
  });
}
