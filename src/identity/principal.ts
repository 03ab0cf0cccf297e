import type { project_role as ProjectRole } from '../../sql/identity.queries.ts';

/** Who a verified bearer token speaks for. */
export type Principal =
  | { kind: 'user'; userId: string; jti: string }
  | { kind: 'run'; runId: string };

export type { ProjectRole };

/** What a route needs; each maps to the least role that may do it. */
export type Access = 'read' | 'write' | 'manage' | 'own';

export const leastRole: Record<Access, ProjectRole> = {
  read: 'viewer',
  write: 'editor',
  manage: 'admin',
  own: 'owner',
};

const order: ProjectRole[] = ['viewer', 'editor', 'admin', 'owner'];

export function roleAllows(role: ProjectRole, access: Access): boolean {
  return order.indexOf(role) >= order.indexOf(leastRole[access]);
}

/**
 * The (userId, runId) pair the SQL authorization functions take. Destructure it into a query's
 * parameters (`{ userId, runId, projectId }`) rather than spreading it: on Node 20's V8 an object
 * literal that starts with a spread and goes on with more properties takes a slow path (~1 µs,
 * and an object in dictionary mode); in-process A/B runs measured 1-6 % of a GET's server-thread
 * CPU for the one in the data API's resolve (bench/README.md, Tuning).
 */
export function principalIds(p: Principal): { userId: string | null; runId: string | null } {
  return p.kind === 'user' ? { userId: p.userId, runId: null } : { userId: null, runId: p.runId };
}
