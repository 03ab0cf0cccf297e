/* @name createUser */
insert into app.users (email, is_superuser)
values (:email!, :isSuperuser!)
returning id, email::text as "email!", is_superuser;

/* @name findUserByEmail */
select id, email::text as "email!", is_superuser from app.users where email = :email!::citext;

/* @name insertAccessToken */
insert into app.access_tokens (jti, user_id, name, expires_at)
values (:jti!, :userId!, :name!, :expiresAt)
returning jti, name, created_at, expires_at;

/* @name listAccessTokens */
select jti, name, created_at, expires_at, last_used_at, revoked_at
from app.access_tokens
where user_id = :userId!
order by created_at, jti;

/* @name revokeAccessToken */
update app.access_tokens
set revoked_at = coalesce(revoked_at, now())
where jti = :jti! and user_id = :userId!
returning jti;

/* @name accessTokenStatus */
select t.user_id, t.revoked_at, t.expires_at
from app.access_tokens t
where t.jti = :jti!;

/* @name touchAccessTokens */
update app.access_tokens
set last_used_at = now()
where jti = any(:jtis!::uuid[]);

/* @name projectRole */
select max(tp.role) as role
from app.token_projects(:userId, :runId) tp
where tp.project_id = :projectId!
having max(tp.role) is not null;

/* @name createProject */
select id as "id!", name as "name!", parent_id, created_at as "created_at!"
from app.create_project(:name!, :ownerId!);

/* @name listProjects */
select p.id, p.name, p.parent_id, tp.role as "role!", p.created_at
from app.token_projects(:userId, :runId) tp
join app.projects p on p.id = tp.project_id
order by p.created_at, p.id;

/* @name getProject */
select id, name, parent_id, created_at from app.projects where id = :id!;

/* @name deleteProject */
-- Through the function: item writers arriving while it waits queue behind it (migration 000009).
select app.delete_project(:id!) as "deleted!";

/* @name createSandbox */
select id as "id!", name as "name!", parent_id, created_at as "created_at!"
from app.create_sandbox(:parentId!, :name!, :ownerId!);

/* @name setMember */
select user_id as "user_id!", email::text as "email!", role as "role!", created as "created!"
-- The email is left untyped: the function's signature types it as citext without naming the type,
-- which a search_path without the extension's schema (a database set that way) cannot resolve.
from app.set_member(:projectId!, :email!, :role!::app.project_role, :actorRole!::app.project_role);

/* @name removeMember */
select app.remove_member(:projectId!, :userId!, :actorRole!::app.project_role) as "removed!";

/* @name listMembers */
select pu.user_id, u.email::text as "email!", pu.role
from app.project_users pu join app.users u on u.id = pu.user_id
where pu.project_id = :projectId!
order by pu.role desc, u.email;

/* @name createRun */
insert into app.runs (project_id, workflow_id, created_by)
values (:projectId!, :workflowId, :createdBy)
returning id, project_id;
