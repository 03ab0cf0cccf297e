-- Collections: a project-scoped key–value store (wire-compatible with
-- Lightning's collections API). Names are unique per project, not globally,
-- so a project and each of its sandboxes can all have `patients`.

drop table if exists app.items cascade;
drop table if exists app.collections cascade;

create table app.collections (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references app.projects (id) on delete cascade,
  name text not null
    constraint collections_name_slug check (length(name) between 1 and 255 and name ~ '^[a-z0-9]+([-_.][a-z0-9]+)*$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint collections_project_id_name_key unique (project_id, name),
  -- Lets items reference (collection, project) together, so an item's project always is its collection's.
  constraint collections_id_project_id_key unique (id, project_id)
);
comment on table app.collections is 'A named key–value store in one project. Sandboxes get empty copies by name; merges sync names, never items.';

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
