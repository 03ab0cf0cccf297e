import type Router from '@koa/router';
import { z } from 'zod';
import {
  createProject,
  createRun,
  createSandbox,
  deleteProject,
  getProject,
  listAccessTokens,
  listMembers,
  listProjects,
  removeMember,
  revokeAccessToken,
  setMember,
} from '../../sql/identity.queries.ts';
import type { Deps } from '../http/deps.ts';
import { notFound } from '../http/errors.ts';
import { noQuery, parseBody, parseParam, uuidParam } from '../http/validate.ts';
import { principalIds } from './principal.ts';

const projectName = z.string().trim().min(1).max(255);

const newToken = z
  .object({
    name: z.string().max(255).default(''),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
    never_expires: z.boolean().default(false),
  })
  .strict()
  .refine((b) => !(b.never_expires && b.expires_in_days !== undefined), 'give expires_in_days or never_expires, not both');
const DEFAULT_PAT_DAYS = 90;

const newProject = z.object({ name: projectName }).strict();
const newMember = z.object({ email: z.string().min(3).max(254), role: z.enum(['viewer', 'editor', 'admin', 'owner']) }).strict();
const newRun = z.object({ workflow_id: uuidParam.nullable().optional() }).strict();

export function identityRoutes(router: Router, { db, auth }: Deps): void {
  // ---- personal access tokens (the caller's own) ----
  router.post('/api/tokens', noQuery, async (ctx) => {
    const user = await auth.requireUser(ctx);
    const body = parseBody(ctx, newToken);
    const days = body.never_expires ? null : (body.expires_in_days ?? DEFAULT_PAT_DAYS);
    const issued = await auth.issuePersonalToken(user.userId, body.name, days);
    ctx.status = 201;
    ctx.body = issued;
  });

  router.get('/api/tokens', noQuery, async (ctx) => {
    const user = await auth.requireUser(ctx);
    ctx.body = { tokens: await listAccessTokens.run({ userId: user.userId }, db.conn) };
  });

  router.delete('/api/tokens/:jti', noQuery, async (ctx) => {
    const user = await auth.requireUser(ctx);
    const jti = parseParam(ctx.params.jti, uuidParam, 'token');
    const [row] = await revokeAccessToken.run({ jti, userId: user.userId }, db.conn);
    if (!row) throw notFound('No such token.');
    auth.forgetToken(user.userId, jti);
    ctx.status = 204;
  });

  // ---- projects ----
  router.post('/api/projects', noQuery, async (ctx) => {
    const user = await auth.requireUser(ctx);
    const { name } = parseBody(ctx, newProject);
    const [project] = await createProject.run({ name, ownerId: user.userId }, db.conn);
    ctx.status = 201;
    ctx.body = project;
  });

  router.get('/api/projects', noQuery, async (ctx) => {
    const principal = await auth.authenticate(ctx);
    ctx.body = { projects: await listProjects.run(principalIds(principal), db.conn) };
  });

  router.get('/api/projects/:id', noQuery, async (ctx) => {
    const id = parseParam(ctx.params.id, uuidParam, 'project');
    const role = await auth.authorize(ctx, id, 'read');
    const [project] = await getProject.run({ id }, db.conn);
    if (!project) throw notFound('No such project.');
    ctx.body = { ...project, role };
  });

  router.delete('/api/projects/:id', noQuery, async (ctx) => {
    const id = parseParam(ctx.params.id, uuidParam, 'project');
    await auth.authorize(ctx, id, 'own');
    // Cascades to its sandboxes and every row they own (docs/adr/0005-project-deletion.md).
    await db.tx(async (tx) => deleteProject.run({ id }, tx), { pool: 'long' });
    ctx.status = 204;
  });

  // ---- members ----
  router.get('/api/projects/:id/members', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.id, uuidParam, 'project');
    await auth.authorize(ctx, projectId, 'read');
    ctx.body = { members: await listMembers.run({ projectId }, db.conn) };
  });

  router.post('/api/projects/:id/members', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.id, uuidParam, 'project');
    const actorRole = await auth.authorize(ctx, projectId, 'manage');
    const { email, role } = parseBody(ctx, newMember);
    const [member] = await db.tx((tx) => setMember.run({ projectId, email, role, actorRole }, tx));
    ctx.status = member!.created ? 201 : 200;
    ctx.body = { user_id: member!.user_id, email: member!.email, role: member!.role };
  });

  router.delete('/api/projects/:id/members/:user_id', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.id, uuidParam, 'project');
    const actorRole = await auth.authorize(ctx, projectId, 'manage');
    const userId = parseParam(ctx.params.user_id, uuidParam, 'member');
    const [row] = await db.tx((tx) => removeMember.run({ projectId, userId, actorRole }, tx));
    if (!row?.removed) throw notFound('No such member.');
    ctx.status = 204;
  });

  // ---- sandboxes and runs ----
  router.post('/api/projects/:id/sandboxes', noQuery, async (ctx) => {
    const parentId = parseParam(ctx.params.id, uuidParam, 'project');
    await auth.authorize(ctx, parentId, 'manage');
    const user = await auth.requireUser(ctx);
    const { name } = parseBody(ctx, newProject);
    const [sandbox] = await db.tx((tx) => createSandbox.run({ parentId, name, ownerId: user.userId }, tx), { pool: 'long' });
    ctx.status = 201;
    ctx.body = sandbox;
  });

  router.post('/api/projects/:id/runs', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.id, uuidParam, 'project');
    await auth.authorize(ctx, projectId, 'write');
    // A run token that could start runs could renew itself for ever: a leaked one would never expire.
    const user = await auth.requireUser(ctx);
    const body = parseBody(ctx, newRun);
    const [run] = await createRun.run(
      { projectId, workflowId: body.workflow_id ?? null, createdBy: user.userId },
      db.conn,
    );
    ctx.status = 201;
    ctx.body = { id: run!.id, token: await auth.issueRunToken(run!.id), options: { project_id: run!.project_id } };
  });
}
