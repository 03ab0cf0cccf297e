import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../http/deps.ts';
import { notFound } from '../http/errors.ts';
import { sendStaticAsset, staticAsset, type StaticAsset } from '../http/static-assets.ts';

const staticDir = fileURLToPath(new URL('./static/', import.meta.url));

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The console only ever talks to this origin; the policy makes the browser
 * enforce "no CDN, no external fonts, no third-party fetches" as well.
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function load(file: string): StaticAsset {
  const type = contentTypes[path.extname(file)];
  if (!type) throw new Error(`console asset ${file} has no known content type`);
  return staticAsset(readFileSync(path.join(staticDir, file)), type);
}

/**
 * The allow-list of servable assets is the directory listing taken once at
 * start: a request names a key of this map or gets 404, so no request path
 * ever reaches the filesystem (no traversal, no symlink surprises).
 */
function loadAssets(): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const entry of readdirSync(path.join(staticDir, 'assets'), { withFileTypes: true })) {
    if (entry.isFile() && contentTypes[path.extname(entry.name)]) assets.set(entry.name, load(`assets/${entry.name}`));
  }
  return assets;
}

const send = (ctx: Context, file: StaticAsset) => sendStaticAsset(ctx, file, contentSecurityPolicy);

/** The web console: static files under /console; everything it shows comes from the public API. */
export function consoleRoutes(router: Router, _deps: Deps): void {
  const index = load('index.html');
  const assets = loadAssets();

  router.get('/console', (ctx) => send(ctx, index));
  router.get('/console/', (ctx) => send(ctx, index));
  router.get('/console/assets/:file', (ctx) => {
    const file = assets.get(ctx.params.file ?? '');
    if (!file) throw notFound('No such console asset.');
    send(ctx, file);
  });
}
