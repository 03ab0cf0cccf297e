import type Router from '@koa/router';
import type { Deps } from '../http/deps.ts';

export function sandboxesRoutes(_router: Router, _deps: Deps): void {}
