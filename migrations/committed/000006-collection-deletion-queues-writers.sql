--! Previous: sha1:c1d782ef54532f576dd82eea93afa1e88fdbb0a6
--! Hash: sha1:8cf0fac9393baf4d9ee0baaebb1777c044f76e20
--! Message: Collection deletions queue the item writers that arrive after them

--! split: 1-current.sql
-- Deleting a collection no longer waits behind an endless stream of item writers.
-- Writers held the collection row FOR KEY SHARE, which does not queue behind a waiting
-- DELETE, so new writers kept joining while the deletion waited for the old ones (over
-- 20 minutes in a SQL stress; through the API, 503 at the statement timeout). Now every
-- item write first takes the collection's advisory lock shared, and app.delete_collection
-- takes it exclusive: PostgreSQL queues a new shared request behind a waiting exclusive
-- one, so writers that arrive after the deletion wait for it, then find no collection.

-- Its own key space: project locks are hashtextextended(<project id>, 0).
create or replace function app.collection_lock_key(p_collection_id uuid)
returns bigint
language sql
immutable
parallel safe
as $$ select hashtextextended('collection ' || p_collection_id::text, 0) $$;
comment on function app.collection_lock_key(uuid) is
  'The advisory lock key of a collection: item writers take it shared (app.lock_collection_for_item_write), app.delete_collection exclusive.';

create or replace function app.lock_collection_for_item_write(p_collection_id uuid)
returns uuid
language plpgsql
volatile
set search_path = app, pg_catalog
as $$
declare
  v_project_id uuid;
begin
  -- The advisory lock before the row: a waiting deletion holds or waits for the advisory
  -- lock exclusive and takes the row only once it has it, so the two never wait in a cycle.
  perform pg_advisory_xact_lock_shared(app.collection_lock_key(p_collection_id));
  select c.project_id into v_project_id from app.collections c where c.id = p_collection_id for key share;
  return v_project_id;
end
$$;
comment on function app.lock_collection_for_item_write(uuid) is
  'How every item write enters its collection: the collection''s advisory lock shared, then its row FOR KEY SHARE, both until commit. Returns the collection''s project id, or null when there is no such collection (deleted meanwhile). A deletion waiting for the lock exclusive (app.delete_collection) goes first.';

create or replace function app.delete_collection(p_collection_id uuid)
returns boolean
language plpgsql
volatile
set search_path = app, pg_catalog
as $$
begin
  -- Waits for the writers inside the collection now; writers arriving after this request
  -- queue behind it instead of joining them.
  perform pg_advisory_xact_lock(app.collection_lock_key(p_collection_id));
  delete from app.collections c where c.id = p_collection_id;
  return found;
end
$$;
comment on function app.delete_collection(uuid) is
  'Deletes a collection and (on delete cascade) its items; returns false when there is no such collection. Takes the collection''s advisory lock exclusive first, so item writers that arrive while it waits for the current ones wait for it, and then find no collection. For a collection of millions, delete its items in batches first (app.delete_collection_items), as the API does. Raises nothing.';

create or replace function app.upsert_items(p_collection_id uuid, p_keys text[], p_values text[])
returns int
language plpgsql
volatile
set search_path = app, pg_catalog
as $$
declare
  v_project_id uuid;
  v_count int;
begin
  -- The collection first: a concurrent deletion of it either waits for this write or
  -- has already won, and then this is a clean 404 instead of a foreign-key violation
  -- from the middle of the insert.
  v_project_id := app.lock_collection_for_item_write(p_collection_id);
  if v_project_id is null then
    raise exception using errcode = 'SB404', message = 'not_found',
      detail = 'No such collection.';
  end if;
  -- Rows are written (and locked) in key order, bytewise: any total order works, as long
  -- as every writer uses it. Their ids are drawn first, in the order sent, because id
  -- order is the order the API lists items in (and was, when rows went in as sent).
  -- The subquery is not flattened (volatile nextval), so the ids follow its order.
  insert into app.items as i (id, collection_id, project_id, key, value) overriding system value
  select u.id, p_collection_id, v_project_id, u.key, u.value
    from (select nextval('app.items_id_seq') as id, x.key, x.value
            from unnest(p_keys, p_values) with ordinality as x (key, value, n)
           order by x.n) as u
   order by u.key collate "C"
  on conflict (collection_id, key) do update
     set value = excluded.value, updated_at = now();
  get diagnostics v_count = row_count;
  return v_count;
