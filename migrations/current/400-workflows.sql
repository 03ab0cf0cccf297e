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
