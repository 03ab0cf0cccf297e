import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import Koa from 'koa';
import { jsonBody } from './body.ts';
import type { Deps } from './deps.ts';
import { badRequest, HttpError, respondWithError, toHttpError } from './errors.ts';
import { healthRoutes } from './health.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { routeModules } from './routes.ts';
import { decodable } from './validate.ts';

const requestIdPattern = /^[\w.:-]{1,128}$/;

export interface App {
  koa: Koa;
  router: Router;
  metrics: Metrics;
}

export function createApp(deps: Deps): App {
  const koa = new Koa({ proxy: false });
  const metrics = createMetrics(deps.db);
  const router = new Router();

  // Request id, access log, metrics and the one error map, around everything else.
  koa.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const requestId = requestIdPattern.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('x-request-id', requestId);
    try {
      // @koa/router keeps a segment it cannot decode as it came, so `/…/%FF` would name the key "%FF",
      // the same one `/…/%25FF` names. Refuse such a path before anything reads it.
      if (!decodable(ctx.path)) throw badRequest('The request path is not valid percent-encoded UTF-8.');
      await next();
      // The router's 501 comes with an empty Allow when no route has this path at all: that is an unknown path.
      const unknownPath = ctx.status === 501 && ctx.body == null && ctx.response.get('allow') === '';
      if ((ctx.status === 404 || unknownPath) && ctx.body == null) {
        throw new HttpError(404, 'not_found', `No route for ${ctx.method} ${ctx.path}.`);
      }
      // The router answers 501 for a method it implements on no route at all (TRACE, PROPFIND…); to the
      // client that is still a method this resource does not allow, and no client input may produce a 5xx.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
        const allow = ctx.response.get('allow');
        // The Allow header for HTTP clients, and the same list in the body, as errors.md promises.
        throw new HttpError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}.`, { allow }, { allow });
      }
    } catch (error) {
      const mapped = toHttpError(error);
      if (mapped) {
        respondWithError(ctx, mapped);
      } else {
        deps.log.error({ err: error, requestId, method: ctx.method, path: ctx.path }, 'unhandled error');
        ctx.status = 500;
        ctx.body = { error: 'internal', message: 'Internal server error.', request_id: requestId };
      }
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
      metrics.observeRequest(ctx.method, route, ctx.status, seconds);
      // Logged after headers are decided; a streamed body may still be flowing.
      deps.log.info(
        { requestId, method: ctx.method, path: ctx.path, route, status: ctx.status, durationMs: Math.round(seconds * 1e4) / 10 },
        'request',
      );
    }
  });
  // Errors thrown after the response started (e.g. mid-stream) end up here; the client sees a cut stream.
  koa.on('error', (error: unknown, ctx?: Koa.Context) => {
    if ((error as { code?: string }).code === 'ECONNRESET' || (error as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    deps.log.warn({ err: error, requestId: ctx?.state.requestId }, 'error after response started');
  });

  koa.use(jsonBody(deps.config.SANDBAR_BODY_LIMIT_BYTES));

  healthRoutes(router, deps, metrics);
  for (const register of routeModules) register(router, deps);

  koa.use(router.routes());
  koa.use(router.allowedMethods());
  return { koa, router, metrics };
}
