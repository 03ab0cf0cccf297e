import coBody from 'co-body';
import type { Context, Next } from 'koa';
import { HttpError } from './errors.ts';

declare module 'koa' {
  interface Request {
    /** Set by jsonBody(): the parsed JSON body, or undefined when the request had none. */
    body?: unknown;
  }
}

const methodsWithBody = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Parses JSON request bodies for POST/PUT/PATCH into ctx.request.body.
 * raw-body (under co-body) refuses a declared Content-Length over the limit
 * before reading, and stops reading a chunked body as soon as it passes it, so
 * an oversized upload is never buffered whole.
 */
export function jsonBody(limitBytes: number) {
  return async function parseJsonBody(ctx: Context, next: Next): Promise<void> {
    if (methodsWithBody.has(ctx.method) && hasBody(ctx)) {
      if (!ctx.is('application/json', '+json')) {
        throw new HttpError(415, 'unsupported_media_type', 'Request bodies must be JSON (content-type: application/json).');
      }
      ctx.request.body = await coBody.json(ctx.req, { limit: limitBytes, strict: true });
    }
    await next();
  };
}

function hasBody(ctx: Context): boolean {
  const length = ctx.get('content-length');
  if (length !== '') return length !== '0';
  return ctx.get('transfer-encoding') !== '';
}
