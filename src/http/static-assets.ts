import { createHash } from 'node:crypto';
import type { Context } from 'koa';

/** A file served from memory: read once at start-up, addressed by an allow-listed name, never by a request path. */
export interface StaticAsset {
  body: Buffer;
  type: string;
  etag: string;
}

export function staticAsset(body: Buffer | string, type: string): StaticAsset {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return { body: buffer, type, etag: `"${createHash('sha256').update(buffer).digest('base64url').slice(0, 27)}"` };
}

/**
 * Sends an asset under `contentSecurityPolicy`. There is no build step, so file
 * names carry no content hash: every load revalidates, a cheap 304 by ETag.
 */
export function sendStaticAsset(ctx: Context, file: StaticAsset, contentSecurityPolicy: string): void {
  ctx.set('cache-control', 'no-cache');
  ctx.set('etag', file.etag);
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set('referrer-policy', 'no-referrer');
  ctx.set('content-security-policy', contentSecurityPolicy);
  if (ctx.get('if-none-match') === file.etag) {
    ctx.status = 304;
    return;
  }
  ctx.type = file.type;
  ctx.body = file.body;
}
