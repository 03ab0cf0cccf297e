--! Previous: sha1:12aa2bf216e0984f90a20b909e8988fb86544bcc
--! Hash: sha1:c6bf4adac9a09232575311b79e2032755d0e76c5
--! Message: delete_collection_items refuses arguments that made it a silent no-op

--! split: 1-current.sql
-- app.delete_collection_items refuses the arguments that made it a silent no-op: a null
-- p_after_id (`id > null` finds no candidate) and a p_batch of 0 (`limit 0`) both answered
-- "0 deleted, nothing left", which ends a caller's loop as if the deletion were done. A null
-- p_batch (`limit null`: every match in one transaction) defeats the batching, so it goes too.
-- A negative one already failed (2201W, LIMIT must not be negative); it is now 22023 like the rest.
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
  -- Either would end the caller's loop at once, as if nothing matched (`id > null` and
  -- `limit 0` find no candidate): a DBA's slip must not read as "all deleted".
  if p_after_id is null then
    raise exception using errcode = '22023', message = 'p_after_id must not be null',
      hint = 'Start a deletion with p_after_id = 0, then pass the last_id each batch returns.';
  end if;
  if p_batch is null or p_batch < 1 then
    raise exception using errcode = '22023', message = format('p_batch must be at least 1, not %s', coalesce(p_batch::text, 'null')),
      hint = 'The API deletes 10,000 items a batch.';
  end if;
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
  'Deletes up to p_batch items of a collection with id > p_after_id matching the key pattern (* wildcard) and date filters (null = any); returns how many it deleted and the largest candidate id (null when no candidate is left, or no such collection). An item updated by another transaction while the batch runs is left in place. Enters the collection with app.lock_collection_for_item_write, then locks the deleted items, then the collection row for its counters. Raises 22023 when p_after_id is null or p_batch is null or below 1 (either would end a caller''s loop at once, as if nothing matched).';
