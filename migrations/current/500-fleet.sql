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
