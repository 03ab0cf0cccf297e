import type Router from '@koa/router';
import type { Deps } from './deps.ts';

/** Every domain's routes, registered in this order. One line per domain. */
export const routeModules: Array<(router: Router, deps: Deps) => void> = [];
