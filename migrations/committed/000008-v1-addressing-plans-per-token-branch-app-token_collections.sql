--! Previous: sha1:bd9b9cd0f02407a4ea4694d6e2069ba8629b1a6c
--! Hash: sha1:30d262d38bc6d25e8d5180ec7803c82721c5e2aa
--! Message: v1 addressing plans per token branch (app.token_collections)

--! split: 1-current.sql
-- v1 addressing by name without a scan of every collection (docs/scaling.md, a DBA's
-- audit at stop 19). The v1 query joined app.collections to app.token_projects. The
-- planner cannot push that join into token_projects' three branches, and it estimates the
-- superuser branch at every project, so for every token, a run token's too, it scanned
-- all of app.collections for the name and hash-joined: 6 ms a request at 100k projects.
--
-- app.token_collections asks the same question per branch, each from its own side: a
-- user's memberships probe (project_id, name); a run's one project probes it once; only a
-- superuser, who reaches every project, looks the name up, in collections_name_idx.
-- It restates token_projects' three rules (who reaches what, as which role);
-- test/sql/identity.test.ts checks the two agree on generated data.
create or replace function app.token_collections(p_user_id uuid, p_run_id uuid, p_name text)
returns table (collection_id uuid, project_id uuid, role app.project_role)
language sql stable parallel safe
as $$
  select c.id, c.project_id, pu.role
    from app.project_users pu
    join app.collections c on c.project_id = pu.project_id and c.name = p_name
   where pu.user_id = p_user_id
     and not exists (select 1 from app.users u where u.id = p_user_id and u.is_superuser)
  union all
  select c.id, c.project_id, 'owner'::app.project_role
    from app.collections c
   where c.name = p_name
     and exists (select 1 from app.users u where u.id = p_user_id and u.is_superuser)
  union all
  select c.id, c.project_id, 'editor'::app.project_role
    from app.runs r
    join app.collections c on c.project_id = r.project_id and c.name = p_name
   where r.id = p_run_id
$$;

comment on function app.token_collections(uuid, uuid, text) is
  'The collections named p_name in the projects a token reaches, with its role there: app.token_projects joined to app.collections by name, planned per branch.';

create index if not exists collections_name_idx on app.collections (name);
