import { randomUUID } from 'node:crypto';
import type { TestUser } from './identity.ts';
import { createTestUser } from './identity.ts';
import type { TestServer } from './server.ts';

/** The callers every project-scoped route is tried with. */
export const callers = ['owner', 'admin', 'editor', 'viewer', 'nonMember', 'runThis', 'runOther', 'none'] as const;
export type Caller = (typeof callers)[number];

/** What a route needs: a role in the addressed project, a personal token, both, or nothing. */
export type Access = 'read' | 'write' | 'manage' | 'own' | 'user' | 'public' | 'write-user';

const roleOf: Partial<Record<Caller, number>> = { viewer: 0, editor: 1, runThis: 1, admin: 2, owner: 3 };
const needed: Record<'read' | 'write' | 'manage' | 'own', number> = { read: 0, write: 1, manage: 2, own: 3 };

/** The status a caller must get: success, 403 (reaches the project, too small a role), 404 (does not reach it), 401. */
export function expectedStatus(access: Access, caller: Caller, success: number): number {
  if (access === 'public') return success;
  // Editor or above, with a personal token: a run token in the project is refused, one elsewhere does not reach it.
  if (access === 'write-user') return caller === 'runThis' ? 403 : expectedStatus('write', caller, success);
  if (caller === 'none') return 401;
  if (access === 'user') return caller === 'runThis' || caller === 'runOther' ? 403 : success;
  const role = roleOf[caller];
  if (role === undefined) return 404;
  return role >= needed[access] ? success : 403;
}

/** A fresh project with one member per role, a run in it, and a run in another project. */
export interface Fixture {
  projectId: string;
  otherProjectId: string;
  users: Record<'owner' | 'admin' | 'editor' | 'viewer' | 'nonMember', TestUser>;
  tokens: Record<Caller, string | undefined>;
}

export async function createUsers(s: TestServer): Promise<Fixture['users']> {
  const [owner, admin, editor, viewer, nonMember] = await Promise.all(
    Array.from({ length: 5 }, () => createTestUser(s)),
  );
  return { owner: owner!, admin: admin!, editor: editor!, viewer: viewer!, nonMember: nonMember! };
}

/** Built in SQL (one round trip each) so hundreds of fixtures stay cheap. */
export async function createFixture(s: TestServer, users: Fixture['users']): Promise<Fixture> {
  const projectId = randomUUID();
  const otherProjectId = randomUUID();
  const runThis = randomUUID();
  const runOther = randomUUID();
  await s.sql.begin(async (tx) => {
    await tx`insert into app.projects (id, name) values (${projectId}, 'matrix'), (${otherProjectId}, 'matrix-other')`;
    await tx`
      insert into app.project_users (project_id, user_id, role) values
        (${projectId}, ${users.owner.id}, 'owner'), (${projectId}, ${users.admin.id}, 'admin'),
        (${projectId}, ${users.editor.id}, 'editor'), (${projectId}, ${users.viewer.id}, 'viewer'),
        (${otherProjectId}, ${users.nonMember.id}, 'owner')`;
    await tx`insert into app.runs (id, project_id) values (${runThis}, ${projectId}), (${runOther}, ${otherProjectId})`;
  });
  const auth = s.service.auth;
  return {
    projectId,
    otherProjectId,
    users,
    tokens: {
      owner: users.owner.token,
      admin: users.admin.token,
      editor: users.editor.token,
      viewer: users.viewer.token,
      nonMember: users.nonMember.token,
      runThis: await auth.issueRunToken(runThis),
      runOther: await auth.issueRunToken(runOther),
      none: undefined,
    },
  };
}
