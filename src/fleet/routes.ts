import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import {
  createRelease,
  createServer,
  deleteRelease,
  findHandleHolder,
  findPatchHandleHolder,
  listReleases,
  listServers,
  serverAccess,
  updateRelease,
} from '../../sql/fleet.queries.ts';
import type { Deps } from '../http/deps.ts';
import { conflict, forbidden, notFound } from '../http/errors.ts';
import { noQuery, parseBody, parseParam, uuidParam } from '../http/validate.ts';
import { leastRole, principalIds, roleAllows, type Access } from '../identity/principal.ts';

const newServer = z.object({ name: z.string().trim().min(1).max(255) }).strict();

// The database checks these too (releases_* constraints); here they get a readable message.
const releaseName = z.string().max(255).refine((n) => !n.includes('/'), 'a release name is a handle and may not contain "/"');
const releaseCommand = z
  .string()
  .max(4096)
  .refine((c) => !c.endsWith('/'), 'a release command names a file, so it may not end with "/"');
const releaseFields = { name: releaseName.nullable().optional(), release_command: releaseCommand.nullable().optional() };
// Allow-listed: id, server_id, effective_handle, timestamps in a body are unknown keys → 422.
const newRelease = z.object(releaseFields).strict();
const releasePatch = z
  .object(releaseFields)
  .strict()
  .refine((b) => b.name !== undefined || b.release_command !== undefined, 'give name, release_command or both');

// Any string a client can put in a path segment, except what can name no handle (NUL cannot be stored).
const handleParam = z.string().min(1).max(4096).refine((h) => !h.includes('\0'));

interface HandleHolder {
  id: string;
  name: string | null;
  release_command: string | null;
}

/**
 * The friendly 409 of the pre-check. The unique index stays the guarantee: a
 * create that slips past this under concurrency gets 23505 → the generic 409.
 */
function handleTaken(handle: string, byName: boolean, holder: HandleHolder) {
  const held = holder.name ? `its name` : `the basename of its release command ${JSON.stringify(holder.release_command)}`;
  const message = byName
    ? `The handle ${JSON.stringify(handle)} is already held by release ${holder.id} on this server (${held}); choose another name.`
    : `The release command's basename ${JSON.stringify(handle)} is already the handle of release ${holder.id} on this server (${held}); set an explicit name for this release.`;
  return conflict(message, { effective_handle: handle, conflicting_release_id: holder.id });
}

const serverNotFound = () => notFound('No such server.');
const tooSmall = (access: Access) => forbidden(`This needs the ${access} permission on the server's project.`);

export function fleetRoutes(router: Router, deps: Deps): void {
  const { db, auth } = deps;

  /**
   * Routes under /api/servers/:server_id address a server, not a project: its
   * project and the caller's role there come from one query, and a server in a
   * project the token cannot reach is as absent as one that does not exist.
   */
  async function authorizeServer(ctx: Context, access: Access, handle: string | null = null) {
    const serverId = parseParam(ctx.params.server_id, uuidParam, 'server');
    const { userId, runId } = principalIds(await auth.authenticate(ctx));
    const [row] = await serverAccess.run({ serverId, userId, runId, handle }, db.conn);
    if (!row) throw serverNotFound();
    if (!roleAllows(row.role, access)) throw tooSmall(access);
    return { serverId, projectId: row.project_id, row };
  }

  // ---- servers ----
  router.post('/api/projects/:project_id/servers', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.project_id, uuidParam, 'project');
    await auth.authorize(ctx, projectId, 'manage');
    const { name } = parseBody(ctx, newServer);
    const [server] = await createServer.run({ projectId, name }, db.conn);
    ctx.status = 201;
    ctx.body = server;
  });

  router.get('/api/projects/:project_id/servers', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.project_id, uuidParam, 'project');
    await auth.authorize(ctx, projectId, 'read');
    ctx.body = { servers: await listServers.run({ projectId }, db.conn) };
  });

  // ---- releases ----
  router.post('/api/servers/:server_id/releases', noQuery, async (ctx) => {
    const serverId = parseParam(ctx.params.server_id, uuidParam, 'server');
    const { userId, runId } = principalIds(await auth.authenticate(ctx));
    const body = parseBody(ctx, newRelease);
    const name = body.name ?? null;
    const releaseCommand = body.release_command ?? null;
    let row;
    try {
      // One round trip when it succeeds; the holder is looked up only for the 409's message.
      [row] = await createRelease.run({ serverId, userId, runId, leastRole: leastRole.write, name, releaseCommand }, db.conn);
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      const [holder] = await findHandleHolder.run({ serverId, name, releaseCommand }, db.conn);
      // Gone again already: the generic 409 of the error map.
      if (!holder) throw error;
      throw handleTaken(holder.effective_handle, !!name, holder);
    }
    if (!row) throw serverNotFound();
    if (row.id === null) throw tooSmall('write');
    const { role: _role, ...release } = row;
    ctx.status = 201;
    ctx.body = release;
  });

  router.get('/api/servers/:server_id/releases', noQuery, async (ctx) => {
    const { serverId } = await authorizeServer(ctx, 'read');
    ctx.body = { releases: await listReleases.run({ serverId }, db.conn) };
  });

  router.get('/api/servers/:server_id/releases/:handle', noQuery, async (ctx) => {
    // A handle that can name no release still gets the server's 404/403 first.
    const parsed = handleParam.safeParse(ctx.params.handle);
    const { serverId, row } = await authorizeServer(ctx, 'read', parsed.success ? parsed.data : null);
    if (row.release_id === null) throw notFound('No such release.');
    ctx.body = {
      id: row.release_id,
      server_id: serverId,
      name: row.release_name,
      release_command: row.release_command,
      effective_handle: row.release_handle,
      created_at: row.release_created_at,
      updated_at: row.release_updated_at,
    };
  });

  router.patch('/api/servers/:server_id/releases/:id', noQuery, async (ctx) => {
    const { serverId } = await authorizeServer(ctx, 'write');
    const id = parseParam(ctx.params.id, uuidParam, 'release');
    const body = parseBody(ctx, releasePatch);
    const patch = {
      serverId,
      id,
      setName: body.name !== undefined,
      name: body.name ?? null,
      setReleaseCommand: body.release_command !== undefined,
      releaseCommand: body.release_command ?? null,
    };
    const [check] = await findPatchHandleHolder.run(patch, db.conn);
    if (!check) throw notFound('No such release.');
    if (check.holder_id && check.handle !== null) {
      throw handleTaken(check.handle, check.by_name, {
        id: check.holder_id,
        name: check.holder_name,
        release_command: check.holder_release_command,
      });
    }
    const [release] = await updateRelease.run(patch, db.conn);
    if (!release) throw notFound('No such release.');
    ctx.body = release;
  });

  router.delete('/api/servers/:server_id/releases/:id', noQuery, async (ctx) => {
    const { serverId } = await authorizeServer(ctx, 'write');
    const id = parseParam(ctx.params.id, uuidParam, 'release');
    const [row] = await deleteRelease.run({ serverId, id }, db.conn);
    if (!row) throw notFound('No such release.');
    ctx.status = 204;
  });
}
