--! Previous: -
--! Hash: sha1:f14065629ee5ac63ba43787adb32047d33668ca1
--! Message: Initial schema

--! split: 100-identity.sql
-- Identity and access: users, projects (a sandbox is a project with a parent),
-- memberships, runs and personal access tokens. Everything that decides who
-- may touch which project lives here, so the HTTP layer asks one question.

create extension if not exists citext;
create extension if not exists pgcrypto;
-- The first migration owns schema `app` whole, so re-running it (graphile-migrate
-- watch) starts from nothing; later migrations drop only what they define.
drop schema if exists app cascade;
create schema app;

-- Ordered: a role includes every power of the roles before it, so `role >= 'editor'` reads as "may write".
create type app.project_role as enum ('viewer', 'editor', 'admin', 'owner');

create table app.users (
  id uuid primary key default gen_random_uuid(),
  email citext not null unique
    constraint users_email_format check (length(email) <= 254 and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  is_superuser boolean not null default false,
  created_at timestamptz not null default now()
);
comment on table app.users is 'People who hold personal access tokens. A superuser reaches every project as an owner.';

create table app.projects (
  id uuid primary key default gen_random_uuid(),
  name text not null constraint projects_name_length check (length(name) between 1 and 255 and name !~ '[[:cntrl:]]'),
  -- Null for a root project; set for a sandbox. Deleting a project deletes its sandboxes (docs/adr/0005-project-deletion.md).
  parent_id uuid references app.projects (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint projects_not_own_parent check (parent_id is distinct from id)
);
create index projects_parent_id_idx on app.projects (parent_id);
comment on table app.projects is 'A project, or a sandbox when parent_id is set (a sandbox may have sandboxes). Deleting one cascades to its sandboxes and all their data.';

create table app.project_users (
  project_id uuid not null references app.projects (id) on delete cascade,
  user_id uuid not null references app.users (id) on delete cascade,
  role app.project_role not null,
  created_at timestamptz not null default now(),
  primary key (project_id, user_id)
);
create index project_users_user_id_idx on app.project_users (user_id, project_id);

create table app.runs (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references app.projects (id) on delete cascade,
  workflow_id uuid,
  created_by uuid references app.users (id) on delete set null,
  created_at timestamptz not null default now()
);
create index runs_project_id_idx on app.runs (project_id);
comment on table app.runs is 'A workflow run. Its run token reaches exactly this project.';

create table app.access_tokens (
  jti uuid primary key,
  user_id uuid not null references app.users (id) on delete cascade,
  name text not null default '' constraint access_tokens_name_length check (length(name) <= 255),
  created_at timestamptz not null default now(),
  -- Null only when the user asked for a token that never expires.
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index access_tokens_user_id_idx on app.access_tokens (user_id, created_at);
comment on table app.access_tokens is 'Personal access tokens (JWTs) by jti; the token text itself is never stored.';

-- The projects a token reaches and its role in each: the one authority for
-- authorization. A run token reaches its run's project as an editor (read and
-- write data, manage nothing); a user reaches the projects they are a member
-- of; a superuser reaches every project as an owner. One SQL statement, so
-- the planner inlines it into the queries that filter on it.
create function app.token_projects(p_user_id uuid, p_run_id uuid)
returns table (project_id uuid, role app.project_role)
language sql stable parallel safe
set search_path = app, pg_catalog
as $$
  select pu.project_id, pu.role
    from app.project_users pu
   where pu.user_id = p_user_id
     and not exists (select 1 from app.users u where u.id = p_user_id and u.is_superuser)
  union all
  select p.id, 'owner'::app.project_role
    from app.projects p
   where exists (select 1 from app.users u where u.id = p_user_id and u.is_superuser)
  union all
  select r.project_id, 'editor'::app.project_role
    from app.runs r
   where r.id = p_run_id
$$;
comment on function app.token_projects(uuid, uuid) is
  'The projects a token reaches with its role in each. Pass the user id of a personal access token, or the run id of a run token (the other null). Locks nothing.';

-- A project's ancestors, nearest first (parent, grandparent, …).
create function app.project_ancestors(p_project_id uuid)
returns table (id uuid, depth int)
language sql stable
set search_path = app, pg_catalog
as $$
  with recursive up (id, parent_id, depth) as (
    select p.parent_id, pp.parent_id, 1
      from app.projects p join app.projects pp on pp.id = p.parent_id
     where p.id = p_project_id
    union all
    select p.id, p.parent_id, up.depth + 1
      from up join app.projects p on p.id = up.parent_id
     where up.depth < 1000
  )
  select id, depth from up
$$;
comment on function app.project_ancestors(uuid) is 'The ancestors of a project (its parent first), empty for a root project. Locks nothing.';

create function app.create_project(p_name text, p_owner_id uuid)
returns app.projects
language plpgsql
set search_path = app, pg_catalog
as $$
declare
  v_project app.projects;
begin
  insert into app.projects (name) values (p_name) returning * into v_project;
  insert into app.project_users (project_id, user_id, role) values (v_project.id, p_owner_id, 'owner');
  return v_project;
end
$$;
comment on function app.create_project(text, uuid) is 'Creates a root project with p_owner_id as its owner, in one transaction.';

-- Provisioning a sandbox (app.create_sandbox) lives with the sandboxes: it also clones configuration.

-- Adds a member or changes their role. Only an owner may grant or take away ownership.
create function app.set_member(p_project_id uuid, p_email citext, p_role app.project_role, p_actor_role app.project_role)
returns table (user_id uuid, email citext, role app.project_role, created boolean)
language plpgsql
set search_path = app, pg_catalog
as $$
#variable_conflict use_column
declare
  v_user_id uuid;
  v_current app.project_role;
begin
  select u.id into v_user_id from app.users u where u.email = p_email;
  if v_user_id is null then
    raise exception using errcode = 'SB404', message = 'user_not_found', detail = format('No user with email %s.', p_email);
  end if;
  select pu.role into v_current from app.project_users pu
   where pu.project_id = p_project_id and pu.user_id = v_user_id for update;
  if (p_role = 'owner' or v_current = 'owner') and p_actor_role <> 'owner' then
    raise exception using errcode = 'SB403', message = 'forbidden', detail = 'Only an owner may grant or change ownership.';
  end if;
  if v_current = 'owner' and p_role <> 'owner' then
    perform 1 from app.project_users pu where pu.project_id = p_project_id and pu.role = 'owner' for update;
    if (select count(*) from app.project_users pu where pu.project_id = p_project_id and pu.role = 'owner') = 1 then
      raise exception using errcode = 'SB409', message = 'last_owner', detail = 'A project must keep at least one owner.';
    end if;
  end if;
  insert into app.project_users as pu (project_id, user_id, role) values (p_project_id, v_user_id, p_role)
  on conflict (project_id, user_id) do update set role = excluded.role;
  return query select v_user_id, p_email, p_role, v_current is null;
end
$$;
comment on function app.set_member(uuid, citext, app.project_role, app.project_role) is
  'Adds the user with p_email to the project with p_role, or changes their role. p_actor_role is the caller''s role. Raises SB404 user_not_found, SB403 forbidden (ownership changes need an owner), SB409 last_owner.';

create function app.remove_member(p_project_id uuid, p_user_id uuid, p_actor_role app.project_role)
returns boolean
language plpgsql
set search_path = app, pg_catalog
as $$
declare
  v_current app.project_role;
begin
  -- Lock the project's owners first so two concurrent removals cannot both pass the last-owner check.
  perform 1 from app.project_users pu where pu.project_id = p_project_id and pu.role = 'owner' for update;
  select pu.role into v_current from app.project_users pu
   where pu.project_id = p_project_id and pu.user_id = p_user_id for update;
  if v_current is null then
    return false;
  end if;
  if v_current = 'owner' then
    if p_actor_role <> 'owner' then
      raise exception using errcode = 'SB403', message = 'forbidden', detail = 'Only an owner may remove an owner.';
    end if;
    if (select count(*) from app.project_users pu where pu.project_id = p_project_id and pu.role = 'owner') = 1 then
      raise exception using errcode = 'SB409', message = 'last_owner', detail = 'A project must keep at least one owner.';
    end if;
  end if;
  delete from app.project_users pu where pu.project_id = p_project_id and pu.user_id = p_user_id;
  return true;
end
$$;
comment on function app.remove_member(uuid, uuid, app.project_role) is
  'Removes a member. Returns false when they were not one. Raises SB403 forbidden (removing an owner needs an owner), SB409 last_owner.';

--! split: 200-collections.sql
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
  id bigint generated always as identity,
  collection_id uuid not null,
  -- Denormalized from the collection so items can be distributed by project (Citus) later.
  project_id uuid not null,
  key text not null constraint items_key_length check (length(key) between 1 and 255),
  value text not null constraint items_value_length check (length(value) <= 1000000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Keyed by collection first: every item query names its collection, and keyset
  -- pages (collection_id = $1 and id > $cursor order by id) must never be planned on
  -- an id-only index (measured: 333–455 ms instead of 2 ms for a late collection's first page).
  constraint items_pkey primary key (collection_id, id),
  constraint items_collection_id_key_key unique (collection_id, key),
  constraint items_collection_fkey foreign key (collection_id, project_id)
    references app.collections (id, project_id) on delete cascade
);
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
    delete from app.items i using doomed d where i.collection_id = p_collection_id and i.id = d.id returning i.id
  )
  -- last_id comes from the candidates, not the deleted rows: a batch whose rows a
  -- concurrent delete took first must not end the caller's loop early.
  select (select count(*) from gone)::int, (select max(id) from doomed)
$$;
comment on function app.delete_collection_items(uuid, text, timestamptz, timestamptz, timestamptz, timestamptz, bigint, int) is
  'Deletes up to p_batch items of a collection with id > p_after_id matching the key pattern (* wildcard) and date filters (null = any); returns how many it deleted and the largest candidate id (null when no candidate is left). Row-locks the deleted items and the collection row (stats). Raises nothing.';

--! split: 300-sandboxes.sql
-- Sandboxes: a sandbox gets an empty copy of each of its parent's collections
-- when it is provisioned, and a merge makes an ancestor's collection *names*
-- match the sandbox's. Items are never copied or merged in either direction:
-- a sandbox holds test data, its ancestors hold production data.
--
-- Locking: per project, pg_advisory_xact_lock(hashtextextended(<project
-- id>::text, 0)). A merge takes it on the sandbox and the target, always in
-- ascending uuid order; provisioning (app.create_sandbox) and a clone take it
-- on the parent only. So merges and provisions touching the same project
-- serialize, and no two transactions wait for each other in a cycle.
-- app.sync_collections takes none: it is the step app.merge_sandbox runs under its locks.

drop function if exists app.create_sandbox(uuid, text, uuid);
drop function if exists app.merge_sandbox(uuid, uuid, uuid);
drop function if exists app.merge_preview(uuid, uuid);
drop function if exists app.sync_collections(uuid, uuid);
drop function if exists app.merge_plan(uuid, uuid);
drop function if exists app.clone_collections_from_parent(uuid);
drop function if exists app.resolve_merge_target(uuid, uuid);
drop table if exists app.audit_events cascade;

create table app.audit_events (
  id bigint generated always as identity primary key,
  project_id uuid not null references app.projects (id) on delete cascade,
  -- Null when no user acted (a DBA at psql, or a user since deleted).
  actor_id uuid references app.users (id) on delete set null,
  action text not null constraint audit_events_action_format check (action ~ '^[a-z]+(\.[a-z_]+)+$'),
  details jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index audit_events_project_id_created_at_idx on app.audit_events (project_id, created_at);
comment on table app.audit_events is
  'What was done to a project and by whom, e.g. sandbox.merge (details: sandbox_id, created names, deleted names with their item counts). Rows are only ever inserted.';

create function app.resolve_merge_target(p_sandbox_id uuid, p_target_id uuid)
returns uuid
language plpgsql stable
set search_path = app, pg_catalog
as $$
declare
  v_parent_id uuid;
begin
  select p.parent_id into v_parent_id from app.projects p where p.id = p_sandbox_id;
  if not found then
    raise exception using errcode = 'SB404', message = 'project_not_found',
      detail = format('No project %s.', p_sandbox_id);
  end if;
  if v_parent_id is null then
    raise exception using errcode = 'SB422', message = 'not_a_sandbox',
      detail = format('Project %s is not a sandbox (it has no parent), so it has nothing to merge into.', p_sandbox_id);
  end if;
  if p_target_id is null or p_target_id = v_parent_id then
    return v_parent_id;
  end if;
  if not exists (select 1 from app.project_ancestors(p_sandbox_id) a where a.id = p_target_id) then
    raise exception using errcode = 'SB422', message = 'target_not_ancestor',
      detail = format('Project %s is not an ancestor of sandbox %s; a sandbox merges only into its parent or a parent''s ancestor.', p_target_id, p_sandbox_id);
  end if;
  return p_target_id;
end
$$;
comment on function app.resolve_merge_target(uuid, uuid) is
  'The project sandbox p_sandbox_id would merge into: p_target_id when it is one of the sandbox''s ancestors, its parent when p_target_id is null (every function below accepts a null target to mean the parent). Locks nothing. Raises SB404 project_not_found (no such sandbox), SB422 not_a_sandbox (a root project), SB422 target_not_ancestor.';

create function app.clone_collections_from_parent(p_sandbox_id uuid)
returns int
language plpgsql
set search_path = app, pg_catalog
as $$
declare
  v_parent_id uuid := app.resolve_merge_target(p_sandbox_id, null);
  v_created int;
begin
  -- The parent's collection names must not change under us (a merge into the parent takes this lock too).
  perform pg_advisory_xact_lock(hashtextextended(v_parent_id::text, 0));
  insert into app.collections (project_id, name)
  select p_sandbox_id, c.name
    from app.collections c
   where c.project_id = v_parent_id
  on conflict (project_id, name) do nothing;
  get diagnostics v_created = row_count;
  return v_created;
end
$$;
comment on function app.clone_collections_from_parent(uuid) is
  'Creates in sandbox p_sandbox_id an empty collection for every collection of its parent that it lacks (by name; items are never copied), in one INSERT … SELECT. Returns how many it created: a second call returns 0. Takes the parent''s advisory lock. Raises SB404 project_not_found, SB422 not_a_sandbox (a root project).';

-- What a merge of p_sandbox_id into the (already resolved) target would change:
-- the one definition app.merge_preview shows and app.sync_collections carries
-- out, so the preview can never promise something other than the merge does.
create function app.merge_plan(p_sandbox_id uuid, p_target_id uuid)
returns table (action text, collection_id uuid, name text, item_count bigint, byte_size bigint)
language sql stable
set search_path = app, pg_catalog
as $$
  select 'create'::text, null::uuid, s.name, 0::bigint, 0::bigint
    from app.collections s
   where s.project_id = p_sandbox_id
     and not exists (select 1 from app.collections t where t.project_id = p_target_id and t.name = s.name)
  union all
  select 'delete'::text, t.id, t.name, coalesce(st.item_count, 0)::bigint, coalesce(st.byte_size, 0)::bigint
    from app.collections t
    left join app.collection_stats st on st.collection_id = t.id
   where t.project_id = p_target_id
     and not exists (select 1 from app.collections s where s.project_id = p_sandbox_id and s.name = t.name)
$$;
comment on function app.merge_plan(uuid, uuid) is
  'The changes a merge of sandbox p_sandbox_id into p_target_id would make now: (create, null, name, 0, 0) for each sandbox-only name, (delete, collection id, name, item_count, byte_size) for each target-only collection. Checks nothing about the pair (app.merge_preview and app.merge_sandbox do). Locks nothing. Raises nothing.';

create function app.sync_collections(p_sandbox_id uuid, p_target_id uuid)
returns table (action text, name text, item_count bigint, byte_size bigint)
language plpgsql
set search_path = app, pg_catalog
as $$
#variable_conflict use_column
declare
  v_target_id uuid := app.resolve_merge_target(p_sandbox_id, p_target_id);
begin
  -- Step 1: names only in the sandbox are created, empty, in the target.
  return query
  insert into app.collections as t (project_id, name)
  select v_target_id, p.name from app.merge_plan(p_sandbox_id, v_target_id) p where p.action = 'create'
  on conflict (project_id, name) do nothing
  returning 'created'::text, t.name, 0::bigint, 0::bigint;
  -- Step 2: names only in the target are deleted from it; their items go with them (on delete cascade).
  -- The counts are read before the delete, in the same statement's snapshot.
  return query
  with doomed as (
    select p.collection_id as id, p.name, p.item_count, p.byte_size
      from app.merge_plan(p_sandbox_id, v_target_id) p
     where p.action = 'delete'
  ), deleted as (
    delete from app.collections t using doomed d where t.id = d.id returning t.id
  )
  select 'deleted'::text, d.name, d.item_count, d.byte_size
    from doomed d join deleted x on x.id = d.id;
end
$$;
comment on function app.sync_collections(uuid, uuid) is
  'Makes the collection names of p_target_id (an ancestor of sandbox p_sandbox_id) match the sandbox''s: sandbox-only names are created empty in the target, target-only collections are deleted with all their items, common ones are untouched; data is never copied or merged. One statement per step. Returns (action created|deleted, name, item_count, byte_size). Takes no advisory lock (app.merge_sandbox does); row locks on the deleted collections. Raises SB404 project_not_found, SB422 not_a_sandbox, SB422 target_not_ancestor.';

create function app.merge_preview(p_sandbox_id uuid, p_target_id uuid)
returns table (action text, name text, item_count bigint, byte_size bigint)
language plpgsql stable
set search_path = app, pg_catalog
as $$
#variable_conflict use_column
declare
  v_target_id uuid := app.resolve_merge_target(p_sandbox_id, p_target_id);
begin
  return query
  select p.action, p.name, p.item_count, p.byte_size
    from app.merge_plan(p_sandbox_id, v_target_id) p
   order by 1, 2;
end
$$;
comment on function app.merge_preview(uuid, uuid) is
  'What app.merge_sandbox(p_sandbox_id, p_target_id) would do now, without doing it: (action create, name) for each collection it would create empty in the target, (action delete, name, item_count, byte_size) for each it would delete from the target with its items. One statement. Locks nothing. Raises SB404 project_not_found, SB422 not_a_sandbox, SB422 target_not_ancestor.';

create function app.merge_sandbox(p_sandbox_id uuid, p_target_id uuid, p_actor_id uuid default null)
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
  'Merges sandbox p_sandbox_id into its ancestor p_target_id: app.sync_collections plus an audit event (sandbox.merge, actor p_actor_id) on the target, all in the caller''s transaction. Returns what it created and deleted. Takes the advisory locks of both projects in ascending id order. The sandbox is kept. Raises SB404 project_not_found, SB422 not_a_sandbox, SB422 target_not_ancestor.';

-- Provisioning: the project, its members (the parent's, with their roles; the
-- caller as owner) and its configuration, in one transaction.
create function app.create_sandbox(p_parent_id uuid, p_name text, p_owner_id uuid)
returns app.projects
language plpgsql
set search_path = app, pg_catalog
as $$
declare
  v_sandbox app.projects;
begin
  -- Serialize with merges of and into the parent (app.merge_sandbox takes the same lock).
  perform pg_advisory_xact_lock(hashtextextended(p_parent_id::text, 0));
  if not exists (select 1 from app.projects where id = p_parent_id) then
    raise exception using errcode = 'SB404', message = 'project_not_found',
      detail = format('No project %s.', p_parent_id);
  end if;
  insert into app.projects (name, parent_id) values (p_name, p_parent_id) returning * into v_sandbox;
  insert into app.project_users (project_id, user_id, role)
  select v_sandbox.id, pu.user_id, pu.role from app.project_users pu where pu.project_id = p_parent_id
  on conflict do nothing;
  insert into app.project_users (project_id, user_id, role) values (v_sandbox.id, p_owner_id, 'owner')
  on conflict (project_id, user_id) do update set role = 'owner';
  perform app.clone_collections_from_parent(v_sandbox.id);
  return v_sandbox;
end
$$;
comment on function app.create_sandbox(uuid, text, uuid) is
  'Provisions a sandbox of p_parent_id: the project, the parent''s members with their roles, p_owner_id as owner, and an empty copy of each of the parent''s collections (app.clone_collections_from_parent), in one transaction. Takes the parent''s advisory lock. Raises SB404 project_not_found.';

--! split: 400-workflows.sql
-- Workflows: client-chosen ids, optimistic locking, a snapshot per save.
-- app.resolve_workflow is the single authority on what an (id, action,
-- project) triple means; save, reset and delete all go through it, so a
-- retried "new" save of a workflow that already landed becomes an update
-- instead of a duplicate key. Error codes: docs/errors.md.

drop function if exists app.delete_workflow(uuid, uuid) cascade;
drop function if exists app.reset_workflow(uuid, uuid) cascade;
drop function if exists app.save_workflow(uuid, text, uuid, text, jsonb, int) cascade;
drop function if exists app.resolve_workflow(uuid, text, uuid, int) cascade;
drop table if exists app.workflow_snapshots cascade;
drop table if exists app.workflows cascade;

create table app.workflows (
  -- Chosen by the client (the collaborative editor), so an offline client can name a workflow before saving it.
  id uuid primary key,
  project_id uuid not null references app.projects (id) on delete cascade,
  name text not null constraint workflows_name_length check (length(name) between 1 and 255 and name !~ '[[:cntrl:]]'),
  definition jsonb not null constraint workflows_definition_object check (jsonb_typeof(definition) = 'object'),
  -- The number of successful saves; equals the version of the newest snapshot.
  lock_version int not null default 1 constraint workflows_lock_version_positive check (lock_version >= 1),
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Unique among live workflows only: deleting a workflow frees its name.
create unique index workflows_project_id_name_key on app.workflows (project_id, name) where deleted_at is null;
-- Also serves the project delete cascade, which the partial index above cannot (it skips deleted rows).
create index workflows_project_id_idx on app.workflows (project_id);
comment on table app.workflows is
  'A workflow''s current draft. The id is chosen by the client; lock_version counts saves (optimistic locking); deleted_at marks a soft delete.';

create table app.workflow_snapshots (
  workflow_id uuid not null references app.workflows (id) on delete cascade,
  version int not null,
  definition jsonb not null,
  created_at timestamptz not null default now(),
  constraint workflow_snapshots_pkey primary key (workflow_id, version)
);
comment on table app.workflow_snapshots is
  'The definition as of each successful save of a workflow; version is the workflow''s lock_version after that save.';

-- What an (id, action, project) triple refers to. Stable and lock-free so a
-- read can use it; save_workflow locks the row before calling it.
create function app.resolve_workflow(p_id uuid, p_action text, p_project_id uuid, p_version int default null)
returns table (
  kind text,
  id uuid,
  project_id uuid,
  name text,
  definition jsonb,
  lock_version int,
  version int,
  deleted_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz
)
language plpgsql stable
set search_path = app, pg_catalog
as $$
#variable_conflict use_column
declare
  v_workflow app.workflows;
  v_snapshot app.workflow_snapshots;
begin
  if p_action is null or p_action not in ('new', 'edit', 'version') then
    raise exception using errcode = 'SB422', message = 'invalid_action',
      detail = format('Unknown action %s; expected new, edit or version.', coalesce(quote_literal(p_action), 'null'));
  end if;

  select w.* into v_workflow from app.workflows w where w.id = p_id;

  if v_workflow.id is null then
    if p_action = 'new' then
      return query select 'new'::text, p_id, p_project_id, null::text, null::jsonb, null::int, null::int,
        null::timestamptz, null::timestamptz, null::timestamptz;
      return;
    end if;
    raise exception using errcode = 'SB404', message = 'workflow_not_found',
      detail = format('No workflow %s in project %s.', p_id, p_project_id);
  end if;

  -- Ids are global (client-chosen uuids), so an id can name another project's workflow.
  if v_workflow.project_id is distinct from p_project_id then
    raise exception using errcode = 'SB403', message = 'wrong_project',
      detail = format('Workflow %s belongs to another project, not %s.', p_id, p_project_id);
  end if;

  if p_action = 'version' then
    select s.* into v_snapshot from app.workflow_snapshots s where s.workflow_id = p_id and s.version = p_version;
    if v_snapshot.workflow_id is null then
      raise exception using errcode = 'SB404', message = 'snapshot_not_found',
        detail = format('Workflow %s has no version %s.', p_id, coalesce(p_version::text, 'null'));
    end if;
    return query select 'version'::text, v_workflow.id, v_workflow.project_id, v_workflow.name, v_snapshot.definition,
      v_workflow.lock_version, v_snapshot.version, v_workflow.deleted_at, v_workflow.created_at, v_workflow.updated_at;
    return;
  end if;

  -- "new" on an id this project already has: the client's earlier save landed, so reconcile to an update.
  return query select 'existing'::text, v_workflow.id, v_workflow.project_id, v_workflow.name, v_workflow.definition,
    v_workflow.lock_version, v_workflow.lock_version, v_workflow.deleted_at, v_workflow.created_at, v_workflow.updated_at;
end
$$;
comment on function app.resolve_workflow(uuid, text, uuid, int) is
  'Resolves a workflow id for an action in a project. kind new: action new and no row with the id; kind existing: action new or edit and the row is in p_project_id (soft-deleted rows included, deleted_at set); kind version: action version and snapshot p_version exists (definition and version are the snapshot''s). Locks nothing. Raises SB422 invalid_action (action not new/edit/version), SB404 workflow_not_found (edit or version, no row), SB403 wrong_project (the id is another project''s), SB404 snapshot_not_found.';

-- Saves a draft. The lock_version rule, so a reconnecting client that still
-- believes its workflow is new can retry without clobbering anyone:
--   edit: p_lock_version is required and must equal the current lock_version;
--   new that reconciles to an existing row: p_lock_version, when given, must
--   equal the current lock_version; when omitted the client saw nothing but its
--   own first save, so it must equal 1. Anything else is stale (SB409).
create function app.save_workflow(
  p_id uuid,
  p_action text,
  p_project_id uuid,
  p_name text,
  p_definition jsonb,
  p_lock_version int default null
)
returns table (
  kind text,
  id uuid,
  project_id uuid,
  name text,
  lock_version int,
  deleted_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz
)
language plpgsql volatile
set search_path = app, pg_catalog
as $$
#variable_conflict use_column
declare
  v_resolved record;
  v_saved app.workflows;
  v_kind text;
  v_constraint text;
begin
  if p_action is null or p_action not in ('new', 'edit') then
    raise exception using errcode = 'SB422', message = 'invalid_action',
      detail = format('Unknown save action %s; expected new or edit.', coalesce(quote_literal(p_action), 'null'));
  end if;
  if p_action = 'edit' and p_lock_version is null then
    raise exception using errcode = 'SB422', message = 'lock_version_required',
      detail = 'An edit must send the lock_version it last saw.';
  end if;

  begin
    -- Lock first so the resolver (a later statement, hence a later snapshot) and the update see the same version.
    perform 1 from app.workflows w where w.id = p_id for update;
    select r.* into v_resolved from app.resolve_workflow(p_id, p_action, p_project_id) r;

    if v_resolved.kind = 'new' then
      -- A concurrent save of the same id may insert first: on conflict waits for it to commit and
      -- does nothing, and we reconcile to an update below.
      begin
        insert into app.workflows as w (id, project_id, name, definition)
        values (p_id, p_project_id, p_name, p_definition)
        on conflict on constraint workflows_pkey do nothing
        returning w.* into v_saved;
      exception when unique_violation then
        -- Only the primary key is the arbiter. When two saves of the same id AND name pass its
        -- pre-check together, the name index reports the clash instead, as a unique violation:
        -- if the winner's row has our id, this is the same insert race, so reconcile below.
        -- Any other clash goes on to the handler at the end of the outer block.
        get stacked diagnostics v_constraint = constraint_name;
        if v_constraint is distinct from 'workflows_project_id_name_key'
           or not exists (select 1 from app.workflows w where w.id = p_id) then
          raise;
        end if;
      end;
      if v_saved.id is not null then
        v_kind := 'new';
      else
        perform 1 from app.workflows w where w.id = p_id for update;
        select r.* into v_resolved from app.resolve_workflow(p_id, p_action, p_project_id) r;
        if v_resolved.kind = 'new' then
          -- The winner's row vanished again (its project was deleted): start over.
          raise exception using errcode = '40001', message = 'workflow_insert_race',
            detail = format('Workflow %s was inserted and deleted concurrently.', p_id);
        end if;
      end if;
    end if;

    if v_kind is null then
      if v_resolved.deleted_at is not null then
        raise exception using errcode = 'SB409', message = 'workflow_deleted',
          detail = format('Workflow %s was deleted.', p_id);
      end if;
      if v_resolved.lock_version is distinct from coalesce(p_lock_version, 1) then
        raise exception using errcode = 'SB409', message = 'stale_workflow',
          detail = format('Workflow %s is at lock_version %s, not %s; reload it and save again.',
            p_id, v_resolved.lock_version, coalesce(p_lock_version, 1)),
          hint = json_build_object('lock_version', v_resolved.lock_version)::text;
      end if;
      update app.workflows w
         set name = p_name, definition = p_definition, lock_version = w.lock_version + 1, updated_at = now()
       where w.id = p_id
      returning w.* into v_saved;
      v_kind := 'existing';
    end if;
  exception when unique_violation then
    get stacked diagnostics v_constraint = constraint_name;
    if v_constraint = 'workflows_project_id_name_key' then
      raise exception using errcode = 'SB409', message = 'workflow_name_taken',
        detail = format('Project %s already has a workflow named %s.', p_project_id, quote_literal(p_name));
    end if;
    raise;
  end;

  insert into app.workflow_snapshots (workflow_id, version, definition)
  values (v_saved.id, v_saved.lock_version, v_saved.definition);

  return query select v_kind, v_saved.id, v_saved.project_id, v_saved.name, v_saved.lock_version,
    v_saved.deleted_at, v_saved.created_at, v_saved.updated_at;
end
$$;
comment on function app.save_workflow(uuid, text, uuid, text, jsonb, int) is
  'Saves a workflow draft and writes its snapshot (version = the new lock_version), in one transaction. kind new: inserted; kind existing: updated (including action new reconciled to an existing row, and the loser of a concurrent insert of the same id). lock_version: edit must send the current one; new on an existing row must send the current one or omit it when the current one is 1. Locks the workflow row (for update). Raises SB422 invalid_action, SB422 lock_version_required, SB404 workflow_not_found, SB403 wrong_project, SB409 workflow_deleted, SB409 stale_workflow (hint {"lock_version": current}), SB409 workflow_name_taken.';

-- Discards the draft: the newest snapshot's definition becomes the definition again.
create function app.reset_workflow(p_id uuid, p_project_id uuid)
returns setof app.workflows
language plpgsql volatile
set search_path = app, pg_catalog
as $$
declare
  v_resolved record;
  v_snapshot app.workflow_snapshots;
begin
  perform 1 from app.workflows w where w.id = p_id for update;
  select r.* into v_resolved from app.resolve_workflow(p_id, 'edit', p_project_id) r;
  if v_resolved.deleted_at is not null then
    raise exception using errcode = 'SB409', message = 'workflow_deleted',
      detail = format('Workflow %s was deleted.', p_id);
  end if;
  select s.* into v_snapshot from app.workflow_snapshots s where s.workflow_id = p_id order by s.version desc limit 1;
  if v_snapshot.workflow_id is null then
    raise exception using errcode = 'SB404', message = 'snapshot_not_found',
      detail = format('Workflow %s has no snapshot to reset to.', p_id);
  end if;
  return query
  update app.workflows w
     set definition = v_snapshot.definition,
         lock_version = v_snapshot.version,
         updated_at = case when w.definition = v_snapshot.definition and w.lock_version = v_snapshot.version
                           then w.updated_at else now() end
   where w.id = p_id
  returning w.*;
end
$$;
comment on function app.reset_workflow(uuid, uuid) is
  'Restores the newest snapshot into the draft (definition, and lock_version = that snapshot''s version); updated_at moves only if something changed. Locks the workflow row (for update). Raises SB404 workflow_not_found, SB403 wrong_project, SB409 workflow_deleted, SB404 snapshot_not_found.';

create function app.delete_workflow(p_id uuid, p_project_id uuid)
returns setof app.workflows
language plpgsql volatile
set search_path = app, pg_catalog
as $$
begin
  perform 1 from app.workflows w where w.id = p_id for update;
  perform 1 from app.resolve_workflow(p_id, 'edit', p_project_id);
  -- Deleting twice keeps the first deleted_at: DELETE is idempotent.
  return query
  update app.workflows w set deleted_at = coalesce(w.deleted_at, now())
   where w.id = p_id
  returning w.*;
end
$$;
comment on function app.delete_workflow(uuid, uuid) is
  'Soft-deletes a workflow (sets deleted_at once; its name becomes free; snapshots are kept). Locks the workflow row (for update). Raises SB404 workflow_not_found, SB403 wrong_project.';

--! split: 500-fleet.sql
-- Fleet: servers (project-scoped deploy targets) and their releases. A release
-- is addressed by its effective handle — its name, else the basename of its
-- release command — and no two releases on one server share one. The rule is
-- one IMMUTABLE function, a stored generated column that uses it, and a unique
-- index on that column; the API's friendly pre-check only improves the message.

drop table if exists app.releases cascade;
drop table if exists app.servers cascade;
drop function if exists app.effective_handle(text, text) cascade;

-- src/fleet/effective-handle.ts mirrors this expression for clients; a property
-- test (test/sql/fleet-effective-handle.test.ts) holds the two together. Note
-- PostgreSQL's regex semantics: `.` matches a newline and `^`/`$` anchor only at
-- the ends of the string, so the basename of 'a/b\nc' is 'b\nc'.
create function app.effective_handle(p_name text, p_release_command text)
returns text
language sql immutable parallel safe
set search_path = app, pg_catalog
as $$
  select nullif(coalesce(nullif(p_name, ''), regexp_replace(regexp_replace(p_release_command, '/+$', ''), '^.*/', '')), '')
$$;
comment on function app.effective_handle(text, text) is
  'The handle a release is addressed by: p_name when not empty, else the basename of p_release_command (trailing slashes stripped first); null when that is empty (a logs-only release has no handle). Locks nothing, raises nothing.';

create table app.servers (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references app.projects (id) on delete cascade,
  name text not null
    constraint servers_name_length check (length(name) between 1 and 255 and name !~ '[[:cntrl:]]'),
  created_at timestamptz not null default now(),
  constraint servers_project_id_name_key unique (project_id, name),
  -- Lets releases reference (server, project) together, so a release's project always is its server's.
  constraint servers_id_project_id_key unique (id, project_id)
);
comment on table app.servers is 'A deploy target in one project. Deleting it (or its project) deletes its releases.';

create table app.releases (
  id uuid primary key default gen_random_uuid(),
  server_id uuid not null,
  -- Denormalized from the server, like items.project_id: every row of a project
  -- can then be distributed (Citus) and deleted by project without a join, and
  -- the composite foreign key keeps it equal to the server's project.
  project_id uuid not null,
  -- Empty means "no name", exactly as app.effective_handle reads it. No slash: a
  -- name is a handle, and a handle is a basename (it also travels in URL paths).
  name text
    constraint releases_name_format check (length(name) <= 255 and name !~ '[[:cntrl:]/]'),
  release_command text
    constraint releases_release_command_format check (length(release_command) <= 4096 and release_command !~ '[[:cntrl:]]'),
  -- STORED: PostgreSQL 18 makes generated columns virtual by default, and a virtual column cannot be indexed.
  effective_handle text generated always as (app.effective_handle(name, release_command)) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A release binary is a file, never a directory.
  constraint releases_release_command_not_directory check (right(release_command, 1) <> '/'),
  constraint releases_server_fkey foreign key (server_id, project_id)
    references app.servers (id, project_id) on delete cascade
);
-- The guarantee: one release per handle per server. NULL handles (logs-only
-- releases) are distinct, so they coexist; no partial index on name beside it,
-- because a name and a derived basename must collide with each other too.
create unique index releases_server_id_effective_handle_key on app.releases (server_id, effective_handle);
comment on table app.releases is 'A release on a server, addressed by effective_handle (name, else the basename of release_command; null for a logs-only release).';
