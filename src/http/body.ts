import coBody from 'co-body';
import type { Context, Next } from 'koa';
import { HttpError } from './errors.ts';

declare module 'koa' {
  interface Request {
    /** Set by jsonBody(): the parsed JSON body, or undefined when the request had none. */
    body?: unknown;
    /** Set by jsonBody() with `body`: the text `body` was parsed from, for a handler that must let PostgreSQL parse it. */
    rawBody?: string;
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
      try {
        const { parsed, raw } = await coBody.json(ctx.req, { limit: limitBytes, strict: true, returnRawBody: true });
        ctx.request.body = parsed;
        ctx.request.rawBody = raw;
      } catch (error) {
        if ((error as { status?: number }).status === 413) discardRest(ctx.req);
        throw error;
      }
    }
    await next();
  };
}

/**
 * After a 413 the client may still be uploading. Closing the socket with its
 * data unread makes the kernel send RST, which can overtake the 413, so the
 * client sees a reset instead of the answer. Read and drop the rest (nothing is
 * kept), and cut the connection if the upload goes on for more than 5 s.
 */
const DISCARD_MS = 5_000;
function discardRest(req: Context['req']): void {
  const timer = setTimeout(() => req.socket.destroy(), DISCARD_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

function hasBody(ctx: Context): boolean {
  const length = ctx.get('content-length');
  if (length !== '') return length !== '0';
  return ctx.get('transfer-encoding') !== '';
}
