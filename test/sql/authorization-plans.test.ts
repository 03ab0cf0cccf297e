// Every request asks app.token_projects (or app.token_collections) inside its own query
// (ADR 9). Joined to a table rather than filtered by one project, the planner counts the
// superuser branch as every project; the audit at stop 19 found v1 addressing scanning every
// collection for any token, and stop 20 found the workflow and fleet routes hashing every
// project for a superuser. Here the hot authorizing queries run, exactly as the app sends
// them, in a database of 20,000 projects that share a collection name, once per kind of
// token, and may read only a handful of pages: a scan of projects or collections reads
// well over a hundred.
import test from 'ava';
import type { PreparedQuery } from '@pgtyped/runtime';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { resolveCollectionByName, resolveCollectionInProject } from '../../sql/collections.queries.ts';
import { projectRole } from '../../sql/identity.queries.ts';
import { createRelease, serverAccess } from '../../sql/fleet.queries.ts';
import { workflowAccess } from '../../sql/workflows.queries.ts';

const PROJECTS = 20_000;
// Measured: 1–8 pages a read, 30–36 for the release insert (its table, indexes and foreign
// keys); the scans this catches read 190–460.
const PAGE_BUDGET = 80;

let d: TestDatabase;
const ids = {} as Record<'member' | 'superuser' | 'run' | 'project' | 'server', string>;

test.before(async () => {
  d = await createTestDatabase();
  await d.sql`
    with p as (insert into app.projects (name) select 'plan-' || g from generate_series(1, ${PROJECTS}::int) g returning id)
    insert into app.collections (project_id, name) select id, 'patients' from p`;
  const [project] = await d.sql`select id from app.projects where name = 'plan-77'`;
  const [member] = await d.sql`insert into app.users (email) values ('member@example.test') returning id`;
  const [superuser] = await d.sql`insert into app.users (email, is_superuser) values ('root@example.test', true) returning id`;
  await d.sql`insert into app.project_users (project_id, user_id, role) values (${project!.id}, ${member!.id}, 'editor')`;
  const [run] = await d.sql`insert into app.runs (project_id) values (${project!.id}) returning id`;
  const [server] = await d.sql`insert into app.servers (project_id, name) values (${project!.id}, 'web') returning id`;
  Object.assign(ids, { member: member!.id, superuser: superuser!.id, run: run!.id, project: project!.id, server: server!.id });
  await d.sql`vacuum analyze`;
});
test.after.always(() => d?.drop());

/** The statement and bindings a generated query sends, without running it. */
async function statementOf<P>(query: PreparedQuery<P, unknown>, params: P): Promise<{ sql: string; bindings: unknown[] }> {
  let sent: { sql: string; bindings: unknown[] } | undefined;
  await query.run(params, { query: async (sql: string, bindings: unknown[]) => ((sent = { sql, bindings }), { rows: [], rowCount: 0 }) });
  return sent!;
}

/** Pages read by one execution, as the prepared statement's custom plan (the app's first five runs). */
async function pagesRead(sql: string, bindings: unknown[]): Promise<{ pages: number; plan: string }> {
  // explain analyze runs the statement: a write (createRelease) is rolled back.
  let result: { pages: number; plan: string } | undefined;
  await d.sql
    .begin(async (tx) => {
      const [row] = await tx.unsafe(`explain (analyze, buffers, format json) ${sql}`, bindings as never[]);
      const plan = (row!['QUERY PLAN'] as [{ Plan: Record<string, number> }])[0].Plan;
      result = { pages: plan['Shared Hit Blocks']! + plan['Shared Read Blocks']!, plan: JSON.stringify(plan) };
      throw new Error('rollback');
    })
    .catch((error: Error) => {
      if (error.message !== 'rollback') throw error;
    });
  return result!;
}

const tokens = [
  ['a member', () => ({ userId: ids.member, runId: null })],
  ['a superuser', () => ({ userId: ids.superuser, runId: null })],
  ['a run token', () => ({ userId: null, runId: ids.run })],
] as const;

const queries = [
  ['v1 addressing (resolveCollectionByName)', (t: Tok) => statementOf(resolveCollectionByName, { ...t, name: 'patients', projectId: null, key: 'k' })],
  ['v1 addressing with ?project_id=', (t: Tok) => statementOf(resolveCollectionByName, { ...t, name: 'patients', projectId: ids.project, key: 'k' })],
  ['v2 addressing (resolveCollectionInProject)', (t: Tok) => statementOf(resolveCollectionInProject, { ...t, projectId: ids.project, name: 'patients', key: 'k' })],
  ['a project route (projectRole)', (t: Tok) => statementOf(projectRole, { ...t, projectId: ids.project })],
  ['a workflow route (workflowAccess)', (t: Tok) => statementOf(workflowAccess, { ...t, projectId: ids.project, id: ids.project })],
  ['a release get (serverAccess)', (t: Tok) => statementOf(serverAccess, { ...t, serverId: ids.server, handle: 'v1' })],
  ['a release create (createRelease)', (t: Tok) => statementOf(createRelease, { ...t, serverId: ids.server, name: 'v1', releaseCommand: null, leastRole: 'editor' })],
] as const;
type Tok = { userId: string | null; runId: string | null };

for (const [query, statement] of queries) {
  for (const [token, principal] of tokens) {
    test(`${query} for ${token} reads a few pages among ${PROJECTS.toLocaleString('en')} projects`, async (t) => {
      const { sql, bindings } = await statement(principal());
      const { pages, plan } = await pagesRead(sql, bindings);
      t.true(pages <= PAGE_BUDGET, `${pages} pages: ${plan}`);
    });
  }
}
