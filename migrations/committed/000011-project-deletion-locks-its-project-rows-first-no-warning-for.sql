--! Previous: sha1:68b36240daff996e03570269b1e3e2abc5fa9923
--! Hash: sha1:7314e5b094d27b82e7db17dd800bbe00954c03a6
--! Message: Project deletion locks its project rows first; no warning for a lock never taken

--! split: 1-current.sql
-- Two findings of a review of migration 000009 (stop 20).
--
-- 1. app.delete_project could deadlock with a merge into the same project. It locked the
-- collections first and the project row only in its final DELETE, while a merge's new
-- collections take the project row FOR KEY SHARE (their foreign key) and its delete then
-- waits for a collection the project deletion has locked. Now the project rows come first,
-- FOR UPDATE, the root alone and then the rest of the tree parents before children:
-- anything that would add rows to these projects meanwhile (a merge's new collections, a new
-- sandbox, a run) waits at its foreign key and then fails as it did before 000009, and two
-- deletions of nested trees lock their common projects in the same order.
create or replace function app.delete_project(p_project_id uuid)
returns boolean
language plpgsql
volatile
set search_path = app, pg_catalog
as $$
begin
  -- The root alone first: a sandbox being created under it commits before this returns
  -- (or fails after), so the tree read next sees it.
  perform from app.projects p where p.id = p_project_id for update;
  if not found then
    return false;
  end if;
  perform from app.projects p
    join (
      with recursive tree (id, depth) as (
        select p_project_id, 0
        union all
        select c.id, tree.depth + 1 from app.projects c join tree on c.parent_id = tree.id
      )
      select id, depth from tree
    ) t on t.id = p.id
   order by t.depth, p.id
     for update of p;
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
  'Deletes a project, its sandboxes (and theirs) and every row they own (on delete cascade); returns false when there is no such project. Locks the project rows first (FOR UPDATE, parents before children), so nothing is added to them meanwhile, then all their collections with app.lock_collections_for_deletion, so item writers that keep arriving cannot hold the deletion back. Raises nothing of its own.';

-- 2. Cancelled (or timed out) while waiting for a collection's advisory lock, the exception
-- handler released a lock it did not hold: harmless, but PostgreSQL warned "you don't own a
-- lock of type ExclusiveLock". It now releases the lock only when pg_locks shows this backend
-- holding it. The key is set before the lock is asked for, not after: an interrupt between
-- the lock and the assignment would otherwise leave it held for the session's life.
create or replace function app.lock_collections_for_deletion(p_collection_ids uuid[])
returns int
language plpgsql
volatile
set search_path = app, pg_catalog
set plan_cache_mode = force_generic_plan
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
    -- A session-level lock outlives the transaction: never leave one behind. A bigint
    -- advisory key shows in pg_locks as classid (high half), objid (low half), objsubid 1.
    if v_key is not null and exists (
      select from pg_locks l
       where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.granted
         and l.mode = 'ExclusiveLock' and l.objsubid = 1
         and l.classid = ((v_key >> 32) & 4294967295)::oid
         and l.objid = (v_key & 4294967295)::oid) then
      perform pg_advisory_unlock(v_key);
    end if;
    raise;
  end;
  return v_locked;
end
$$;
comment on function app.lock_collections_for_deletion(uuid[]) is
  'Locks the given collections'' rows FOR UPDATE until commit, each after the item writers inside it have finished and before any that arrive later: it takes the collection''s advisory lock exclusive (at session level, released at once), so writers that keep arriving cannot hold it back. Returns how many rows it locked (collections already gone are skipped). Holds at most one advisory lock at a time, whatever the number of collections. app.sync_collections and app.delete_project call it before they delete; delete the collections with a plain DELETE afterwards, not app.delete_collection (which would wait for writers queued on the row this holds).';
