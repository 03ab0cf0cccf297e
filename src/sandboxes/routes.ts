import type Router from '@koa/router';
import { z } from 'zod';
import {
  mergePreview,
  mergeSandbox,
  resolveMergeTarget,
  type IMergePreviewResult,
} from '../../sql/sandboxes.queries.ts';
import type { Deps } from '../http/deps.ts';
import { noQuery, parseBody, parseParam, parseQuery, uuidParam } from '../http/validate.ts';

const previewQuery = z.object({ target: uuidParam.optional() }).strict();
const mergeBody = z.object({ target_id: uuidParam.nullable().optional() }).strict();

/** How many collection names a warning spells out before it says "and N more". */
const WARNING_NAMES = 10;

interface DeletedCollection {
  name: string;
  item_count: number;
  byte_size: number;
}

/**
 * Merging a sandbox makes an ancestor's collection names match the sandbox's
 * (app.merge_sandbox); items never move. Access: the merge changes the target
 * only, so it needs 'manage' there and merely 'read' on the sandbox. The
 * preview changes nothing and shows only names and counts that any viewer of
 * the target can already list, so it needs 'read' on both.
 */
export function sandboxesRoutes(router: Router, { db, auth }: Deps): void {
  router.get('/api/projects/:sandbox_id/merge-preview', async (ctx) => {
    const sandboxId = parseParam(ctx.params.sandbox_id, uuidParam, 'project');
    // The query before the token, as on every route that takes one (errors.md: 400 before 401).
    const { target } = parseQuery(ctx, previewQuery);
    await auth.authorize(ctx, sandboxId, 'read');
    const [resolved] = await resolveMergeTarget.run({ sandboxId, targetId: target ?? null }, db.conn);
    const targetId = resolved!.target_id;
    await auth.authorize(ctx, targetId, 'read');
    const rows = await mergePreview.run({ sandboxId, targetId }, db.conn);
    const toCreate = rows.filter((r) => r.action === 'create').map((r) => r.name);
    const toDelete = rows.filter((r) => r.action === 'delete').map(deletedCollection);
    ctx.body = {
      sandbox_id: sandboxId,
      target_id: targetId,
      to_create: toCreate,
      to_delete: toDelete,
      warning: mergeWarning(toCreate, toDelete),
    };
  });

  router.post('/api/projects/:sandbox_id/merge', noQuery, async (ctx) => {
    const sandboxId = parseParam(ctx.params.sandbox_id, uuidParam, 'project');
    await auth.authorize(ctx, sandboxId, 'read');
    const body = parseBody(ctx, mergeBody);
    const [resolved] = await resolveMergeTarget.run({ sandboxId, targetId: body.target_id ?? null }, db.conn);
    const targetId = resolved!.target_id;
    await auth.authorize(ctx, targetId, 'manage');
    const principal = await auth.authenticate(ctx);
    const actorId = principal.kind === 'user' ? principal.userId : null;
    // Deleting collections cascades to all their items: long work, off the hot pool.
    const rows = await db.tx((tx) => mergeSandbox.run({ sandboxId, targetId, actorId }, tx), { pool: 'long' });
    ctx.body = {
      sandbox_id: sandboxId,
      target_id: targetId,
      created: rows.filter((r) => r.action === 'created').map((r) => r.name),
      deleted: rows.filter((r) => r.action === 'deleted').map(deletedCollection),
    };
  });
}

// int8 arrives as a string; counts and sizes stay far below 2^53.
function deletedCollection(r: IMergePreviewResult): DeletedCollection {
  return { name: r.name, item_count: Number(r.item_count), byte_size: Number(r.byte_size) };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function listNames(names: string[]): string {
  const shown = names.slice(0, WARNING_NAMES).join(', ');
  return names.length > WARNING_NAMES ? `${shown} and ${names.length - WARNING_NAMES} more` : shown;
}

/** The consequence of a merge in words, for a person to confirm before merging. */
export function mergeWarning(toCreate: string[], toDelete: DeletedCollection[]): string {
  if (toCreate.length === 0 && toDelete.length === 0) {
    return 'Merging changes nothing: the target already has exactly the collections of the sandbox. Items are never copied.';
  }
  const parts: string[] = [];
  if (toCreate.length > 0) {
    parts.push(
      `Merging will create ${plural(toCreate.length, 'new collection')} in the target, empty (items in the sandbox are not copied): ${listNames(toCreate)}.`,
    );
  }
  if (toDelete.length > 0) {
    const items = toDelete.reduce((sum, c) => sum + c.item_count, 0);
    const bytes = toDelete.reduce((sum, c) => sum + c.byte_size, 0);
    parts.push(
      `Merging will permanently delete ${plural(toDelete.length, 'collection')} missing from the sandbox from the target, including ${plural(items, 'item')} (${plural(bytes, 'byte')}): ${listNames(toDelete.map((c) => c.name))}. This cannot be undone.`,
    );
  }
  return parts.join(' ');
}
