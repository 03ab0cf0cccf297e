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

/**
 * A collection made through the API, filled by SQL with `items` items `key-1`, `key-2`, …
 * whose values are `md5Repeats` × 32 characters: the big collections stream tests need.
 */
export async function createFilledCollection(
  s: TestServer,
  owner: TestUser,
  projectId: string,
  name: string,
  items: number,
  md5Repeats: number,
): Promise<void> {
  await ok(s.request(`/api/projects/${projectId}/collections`, { method: 'POST', token: owner.token, json: { name } }));
  await s.sql`
    insert into app.items (collection_id, project_id, key, value)
    select c.id, c.project_id, 'key-' || g, repeat(md5(g::text), ${md5Repeats}::int)
      from app.collections c, generate_series(1, ${items}::int) g
     where c.project_id = ${projectId} and c.name = ${name}`;
  await s.sql`vacuum analyze app.items`;
}
