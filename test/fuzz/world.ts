/**
 * The data a fuzz run aims at: a target project whose members hold the fuzzer's
 * tokens (re-seeded as the fuzzer erodes it) and a victim project that no
 * fuzzer token reaches, whose rows must come out of the run unchanged.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createTestProject, createTestUser, type TestUser } from '../helpers/identity.ts';
import type { TestServer } from '../helpers/server.ts';

export interface Seeded {
  projectId: string;
  sandboxId: string;
  collection: string;
  itemKey: string;
  workflowId: string;
  serverId: string;
  releaseId: string;
  handle: string;
  runToken: string;
}

export type Role = 'owner' | 'admin' | 'editor' | 'viewer' | 'nonMember';

/** Seeds a project with one of everything (in SQL, one round trip per table) and gives `members` their roles in it. */
export async function seedProject(s: TestServer, owner: TestUser, members: Partial<Record<Role, TestUser>> = {}, items = 50): Promise<Seeded> {
  const project = await createTestProject(s, owner, `fuzz-${randomUUID().slice(0, 8)}`);
  const projectId = project.id;
  const collection = 'fuzz-items';
  const handle = `rel-${randomUUID().slice(0, 8)}`;
  const workflowId = randomUUID();
  const runId = randomUUID();
  let sandboxId = '';
  let serverId = '';
  let releaseId = '';
  await s.sql.begin(async (tx) => {
    for (const [role, user] of Object.entries(members)) {
      if (role === 'owner' || role === 'nonMember' || !user) continue;
      await tx`insert into app.project_users (project_id, user_id, role) values (${projectId}, ${user.id}, ${role})`;
    }
    const [c] = await tx<[{ id: string }]>`insert into app.collections (project_id, name) values (${projectId}, ${collection}) returning id`;
    await tx`insert into app.items (collection_id, project_id, key, value)
             select ${c.id}, ${projectId}, 'key-' || i, '{"n":' || i || '}' from generate_series(1, ${items}::int) i`;
    await tx`insert into app.collections (project_id, name) values (${projectId}, 'fuzz-empty')`;
    const [sb] = await tx<[{ id: string }]>`select id from app.create_sandbox(${projectId}, 'fuzz-sandbox', ${owner.id})`;
    sandboxId = sb.id;
    const [srv] = await tx<[{ id: string }]>`insert into app.servers (project_id, name) values (${projectId}, 'fuzz-server') returning id`;
    serverId = srv.id;
    const [rel] = await tx<[{ id: string }]>`
      insert into app.releases (server_id, project_id, name, release_command) values (${serverId}, ${projectId}, ${handle}, '/bin/run.sh') returning id`;
    releaseId = rel.id;
    await tx`insert into app.runs (id, project_id) values (${runId}, ${projectId})`;
  });
  const res = await s.request(`/api/projects/${projectId}/workflows/${workflowId}`, {
    method: 'PUT',
    token: owner.token,
    json: { action: 'new', name: 'fuzz-workflow', definition: { steps: [{ id: 'a' }] } },
  });
  if (res.status !== 201) throw new Error(`seeding a workflow: ${res.status} ${await res.text()}`);
  return {
    projectId,
    sandboxId,
    collection,
    itemKey: 'key-1',
    workflowId,
    serverId,
    releaseId,
    handle,
    runToken: await s.service.auth.issueRunToken(runId),
  };
}

/** One checksum over every row a project (and its sandboxes) owns. */
export async function projectChecksum(s: TestServer, projectId: string): Promise<{ md5: string; rows: number }> {
  const [row] = await s.sql<[{ md5: string | null; rows: string }]>`
    with recursive tree (id) as (
      select ${projectId}::uuid
      union all select p.id from app.projects p join tree on p.parent_id = tree.id
    ), everything (r) as (
      select 'project' || row(p.*)::text from app.projects p where p.id in (select id from tree)
      union all select 'member' || row(m.*)::text from app.project_users m where m.project_id in (select id from tree)
      union all select 'collection' || row(c.*)::text from app.collections c where c.project_id in (select id from tree)
      union all select 'item' || row(i.*)::text from app.items i where i.project_id in (select id from tree)
      union all select 'workflow' || row(w.*)::text from app.workflows w where w.project_id in (select id from tree)
      union all select 'snapshot' || row(ws.*)::text from app.workflow_snapshots ws join app.workflows w on w.id = ws.workflow_id
                 where w.project_id in (select id from tree)
      union all select 'audit' || row(a.*)::text from app.audit_events a where a.project_id in (select id from tree)
      union all select 'server' || row(v.*)::text from app.servers v where v.project_id in (select id from tree)
      union all select 'release' || row(r.*)::text from app.releases r where r.project_id in (select id from tree)
      union all select 'run' || row(r.*)::text from app.runs r where r.project_id in (select id from tree)
    )
    select md5(string_agg(r, E'\n' order by r)) as md5, count(*) as rows from everything`;
  return { md5: row.md5 ?? '', rows: Number(row.rows) };
}

export interface RawRequest {
  method: string;
  path: string;
  /** Values that are arrays become repeated header lines. */
  headers: Record<string, string | string[]>;
  body?: Buffer | string;
}

export interface RawResponse {
  status: number;
  contentType: string | null;
  body: string;
  /** Set when no HTTP answer came (reset, timeout). */
  error?: string;
}

/**
 * node:http rather than fetch: fetch normalises what a hostile client would
 * not (it merges repeated headers, refuses some names, encodes paths).
 */
export function sendRaw(baseUrl: string, agent: http.Agent, r: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (x: RawResponse) => {
      if (!settled) {
        settled = true;
        resolve(x);
      }
    };
    const req = http.request(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, headers: r.headers, agent, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        const contentType = res.headers['content-type'] ?? null;
        res.on('end', () => done({ status: res.statusCode ?? 0, contentType, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => done({ status: res.statusCode ?? 0, contentType, body: Buffer.concat(chunks).toString('utf8'), error: String(e) }));
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (e) => done({ status: 0, contentType: null, body: '', error: String(e) }));
    if (r.body !== undefined) req.end(r.body);
    else req.end();
  });
}

export async function fuzzUsers(s: TestServer): Promise<Record<Role, TestUser>> {
  const [owner, admin, editor, viewer, nonMember] = await Promise.all(Array.from({ length: 5 }, () => createTestUser(s)));
  return { owner: owner!, admin: admin!, editor: editor!, viewer: viewer!, nonMember: nonMember! };
}
