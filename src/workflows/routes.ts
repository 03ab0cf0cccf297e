import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import {
  deleteWorkflow,
  listWorkflows,
  resetWorkflow,
  resolveWorkflow,
  saveWorkflow,
  workflowAccess,
  type IResolveWorkflowResult,
} from '../../sql/workflows.queries.ts';
import type { Deps } from '../http/deps.ts';
import { HttpError } from '../http/errors.ts';
import { noQuery, parseBody, parseParam, parseQuery, uuidParam } from '../http/validate.ts';
import type { Access } from '../identity/principal.ts';
import { principalIds } from '../identity/principal.ts';
import { requireProjectRole } from '../identity/auth.ts';

// Lowercased: the database prints uuids in lowercase, and ids are compared with what it returns.
const idParam = uuidParam.transform((s) => s.toLowerCase());

/** Generous for a workflow (Lightning's are a few kB), far below the 10 MB body limit. */
export const MAX_DEFINITION_BYTES = 1024 * 1024;
/** JSON.stringify and jsonb input both recurse: a deeper body would exhaust a stack (a 500) instead of a 422. */
export const MAX_DEFINITION_DEPTH = 64;

/** Nesting depth of a parsed JSON value, walked iteratively (the value may be deeper than the stack). */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * What PostgreSQL makes of a JSON text that JSON.parse has already accepted (so its
 * grammar needs no checking here): how deep it nests, and how many bytes more its
 * numbers can print as jsonb than JSON.stringify prints them. JSON.parse rounds numbers
 * to doubles (a 400-digit literal prints as 1e+399, 1e400 as null); jsonb keeps them
 * exactly and prints them in full, so 1e131071 arrives as 9 bytes and reads back as
 * 131,072. A number prints in at most its own length plus the size of its exponent.
 */
function scanJsonText(text: string): { depth: number; numberSlack: number } {
  let depth = 0;
  let maxDepth = 0;
  let numberSlack = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if (c === 0x7b || c === 0x5b) {
      maxDepth = Math.max(maxDepth, ++depth);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const end = numberEnd(text, i);
      const token = text.slice(i, end);
      const exponent = /[eE]([+-]?\d+)$/.exec(token)?.[1];
      const printed = token.length + (exponent === undefined ? 0 : Math.abs(Number(exponent)));
      numberSlack += Math.max(0, printed - JSON.stringify(Number(token)).length);
      i = end - 1;
    }
  }
  return { depth: maxDepth, numberSlack };
}

/** Where the JSON number starting at `start` ends: its characters are digits, - + . e E. */
function numberEnd(text: string, start: number): number {
  let end = start + 1;
  for (; end < text.length; end++) {
    const c = text.charCodeAt(end);
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45)) break;
  }
  return end;
}

const definition = z.record(z.string(), z.unknown()).superRefine((d, ctx) => {
  // Depth first: measuring the size with JSON.stringify is only safe once the depth is known to be small.
  if (depthExceeds(d, MAX_DEFINITION_DEPTH)) {
    ctx.addIssue({ code: 'custom', message: `nested deeper than ${MAX_DEFINITION_DEPTH} levels` });
  } else if (Buffer.byteLength(JSON.stringify(d)) > MAX_DEFINITION_BYTES) {
    ctx.addIssue({ code: 'custom', message: `larger than ${MAX_DEFINITION_BYTES} bytes of JSON` });
  }
});

// action stays a free string: the resolver is the authority on actions (SB422 invalid_action).
const saveBody = z
  .object({
    action: z.string().max(64),
    name: z.string().trim().min(1).max(255).regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
    definition,
    lock_version: z.number().int().min(1).max(2_147_483_647).nullable().optional(),
  })
  .strict();

const getQuery = z.object({ version: z.string().regex(/^\d{1,9}$/, 'must be a positive integer').transform(Number).optional() }).strict();
const listQuery = z.object({ include_deleted: z.enum(['true', 'false']).optional() }).strict();

function workflowNotFound(id: string, projectId: string): HttpError {
  // Word for word what app.resolve_workflow raises, so a foreign id cannot be told from an unknown one.
  return new HttpError(404, 'workflow_not_found', `No workflow ${id} in project ${projectId}.`);
}

/**
 * The request's JSON text, which the save hands to PostgreSQL to parse (sql/workflows.sql),
 * held to the limits its parsed form passed. jsonb parses all of it, a key JSON.parse
 * dropped as a duplicate too (both keep only the last), and keeps numbers JSON.parse rounded.
 */
function rawSaveBody(ctx: Context, parsedDefinition: Record<string, unknown>): string {
  const raw = ctx.request.rawBody;
  // Never re-serialize the parsed body instead: that is what rounded the numbers.
  if (raw === undefined) throw new Error('jsonBody() kept no raw text for a parsed body');
  const { depth, numberSlack } = scanJsonText(raw);
  // One level more than a definition: the body object around it. PostgreSQL's JSON parser
  // recurses, so a deeper duplicate would exhaust its stack (a 500) instead of a 422.
  if (depth > MAX_DEFINITION_DEPTH + 1) {
    throw new HttpError(422, 'invalid', `The body is nested deeper than ${MAX_DEFINITION_DEPTH + 1} levels.`);
  }
  if (numberSlack > 0 && Buffer.byteLength(JSON.stringify(parsedDefinition)) + numberSlack > MAX_DEFINITION_BYTES) {
    throw new HttpError(422, 'invalid', `definition: larger than ${MAX_DEFINITION_BYTES} bytes of JSON`);
  }
  return raw;
}