exception
  when cardinality_violation then
    raise exception using errcode = 'SB422', message = 'duplicate_key',
      detail = 'Duplicate key found', hint = '{"upserted": 0}';
end
$$;
comment on function app.upsert_items(uuid, text[], text[]) is
  'Inserts or replaces the items (p_keys[i], p_values[i]) of collection p_collection_id in one statement; returns how many. Enters the collection with app.lock_collection_for_item_write, then locks the items in bytewise key order, so concurrent batches with overlapping keys queue instead of deadlocking. Raises SB404 not_found (no such collection, e.g. deleted meanwhile), SB422 duplicate_key (a key twice in one call), 23514 (key or value too long).';

create or replace function app.delete_collection_items(
  p_collection_id uuid,
  p_key_pattern text,
  p_created_after timestamptz,
  p_created_before timestamptz,
  p_updated_after timestamptz,
  p_updated_before timestamptz,
  p_after_id bigint,
  p_batch int
)
returns table (deleted int, last_id bigint)
language plpgsql
volatile
set search_path = app, pg_catalog
-- Each statement below has one right plan whatever the statistics say, and these settings
-- leave the planner no other: the candidates are a walk along items_pkey in id order (any
-- other path needs a sort), the delete is a TID scan (the other path is a sequential
-- scan). Planned once per session, as nothing in the plans depends on the arguments.
set plan_cache_mode = force_generic_plan
set enable_sort = off
set enable_seqscan = off
as $$
declare
  v_tids tid[];
  -- Once per call: in a generic plan the conversion would run for every row scanned.
  v_like text := app.key_pattern_to_like(p_key_pattern);
begin
  if app.lock_collection_for_item_write(p_collection_id) is null then
    -- Nothing to delete, and no candidate left: the caller's loop ends.
    deleted := 0;
    return next;
    return;
  end if;
  -- last_id comes from the candidates, not the deleted rows: a batch whose rows a
  -- concurrent delete took first must not end the caller's loop early.
  select array_agg(c.ctid), max(c.id)
    into v_tids, last_id
    from (select i.ctid, i.id
            from app.items i
           where i.collection_id = p_collection_id
             and i.id > p_after_id
             and (v_like is null or i.key like v_like)
             and (p_created_after is null or i.created_at >= p_created_after)
             and (p_created_before is null or i.created_at < p_created_before)
             and (p_updated_after is null or i.updated_at >= p_updated_after)
             and (p_updated_before is null or i.updated_at < p_updated_before)
           order by i.id
           limit p_batch) c;
  -- A ctid names the row version the candidates saw; it cannot name another row before
  -- this call ends, because this call's statement snapshot keeps the version from being
  -- pruned. A candidate updated in between (an upsert of its key) has moved: it is not
  -- deleted, as if written after the deletion; one deleted in between is simply gone.
  delete from app.items where ctid = any (v_tids);
  get diagnostics deleted = row_count;
  return next;
end
$$;
comment on function app.delete_collection_items(uuid, text, timestamptz, timestamptz, timestamptz, timestamptz, bigint, int) is
  'Deletes up to p_batch items of a collection with id > p_after_id matching the key pattern (* wildcard) and date filters (null = any); returns how many it deleted and the largest candidate id (null when no candidate is left, or no such collection). An item updated by another transaction while the batch runs is left in place. Enters the collection with app.lock_collection_for_item_write, then locks the deleted items, then the collection row for its counters. Raises nothing.';
