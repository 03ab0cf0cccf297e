--! Previous: sha1:8cf0fac9393baf4d9ee0baaebb1777c044f76e20
--! Hash: sha1:bd9b9cd0f02407a4ea4694d6e2069ba8629b1a6c
--! Message: Audit fixes

--! split: 1-current.sql
-- Findings of a DBA's audit (stop 19): what a DBA at psql, or a client through the API,
-- could do that the docs say cannot happen.

-- app.set_member compared emails with text =, not citext's: its search_path (app, pg_catalog)
-- hides citext's operators, which live in the extension's schema. 'Ada@Example.com' was
-- "no such user" through the API, while every other email lookup ignores case; and the
-- plan was a sequential scan of app.users. The extension's schema joins the search_path,
-- after pg_catalog so that it can shadow nothing built in.
-- STRICT: a null p_actor_role passed the ownership checks (null <> 'owner' is null, not
-- true), so app.set_member(…, 'owner', null) granted ownership. Now any null argument
-- changes nothing (no row back; app.remove_member returns null).
do $$
declare
  v_citext_schema name := (select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'citext');
begin
  execute format('alter function app.set_member(uuid, citext, app.project_role, app.project_role) strict set search_path = app, pg_catalog, %I', v_citext_schema);
end
$$;
alter function app.remove_member(uuid, uuid, app.project_role) strict;

-- A release command's basename becomes its handle, and the handle is indexed (unique per
-- server): a basename over ~2,700 bytes overflowed the B-tree's row limit (54000, a 500
-- through the API) although the command itself (≤ 4,096 characters) was valid. A handle
-- now has the same bound as a name. NOT VALID: rows written before keep their handles
-- (none can be over 2,704 bytes); every new or changed row is checked.
alter table app.releases drop constraint if exists releases_effective_handle_length;
alter table app.releases
  add constraint releases_effective_handle_length check (length(effective_handle) <= 255) not valid;

-- A run named any workflow id, another project's or none at all. Now it must be a workflow
-- of the run's own project (SQLSTATE 23503 otherwise, 422 through the API). The run keeps
-- its history when its workflow row goes (workflows are soft-deleted; rows go only with
-- their project). NOT VALID: existing runs are not re-checked.
alter table app.runs drop constraint if exists runs_workflow_fkey;
alter table app.workflows drop constraint if exists workflows_id_project_id_key;
alter table app.workflows add constraint workflows_id_project_id_key unique (id, project_id);
alter table app.runs
  add constraint runs_workflow_fkey foreign key (workflow_id, project_id)
    references app.workflows (id, project_id) on delete set null (workflow_id) not valid;
create index if not exists runs_workflow_id_idx on app.runs (workflow_id);
-- Deleting a user set these to null through a sequential scan of each table.
create index if not exists runs_created_by_idx on app.runs (created_by);
create index if not exists audit_events_actor_id_idx on app.audit_events (actor_id);

-- A merge reported (and audited) the counts of the collections it deleted as its snapshot
-- saw them before it waited for their writers: 2 items in the audit for 502 deleted. The
-- counts now come from the rows the delete removed, which are the committed ones it waited for.
create or replace function app.sync_collections(p_sandbox_id uuid, p_target_id uuid)
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
  return query
  delete from app.collections t
   using app.merge_plan(p_sandbox_id, v_target_id) p
   where p.action = 'delete' and t.id = p.collection_id
  returning 'deleted'::text, t.name, t.item_count, t.byte_size;
end
$$;
comment on function app.sync_collections(uuid, uuid) is
  'Makes the collection names of p_target_id (an ancestor of sandbox p_sandbox_id) match the sandbox''s: sandbox-only names are created empty in the target, target-only collections are deleted with all their items, common ones are untouched; data is never copied or merged. One statement per step. Returns (action created|deleted, name, item_count, byte_size); a deleted collection''s counts are those of the row deleted, after any writer it waited for. Takes no advisory lock (app.merge_sandbox takes the projects''); row locks on the deleted collections, so item writers that keep arriving can hold a merge back (docs/reliability.md). Raises SB404 project_not_found, SB422 not_a_sandbox, SB422 target_not_ancestor.';

-- TRUNCATE fires no row or statement triggers for delete, so item_count and byte_size
-- kept counting items that were gone.
create or replace function app.items_truncated_reset_collection_stats()
returns trigger
language plpgsql
set search_path = app, pg_catalog
as $$
begin
  update app.collections set item_count = 0, byte_size = 0 where item_count <> 0 or byte_size <> 0;
  return null;
end
$$;
comment on function app.items_truncated_reset_collection_stats() is
  'After TRUNCATE app.items: every collection''s item_count and byte_size back to 0.';
drop trigger if exists items_stats_truncate on app.items;
create trigger items_stats_truncate after truncate on app.items
  for each statement execute function app.items_truncated_reset_collection_stats();

-- A project's parent is set when a sandbox is made and never changes: merges resolve their
-- target before taking locks on that promise, and a changed parent could make a cycle
-- (app.project_ancestors then walks it to its depth limit) or turn a project with data into
-- a sandbox. Deleting a parent deletes its sandboxes (on delete cascade), so nothing else
-- ever writes the column.
create or replace function app.projects_parent_id_is_fixed()
returns trigger
language plpgsql
set search_path = app, pg_catalog
as $$
begin
  raise exception using errcode = 'SB422', message = 'parent_fixed',
    detail = 'A project''s parent is set when the sandbox is made and cannot change.';
end
$$;
comment on function app.projects_parent_id_is_fixed() is
  'Refuses any change of app.projects.parent_id (SB422 parent_fixed).';
drop trigger if exists projects_parent_id_fixed on app.projects;
create trigger projects_parent_id_fixed before update of parent_id on app.projects
  for each row when (old.parent_id is distinct from new.parent_id)
  execute function app.projects_parent_id_is_fixed();
