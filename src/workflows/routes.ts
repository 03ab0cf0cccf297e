import type Router from '@koa/router';
import type { Deps } from '../http/deps.ts';

export function workflowsRoutes(_router: Router, _deps: Deps): void {}
