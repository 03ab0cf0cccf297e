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
  select v_target_id, s.name
    from app.collections s
   where s.project_id = p_sandbox_id
     and not exists (select 1 from app.collections c where c.project_id = v_target_id and c.name = s.name)
  on conflict (project_id, name) do nothing
  returning 'created'::text, t.name, 0::bigint, 0::bigint;
  -- Step 2: names only in the target are deleted from it; their items go with them (on delete cascade).
  -- The counts are read before the delete, in the same statement's snapshot.
  return query
  with doomed as (
    select t.id, t.name, coalesce(st.item_count, 0)::bigint as item_count, coalesce(st.byte_size, 0)::bigint as byte_size
      from app.collections t
      left join app.collection_stats st on st.collection_id = t.id
     where t.project_id = v_target_id
       and not exists (select 1 from app.collections s where s.project_id = p_sandbox_id and s.name = t.name)
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
  select 'create'::text, s.name, 0::bigint, 0::bigint
    from app.collections s
   where s.project_id = p_sandbox_id
     and not exists (select 1 from app.collections t where t.project_id = v_target_id and t.name = s.name)
  union all
  select 'delete'::text, t.name, coalesce(st.item_count, 0)::bigint, coalesce(st.byte_size, 0)::bigint
    from app.collections t
    left join app.collection_stats st on st.collection_id = t.id
   where t.project_id = v_target_id
     and not exists (select 1 from app.collections s where s.project_id = p_sandbox_id and s.name = t.name)
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