/**
 * Answers JSON whose definition is PostgreSQL's own text of the jsonb, spliced in as is:
 * through JS objects its numbers would be rounded to doubles on the way out.
 */
function respondWithDefinition(ctx: Context, fields: Record<string, unknown>, definitionJson: string): void {
  ctx.body = `${JSON.stringify(fields).slice(0, -1)},"definition":${definitionJson}}`;
  ctx.type = 'application/json';
}

function resolvedFields(row: IResolveWorkflowResult) {
  return {
    kind: row.kind,
    id: row.id,
    project_id: row.project_id,
    name: row.name,
    lock_version: row.lock_version,
    version: row.version,
    deleted_at: row.deleted_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function workflowsRoutes(router: Router, { db, auth }: Deps): void {
  /**
   * The project a workflow id really belongs to, checked before the caller is
   * authorized for the path's project (issue 7: resolve, then authorize what
   * was found). An id of another project is wrong_project (403) only to a token
   * that reaches that project; to any other token it is exactly an unknown id.
   * Leaves the caller authorized for `access` on `projectId` unless it throws;
   * with `roleFirst` (creating needs no workflow) the role is checked before the id.
   * Known gap: an id first saved into another project between this lookup and
   * the save itself reaches the resolver's wrong_project unfiltered; ids are
   * random uuids chosen by clients, so that needs a guessed id and a race.
   */
  async function authorizeFound(ctx: Context, projectId: string, id: string, access: Access, roleFirst = false): Promise<void> {
    const { userId, runId } = principalIds(await auth.authenticate(ctx));
    const [found] = await workflowAccess.run({ id, projectId, userId, runId }, db.conn);
    const { role, owner_project_id: owner, reaches_owner: reachesOwner } = found!;
    if (roleFirst) requireProjectRole(role, access);
    if (owner != null && owner !== projectId) {
      // The resolver raises wrong_project; only a token that reaches the other project may hear it.
      if (reachesOwner) await resolveWorkflow.run({ id, action: 'edit', projectId, version: null }, db.conn);
      requireProjectRole(role, access);
      throw workflowNotFound(id, projectId);
    }
    requireProjectRole(role, access);
  }

  router.get('/api/projects/:project_id/workflows', async (ctx) => {
    const projectId = parseParam(ctx.params.project_id, idParam, 'project');
    const query = parseQuery(ctx, listQuery);
    await auth.authorize(ctx, projectId, 'read');
    const rows = await listWorkflows.run({ projectId, includeDeleted: query.include_deleted === 'true' }, db.conn);
    ctx.body = { workflows: rows };
  });

  router.get('/api/projects/:project_id/workflows/:id', async (ctx) => {
    const projectId = parseParam(ctx.params.project_id, idParam, 'project');
    const id = parseParam(ctx.params.id, idParam, 'workflow');
    const { version } = parseQuery(ctx, getQuery);
    await authorizeFound(ctx, projectId, id, 'read');
    const [row] = await resolveWorkflow.run(
      { id, action: version === undefined ? 'edit' : 'version', projectId, version: version ?? null },
      db.conn,
    );
    respondWithDefinition(ctx, resolvedFields(row!), row!.definition!);
  });

  router.put('/api/projects/:project_id/workflows/:id', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.project_id, idParam, 'project');
    const id = parseParam(ctx.params.id, idParam, 'workflow');
    const body = parseBody(ctx, saveBody);
    const rawBody = rawSaveBody(ctx, body.definition);
    // Creating needs no workflow to be found: ask first whether this token may create in this project.
    await authorizeFound(ctx, projectId, id, 'write', body.action === 'new');
    const [saved] = await db.statement((conn) =>
      saveWorkflow.run(
        {
          id,
          action: body.action,
          projectId,
          name: body.name,
          body: rawBody,
          lockVersion: body.lock_version ?? null,
        },
        conn,
      ),
    );
    ctx.status = saved!.kind === 'new' ? 201 : 200;
    ctx.body = {
      kind: saved!.kind,
      id: saved!.id,
      project_id: saved!.project_id,
      name: saved!.name,
      lock_version: saved!.lock_version,
      created_at: saved!.created_at,
      updated_at: saved!.updated_at,
    };
  });

  router.delete('/api/projects/:project_id/workflows/:id', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.project_id, idParam, 'project');
    const id = parseParam(ctx.params.id, idParam, 'workflow');
    await authorizeFound(ctx, projectId, id, 'write');
    await deleteWorkflow.run({ id, projectId }, db.conn);
    ctx.status = 204;
  });

  router.post('/api/projects/:project_id/workflows/:id/reset', noQuery, async (ctx) => {
    const projectId = parseParam(ctx.params.project_id, idParam, 'project');
    const id = parseParam(ctx.params.id, idParam, 'workflow');
    await authorizeFound(ctx, projectId, id, 'write');
    const [row] = await resetWorkflow.run({ id, projectId }, db.conn);
    const { definition, ...fields } = row!;
    respondWithDefinition(ctx, fields, definition);
  });
}
