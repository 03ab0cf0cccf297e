import type { Context, Next } from 'koa';
import { z } from 'zod';
import { HttpError } from './errors.ts';

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** Validates the JSON body; a body of the wrong shape is unprocessable (422). */
export function parseBody<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const result = schema.safeParse(ctx.request.body ?? {});
  if (!result.success) throw new HttpError(422, 'invalid', describe(result.error));
  return result.data;
}

/** Whether `s` (a path or a query string) is valid percent-encoded UTF-8 (the test helpers' OpenAPI check asks the same). */
export function decodable(s: string): boolean {
  try {
    decodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

/** Validates the query string; unknown or malformed parameters are a bad request (400). */
export function parseQuery<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  // Node's querystring decodes what it cannot as U+FFFD or leaves it as typed, so `?key=%FF` would
  // filter by a key with a replacement character and `?key=50%` by a literal percent: refuse both,
  // as the path is refused (src/http/app.ts) and as Lightning's Plug refuses them.
  if (!decodable(ctx.querystring)) throw new HttpError(400, 'bad_request', 'The query string is not valid percent-encoded UTF-8.');
  const result = schema.safeParse(ctx.query);
  if (!result.success) throw new HttpError(400, 'bad_request', describe(result.error));
  return result.data;
}

const noParameters = z.object({}).strict();

/**
 * Route middleware of every route that needs a token and takes no query parameters: one sent anyway
 * is refused exactly as parseQuery refuses an unknown one (400), not ignored, so a filter a route does
 * not have (`…/download?key=k*`) never quietly means "everything". It runs first, before the path and
 * the token are looked at, as the data API's parseQuery does. Public routes (health, metrics, docs,
 * console) do not use it: probes, scrapers and cache-busting asset links may add what they like.
 */
export async function noQuery(ctx: Context, next: Next): Promise<void> {
  parseQuery(ctx, noParameters);
  await next();
}

/**
 * A uuid in a path, query or body (a path parameter that is not one names nothing: parseParam → 404).
 * Any 8-4-4-4-12 hex string, as PostgreSQL's uuid type and OpenAPI's `format: uuid` take it: z.uuid()
 * also demands RFC 9562 version and variant bits, and refused ids clients may legitimately choose.
 */
export const uuidParam = z.guid('Invalid UUID');

/** Validates a path parameter (e.g. a uuid); a malformed id can name nothing, so it is not found. */
export function parseParam<S extends z.ZodType>(value: string | undefined, schema: S, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(404, 'not_found', `No such ${what}.`);
  return result.data;
}
