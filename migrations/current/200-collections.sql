-- Collections: a project-scoped key–value store (wire-compatible with
-- Lightning's collections API). Names are unique per project, not globally,
-- so a project and each of its sandboxes can all have `patients`.

drop view if exists app.collection_stats;
drop function if exists app.delete_collection_items(uuid, text, timestamptz, timestamptz, timestamptz, timestamptz, bigint, int);
drop function if exists app.upsert_items(uuid, text[], text[]);
drop function if exists app.key_pattern_to_like(text);
drop table if exists app.items cascade;
drop table if exists app.collections cascade;
drop function if exists app.items_maintain_collection_stats();

create table app.collections (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references app.projects (id) on delete cascade,
  name text not null
    constraint collections_name_slug check (length(name) between 1 and 255 and name ~ '^[a-z0-9]+([-_.][a-z0-9]+)*$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Maintained by items_maintain_collection_stats (one UPDATE per items statement), so
  -- lists show them without scanning items. Its write cost was measured (issue 5): see the trigger.
  item_count bigint not null default 0,
  byte_size bigint not null default 0,
  constraint collections_project_id_name_key unique (project_id, name),
  -- Lets items reference (collection, project) together, so an item's project always is its collection's.
  constraint collections_id_project_id_key unique (id, project_id)
);
comment on table app.collections is 'A named key–value store in one project. Sandboxes get empty copies by name; merges sync names, never items.';
comment on column app.collections.item_count is 'How many items the collection holds; kept by a statement-level trigger on app.items.';
comment on column app.collections.byte_size is 'Sum of octet_length(key) + octet_length(value) over its items; kept by a statement-level trigger on app.items.';

create table app.items (
  id bigint generated always as identity primary key,
  collection_id uuid not null,
  -- Denormalized from the collection so items can be distributed by project (Citus) later.
  project_id uuid not null,
  key text not null constraint items_key_length check (length(key) between 1 and 255),
  value text not null constraint items_value_length check (length(value) <= 1000000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint items_collection_id_key_key unique (collection_id, key),
  constraint items_collection_fkey foreign key (collection_id, project_id)
    references app.collections (id, project_id) on delete cascade
);
-- Keyset pagination in insertion order within one collection.
create index items_collection_id_id_idx on app.items (collection_id, id);
comment on table app.items is 'One key–value item. value is an opaque string (clients JSON-encode objects themselves).';

-- The per-collection counters, as the contract other domains read (the sandbox
-- merge preview shows what a deletion would drop). Reading it scans no items.
create view app.collection_stats as
select c.id as collection_id, c.item_count, c.byte_size
  from app.collections c;
comment on view app.collection_stats is 'Per collection: item_count and byte_size (octet_length(key) + octet_length(value) summed over its items), without scanning items.';

-- Statement-level, with transition tables: one aggregate and one UPDATE per
-- collection per statement, not one per row (a 1000-item upsert costs one
-- counter update). Concurrent writers to one collection queue on its row only
-- from the end of their statement to their commit. Measured (issue 5; 1000-item
-- app.upsert_items batches, 200 B values, medians of 8 alternating rounds):
-- one writer 86.6k new items/s with the trigger vs 90.7k without (-4.5 %),
-- 86.5k vs 87.9k updates/s (-1.6 %), both within noise; 4 writers into ONE
-- collection 104k vs 129k items/s (-19 %, the counter row). Chosen over counting
-- on demand, which reads every item of every collection a list shows.
create function app.items_maintain_collection_stats()
returns trigger
language plpgsql
volatile
set search_path = app, pg_catalog
as $$
begin
  if tg_op = 'INSERT' then
    update app.collections c
       set item_count = c.item_count + d.n, byte_size = c.byte_size + d.bytes
      from (select collection_id, count(*) as n, sum(octet_length(key) + octet_length(value)) as bytes
              from new_items group by collection_id) d
     where c.id = d.collection_id;
  elsif tg_op = 'DELETE' then
    update app.collections c
       set item_count = c.item_count - d.n, byte_size = c.byte_size - d.bytes
      from (select collection_id, count(*) as n, sum(octet_length(key) + octet_length(value)) as bytes
              from old_items group by collection_id) d
     where c.id = d.collection_id;
  else
    update app.collections c
       set item_count = c.item_count + d.n, byte_size = c.byte_size + d.bytes
      from (select collection_id, sum(n) as n, sum(bytes) as bytes
              from (select collection_id, 1 as n, octet_length(key) + octet_length(value) as bytes from new_items
                    union all
                    select collection_id, -1, -(octet_length(key) + octet_length(value)) from old_items) changes
             group by collection_id) d
     where c.id = d.collection_id and (d.n <> 0 or d.bytes <> 0);
  end if;
  return null;
end
$$;
comment on function app.items_maintain_collection_stats() is
  'Trigger: adds the items a statement inserted, updated or deleted to their collections'' item_count and byte_size. Row-locks each touched collection until commit. Raises nothing.';

create trigger items_stats_insert after insert on app.items
  referencing new table as new_items
  for each statement execute function app.items_maintain_collection_stats();
create trigger items_stats_update after update on app.items
  referencing old table as old_items new table as new_items
  for each statement execute function app.items_maintain_collection_stats();
create trigger items_stats_delete after delete on app.items
  referencing old table as old_items
  for each statement execute function app.items_maintain_collection_stats();

-- A client key pattern as a LIKE pattern (escape '\'): `*` is the only
-- wildcard; `%`, `_` and `\` match themselves (Lightning lets `_` and `%` through).
create function app.key_pattern_to_like(p_pattern text)
returns text
language sql
immutable strict parallel safe
set search_path = app, pg_catalog
as $$
  select replace(replace(replace(replace(p_pattern, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%')
$$;
comment on function app.key_pattern_to_like(text) is
  'Turns a collections key pattern (* = any characters, everything else literal) into a LIKE pattern with escape character \. Locks nothing, raises nothing.';

-- The one write path for items: PUT and POST both come here.
create function app.upsert_items(p_collection_id uuid, p_keys text[], p_values text[])
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
  insert into app.items as i (collection_id, project_id, key, value)
  select p_collection_id, v_project_id, u.key, u.value
    from unnest(p_keys, p_values) as u (key, value)
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
  'Inserts or replaces the items (p_keys[i], p_values[i]) of collection p_collection_id in one statement; returns how many. Takes a KEY SHARE lock on the collection row and row locks on the items. Raises SB404 not_found (no such collection, e.g. deleted meanwhile), SB422 duplicate_key (a key twice in one call), 23514 (key or value too long).';

-- One batch of a large deletion: the next p_batch items (by id, after
-- p_after_id) matching the filters. Callers loop, one transaction per batch,
-- so deleting millions of items never holds one huge transaction's locks.
create function app.delete_collection_items(
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
language sql
volatile
set search_path = app, pg_catalog
as $$
  with doomed as (
    select i.id
      from app.items i
     where i.collection_id = p_collection_id
       and i.id > p_after_id
       and (p_key_pattern is null or i.key like app.key_pattern_to_like(p_key_pattern))
       and (p_created_after is null or i.created_at >= p_created_after)
       and (p_created_before is null or i.created_at < p_created_before)
       and (p_updated_after is null or i.updated_at >= p_updated_after)
       and (p_updated_before is null or i.updated_at < p_updated_before)
     order by i.id
     limit p_batch
  ), gone as (
    delete from app.items i using doomed d where i.id = d.id returning i.id
  )
  -- last_id comes from the candidates, not the deleted rows: a batch whose rows a
  -- concurrent delete took first must not end the caller's loop early.
  select (select count(*) from gone)::int, (select max(id) from doomed)
$$;
comment on function app.delete_collection_items(uuid, text, timestamptz, timestamptz, timestamptz, timestamptz, bigint, int) is
  'Deletes up to p_batch items of a collection with id > p_after_id matching the key pattern (* wildcard) and date filters (null = any); returns how many it deleted and the largest candidate id (null when no candidate is left). Row-locks the deleted items and the collection row (stats). Raises nothing.';
