--! Previous: sha1:ae5947d575b9875646619ed91009136c9f8570c9
--! Hash: sha1:104624a49fd6e8d234e5f3d7c4e238a9f6d00eb0
--! Message: item writes lock the collection row, then items in key order; batch deletes walk items_pkey

--! split: 1-current.sql
-- Item writes take their locks in one order, so concurrent writers queue instead of
-- deadlocking: the collection row first (KEY SHARE), then the items in key order, then
-- the collection row again for its counters (the stats trigger, at the end of the
-- statement). Deleting a collection takes its row first and its items after (the
-- cascade), so it waits for writers that hold the row and they wait for it, never both.
--
-- Before: app.upsert_items wrote its items in the order the client sent them. Batches
-- of overlapping keys in different orders (here: each a run of 100 consecutive keys
-- out of 300, starting at different points) deadlocked in a cycle through several
-- transactions: 16 writers into one collection got 40P01 on most rounds of a SQL stress
-- run, and CI saw one as a 503 from POST /collections/:name.
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
  -- KEY SHARE first: a concurrent deletion of the collection either waits for
  -- this write or has already won, and then this is a clean 404 instead of a
  -- foreign-key violation from the middle of the insert.
  select c.project_id into v_project_id from app.collections c where c.id = p_collection_id for key share;
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
  'Inserts or replaces the items (p_keys[i], p_values[i]) of collection p_collection_id in one statement; returns how many. Locks the collection row (KEY SHARE), then the items in bytewise key order, so concurrent batches with overlapping keys queue instead of deadlocking. Raises SB404 not_found (no such collection, e.g. deleted meanwhile), SB422 duplicate_key (a key twice in one call), 23514 (key or value too long).';

-- Before: a batch joined its candidates back to items (delete … using doomed). Right after
-- a collection is filled the planner has no statistics for it and guessed one row a side;
-- with the long pool's enable_sort = off it chose a nested loop over the candidate list:
-- 10,000 × 20,000 comparisons, 13-21 s a batch on this machine while item writers queued
-- behind its locks (measured with auto_explain in a SQL stress shaped like the HTTP race
-- test). The candidates now go in as an array and a range of ids, which is a walk along
-- items_pkey whatever the estimates.
-- And the collection row first, like every other item write (see above).
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
-- The DELETE is planned for the average collection, not for this one: its right plan
-- (walk items_pkey by id) does not depend on the collection's size, but a custom plan for
-- a collection filled since the last ANALYZE guessed it held one row and then scanned all
-- of it through the key index, per batch (measured; see the test). The candidates are a
-- walk along items_pkey in id order either way (the long pool prices sorts out).
set plan_cache_mode = force_generic_plan
as $$
declare
  v_ids bigint[];
  -- Once per call: in a generic plan the conversion would run for every row scanned.
  v_like text := app.key_pattern_to_like(p_key_pattern);
begin
  deleted := 0;
  perform from app.collections c where c.id = p_collection_id for key share;
  if not found then
    -- Nothing to delete, and no candidate left: the caller's loop ends.
    return next;
    return;
  end if;
  v_ids := array(
    select i.id
      from app.items i
     where i.collection_id = p_collection_id
       and i.id > p_after_id
       and (v_like is null or i.key like v_like)
       and (p_created_after is null or i.created_at >= p_created_after)
       and (p_created_before is null or i.created_at < p_created_before)
       and (p_updated_after is null or i.updated_at >= p_updated_after)
       and (p_updated_before is null or i.updated_at < p_updated_before)
     order by i.id
     limit p_batch);
  -- The range makes it one descent of items_pkey and a walk along it; the array picks the
  -- candidates out of that range (hashed). The array alone was planned as a filter on a
  -- scan of the whole collection when the statistics guessed one row (measured).
  delete from app.items i
   where i.collection_id = p_collection_id
     and i.id between v_ids[1] and v_ids[cardinality(v_ids)]
     and i.id = any (v_ids);
  get diagnostics deleted = row_count;
  -- last_id comes from the candidates, not the deleted rows: a batch whose rows a
  -- concurrent delete took first must not end the caller's loop early.
  last_id := v_ids[cardinality(v_ids)];
  return next;
end
$$;
comment on function app.delete_collection_items(uuid, text, timestamptz, timestamptz, timestamptz, timestamptz, bigint, int) is
  'Deletes up to p_batch items of a collection with id > p_after_id matching the key pattern (* wildcard) and date filters (null = any); returns how many it deleted and the largest candidate id (null when no candidate is left, or no such collection). Locks the collection row (KEY SHARE), then the deleted items, then the collection row for its counters. Raises nothing.';
