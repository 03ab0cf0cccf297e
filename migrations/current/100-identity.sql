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
