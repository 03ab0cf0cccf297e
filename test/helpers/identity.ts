import { randomUUID } from 'node:crypto';
import { createUser } from '../../sql/identity.queries.ts';
import type { TestServer } from './server.ts';

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

/** A user with a fresh personal access token (90 days). */
export async function createTestUser(s: TestServer, options: { email?: string; superuser?: boolean } = {}): Promise<TestUser> {
  const email = options.email ?? `user-${randomUUID()}@example.test`;
  const [user] = await createUser.run({ email, isSuperuser: options.superuser ?? false }, s.db.conn);
  const issued = await s.service.auth.issuePersonalToken(user!.id, 'test', 90);
  return { id: user!.id, email: user!.email, token: issued.token };
}

/** Asserts a 2xx and returns the JSON body. */
export async function ok<T = any>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  const text = await r.text();
  if (r.status < 200 || r.status > 299) throw new Error(`expected 2xx, got ${r.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface TestProject {
  id: string;
  name: string;
  parent_id: string | null;
}

export async function createTestProject(s: TestServer, owner: TestUser, name = `project-${randomUUID().slice(0, 8)}`): Promise<TestProject> {
  return ok(s.request('/api/projects', { method: 'POST', token: owner.token, json: { name } }));
}

export async function createTestSandbox(s: TestServer, owner: TestUser, parentId: string, name = `sandbox-${randomUUID().slice(0, 8)}`): Promise<TestProject> {
  return ok(s.request(`/api/projects/${parentId}/sandboxes`, { method: 'POST', token: owner.token, json: { name } }));
}

export async function addMember(s: TestServer, actor: TestUser, projectId: string, member: TestUser, role: string): Promise<void> {
  await ok(s.request(`/api/projects/${projectId}/members`, { method: 'POST', token: actor.token, json: { email: member.email, role } }));
}

/** A run in `projectId` and its run token. */
export async function createTestRun(s: TestServer, actor: TestUser, projectId: string): Promise<{ id: string; token: string }> {
  const run = await ok<{ id: string; token: string }>(s.request(`/api/projects/${projectId}/runs`, { method: 'POST', token: actor.token, json: {} }));
  return run;
}
