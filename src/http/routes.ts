import type Router from '@koa/router';
import { collectionsRoutes } from '../collections/routes.ts';
import { consoleRoutes } from '../console/routes.ts';
import { fleetRoutes } from '../fleet/routes.ts';
import { identityRoutes } from '../identity/routes.ts';
import { sandboxesRoutes } from '../sandboxes/routes.ts';
import { workflowsRoutes } from '../workflows/routes.ts';
import type { Deps } from './deps.ts';
import { openApiRoutes } from './openapi.ts';

/** Every domain's routes, registered in this order. One line per domain. */
export const routeModules: Array<(router: Router, deps: Deps) => void> = [
  identityRoutes,
  collectionsRoutes,
  sandboxesRoutes,
  workflowsRoutes,
  fleetRoutes,
  consoleRoutes,
  openApiRoutes,
];
