--! Previous: sha1:104624a49fd6e8d234e5f3d7c4e238a9f6d00eb0
--! Hash: sha1:c1d782ef54532f576dd82eea93afa1e88fdbb0a6
--! Message: Batched deletes delete their candidates by ctid, so no statistics can plan a scan of the whole collection

--! split: 1-current.sql
-- A batch of a big deletion deletes its candidates by ctid, so no statistics can make it
-- scan the whole collection. The id-range delete of 000004 tied, under a generic plan and
-- statistics that guessed one row for the collection, with a scan of the collection
-- through items_collection_id_key_key filtering on id (CI chose it once): per batch, all
-- of the collection again.
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
  perform from app.collections c where c.id = p_collection_id for key share;
  if not found then
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
  'Deletes up to p_batch items of a collection with id > p_after_id matching the key pattern (* wildcard) and date filters (null = any); returns how many it deleted and the largest candidate id (null when no candidate is left, or no such collection). An item updated by another transaction while the batch runs is left in place. Locks the collection row (KEY SHARE), then the deleted items, then the collection row for its counters. Raises nothing.';
