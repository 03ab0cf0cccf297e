--! Previous: sha1:30d262d38bc6d25e8d5180ec7803c82721c5e2aa
--! Hash: sha1:5ad9ec238b914fbaf6b3320585850840d19a0af7
--! Message: Merges and project deletions lock their collections first

--! split: 1-current.sql
-- Merges and project deletions no longer wait behind an endless stream of item writers
-- (docs/reliability.md, found by a DBA audit at stop 19). They deleted collections with
-- row locks only. Writers hold the collection row FOR KEY SHARE, which a new writer may
-- take even while a DELETE waits for the row, so writers that kept arriving kept the
-- deletion waiting until its statement timeout. app.delete_collection solved this for
-- one collection (migration 000006) with the collection's advisory lock, exclusive,
-- until commit; a merge deleting thousands of collections would need as many locks at
-- once and exhaust the lock table (max_locks_per_transaction).
--
-- app.lock_collections_for_deletion takes each collection's advisory lock in turn at
-- session level, locks the row FOR UPDATE under it, and releases the advisory lock at
-- once: the row lock, which lasts until commit, keeps new writers out from then on (FOR
-- KEY SHARE waits for FOR UPDATE), so at most one advisory lock is held at a time.

create or replace function app.lock_collections_for_deletion(p_collection_ids uuid[])
returns int
language plpgsql
volatile
set search_path = app, pg_catalog
as $$
declare
  v_id uuid;
  v_key bigint;
  v_locked int := 0;
begin
  -- One collection at a time, in id order (two deleters never wait for each other in a
  -- cycle). A loop, not a set: each row must be locked while its own advisory lock is held.
  -- One exception block around the loop, not one per collection: each block is a
  -- subtransaction, and thousands of them would overflow every backend's snapshot cache.
  begin
    for v_id in select c.id from app.collections c where c.id = any(p_collection_ids) order by c.id loop
      v_key := app.collection_lock_key(v_id);
      -- Waits for the writers inside the collection now; writers arriving meanwhile
      -- queue behind this request instead of joining them.
      perform pg_advisory_lock(v_key);
      perform from app.collections c where c.id = v_id for update;
      v_locked := v_locked + found::int;
      perform pg_advisory_unlock(v_key);
      v_key := null;
    end loop;
  exception when others or query_canceled then
    -- A session-level lock outlives the transaction: never leave one behind.
    if v_key is not null then
      perform pg_advisory_unlock(v_key);
    end if;
    raise;
  end;
  return v_locked;
end
$$;
comment on function app.lock_collections_for_deletion(uuid[]) is
  'Locks the given collections'' rows FOR UPDATE until commit, each after the item writers inside it have finished and before any that arrive later: it takes the collection''s advisory lock exclusive (at session level, released at once), so writers that keep arriving cannot hold it back. Returns how many rows it locked (collections already gone are skipped). Holds at most one advisory lock at a time, whatever the number of collections. app.sync_collections and app.delete_project call it before they delete.';

create or replace function app.sync_collections(p_sandbox_id uuid, p_target_id uuid)
returns table (action text, name text, item_count bigint, byte_size bigint)
language plpgsql
set search_path = app, pg_catalog
as $$
#variable_conflict use_column
declare
  v_target_id uuid := app.resolve_merge_target(p_sandbox_id, p_target_id);
  v_doomed uuid[];
begin
  -- Step 1: names only in the sandbox are created, empty, in the target.
  return query
  insert into app.collections as t (project_id, name)
  select v_target_id, p.name from app.merge_plan(p_sandbox_id, v_target_id) p where p.action = 'create'
  on conflict (project_id, name) do nothing
  returning 'created'::text, t.name, 0::bigint, 0::bigint;
  -- Step 2: names only in the target are deleted from it; their items go with them (on delete
  -- cascade). Their rows are locked first, so item writers that keep arriving cannot hold the
  -- delete back. The counts are those of the rows deleted, after any writer they waited for.
  v_doomed := array(select p.collection_id from app.merge_plan(p_sandbox_id, v_target_id) p where p.action = 'delete');
  if cardinality(v_doomed) = 0 then
    return;
  end if;
  perform app.lock_collections_for_deletion(v_doomed);
  return query
  delete from app.collections t
   where t.id = any(v_doomed)
  returning 'deleted'::text, t.name, t.item_count, t.byte_size;
end
$$;
comment on function app.sync_collections(uuid, uuid) is
  'Makes the collection names of p_target_id (an ancestor of sandbox p_sandbox_id) match the sandbox''s: sandbox-only names are created empty in the target, target-only collections are deleted with all their items, common ones are untouched; data is never copied or merged. Returns (action created|deleted, name, item_count, byte_size); a deleted collection''s counts are those of the row deleted, after any writer it waited for. Takes no project advisory lock (app.merge_sandbox takes the projects''); locks the collections it deletes with app.lock_collections_for_deletion, so item writers that keep arriving cannot hold it back. Raises SB404 project_not_found, SB422 not_a_sandbox, SB422 target_not_ancestor.';

create or replace function app.delete_project(p_project_id uuid)
returns boolean
language plpgsql
volatile
set search_path = app, pg_catalog
as $$
begin
  -- Its sandboxes go with it (on delete cascade), so their collections are locked too.
  perform app.lock_collections_for_deletion(array(
    select c.id
      from app.collections c
     where c.project_id in (
       with recursive tree (id) as (
         select p_project_id
         union
         select p.id from app.projects p join tree on p.parent_id = tree.id
       )
       select id from tree)));
  delete from app.projects p where p.id = p_project_id;
  return found;
end
$$;
comment on function app.delete_project(uuid) is
  'Deletes a project, its sandboxes (and theirs) and every row they own (on delete cascade); returns false when there is no such project. Locks all their collections first with app.lock_collections_for_deletion, so item writers that keep arriving cannot hold the deletion back. Raises nothing.';
