/* @name createServer */
insert into app.servers (project_id, name)
values (:projectId!, :name!)
returning id, project_id, name, created_at;

/* @name listServers */
select id, project_id, name, created_at
from app.servers
where project_id = :projectId!
order by name, id;

/* @name serverAccess */
-- The server's project and the token's role in it, in one query: a server in a
-- project the token cannot reach returns no row, exactly like a missing server.
-- Given a handle, the row also carries the release that holds it (release_id null:
-- none), so a GET by handle is one round trip. The role is asked of the server's one
-- project (a joined app.token_projects was every project a superuser reaches, hashed).
select a.project_id as "project_id!", a.role as "role!",
       r.id as "release_id?", r.name as release_name, r.release_command as "release_command?",
       r.effective_handle as "release_handle?", r.created_at as "release_created_at?", r.updated_at as "release_updated_at?"
from (
  select s.project_id, r.role
  from app.servers s
  cross join lateral (
    select max(tp.role) as role from app.token_projects(:userId, :runId) tp where tp.project_id = s.project_id
  ) r
  where s.id = :serverId! and r.role is not null
) a
left join app.releases r on r.server_id = :serverId! and r.effective_handle = :handle::text;

/* @name findHandleHolder */
-- The friendly pre-check before a create: the release that already holds the
-- handle (name, release_command) would get, if any. One probe of the unique index.
select r.id, r.name, r.release_command, r.effective_handle as "effective_handle!"
from app.releases r
where r.server_id = :serverId!
  and r.effective_handle = app.effective_handle(:name, :releaseCommand)
limit 1;

/* @name findPatchHandleHolder */
-- The same pre-check before a patch: merges the patch into the current row,
-- excludes the release itself, and says whether the release exists at all.
select cur.id as "release_id!",
       nullif(next.name, '') is not null as "by_name!",
       next.handle,
       holder.id as "holder_id?", holder.name as holder_name, holder.release_command as holder_release_command
from app.releases cur
cross join lateral (
  select n.name, app.effective_handle(n.name, n.release_command) as handle
  from (select case when :setName!::boolean then :name::text else cur.name end as name,
               case when :setReleaseCommand!::boolean then :releaseCommand::text else cur.release_command end as release_command) n
) next
left join lateral (
  select r.id, r.name, r.release_command
  from app.releases r
  where r.server_id = cur.server_id and r.effective_handle = next.handle and r.id <> cur.id
  limit 1
) holder on true
where cur.id = :id! and cur.server_id = :serverId!;

/* @name createRelease */
-- Authorize and insert in one round trip: the insert runs only when the token's role
-- in the server's project is at least :leastRole. No row back: no such server (or one
-- the token cannot reach); id null: the role is too small. A taken handle raises 23505.
with a as (
  select s.project_id, r.role
  from app.servers s
  cross join lateral (
    select max(tp.role) as role from app.token_projects(:userId, :runId) tp where tp.project_id = s.project_id
  ) r
  where s.id = :serverId! and r.role is not null
), inserted as (
  insert into app.releases (server_id, project_id, name, release_command)
  select :serverId!, a.project_id, :name, :releaseCommand
  from a
  where a.role >= :leastRole!::app.project_role
  returning id, server_id, name, release_command, effective_handle, created_at, updated_at
)
select a.role as "role!", r.id as "id?", r.server_id as "server_id?", r.name, r.release_command,
       r.effective_handle, r.created_at as "created_at?", r.updated_at as "updated_at?"
from a
left join inserted r on true;

/* @name updateRelease */
update app.releases
set name = case when :setName!::boolean then :name::text else name end,
    release_command = case when :setReleaseCommand!::boolean then :releaseCommand::text else release_command end,
    updated_at = now()
where id = :id! and server_id = :serverId!
returning id, server_id, name, release_command, effective_handle, created_at, updated_at;

/* @name deleteRelease */
delete from app.releases
where id = :id! and server_id = :serverId!
returning id;

/* @name listReleases */
select id, server_id, name, release_command, effective_handle, created_at, updated_at
from app.releases
where server_id = :serverId!
order by effective_handle nulls last, created_at, id;
