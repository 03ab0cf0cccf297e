--! Previous: sha1:6944c432b773eeb6b5f39d813a36f408da540d39
--! Hash: sha1:c358a86e446bdec3c58b9edc64aa9ceb9c2d42f9
--! Message: merge_sandbox takes the target row before any collection

--! split: 1-current.sql
-- app.merge_sandbox takes the target project's row (for key share) before app.sync_collections
-- locks any collection. A merge that created nothing held no lock on the target until its audit
-- insert at the very end, so a deletion of the target or of an ancestor could lock the project
-- rows in between, then wait for the collections the merge was deleting, while the merge waited
-- for the target row: 40P01 (found by the review of migration 000014; older than it). Migration
-- 000011 had fixed the same cycle for merges that create collections, whose inserts hold the row.
create or replace function app.merge_sandbox(p_sandbox_id uuid, p_target_id uuid, p_actor_id uuid default null)
returns table (action text, name text, item_count bigint, byte_size bigint)
language plpgsql
set search_path = app, pg_catalog
as $$
#variable_conflict use_column
declare
  -- Resolved before locking: a project's parent never changes, so the pair cannot go stale.
  v_target_id uuid := app.resolve_merge_target(p_sandbox_id, p_target_id);
begin
  -- Both projects, in ascending id order: two merges, or a merge and a provision
  -- (which locks the parent with the same key), queue behind each other instead of deadlocking.
  -- Under read committed each later statement takes a fresh snapshot, so a merge that
  -- waited here sees the one before it and finds nothing left to do.
  perform pg_advisory_xact_lock(hashtextextended(least(p_sandbox_id, v_target_id)::text, 0));
  perform pg_advisory_xact_lock(hashtextextended(greatest(p_sandbox_id, v_target_id)::text, 0));
  -- Then the target's row, shared, before any collection. The audit event's foreign key needs
  -- it at the end anyway; taken only there, a merge that creates nothing held none of the
  -- target while it locked the collections it deletes, so a deletion of the target (which
  -- locks the project rows first, then their collections) could lock the row in between and
  -- wait for those collections, while the merge waited for the row: a deadlock. Now whichever
  -- comes first goes first: the merge, or the deletion, after which the merge finds no target.
  perform from app.projects p where p.id = v_target_id for key share;
  if not found then
    raise exception using errcode = 'SB404', message = 'project_not_found',
      detail = 'The merge target was deleted.';
  end if;
  return query
  with synced as materialized (
    select * from app.sync_collections(p_sandbox_id, v_target_id)
  ), audit as (
    -- An aggregate without group by yields one row: exactly one event per merge, even a no-op one.
    insert into app.audit_events (project_id, actor_id, action, details)
    select v_target_id, p_actor_id, 'sandbox.merge', jsonb_build_object(
      'sandbox_id', p_sandbox_id,
      'created', coalesce(jsonb_agg(s.name order by s.name) filter (where s.action = 'created'), '[]'),
      'deleted', coalesce(jsonb_agg(jsonb_build_object('name', s.name, 'item_count', s.item_count, 'byte_size', s.byte_size)
                                    order by s.name) filter (where s.action = 'deleted'), '[]'))
      from synced s
  )
  select s.action, s.name, s.item_count, s.byte_size from synced s order by 1, 2;
end
$$;
comment on function app.merge_sandbox(uuid, uuid, uuid) is
  'Merges sandbox p_sandbox_id into its ancestor p_target_id: app.sync_collections plus an audit event (sandbox.merge, actor p_actor_id) on the target, all in the caller''s transaction. Returns what it created and deleted. Takes the advisory locks of both projects in ascending id order, then the target''s row (for key share), then what app.sync_collections locks. The sandbox is kept. Raises SB404 project_not_found, SB422 not_a_sandbox, SB422 target_not_ancestor.';
