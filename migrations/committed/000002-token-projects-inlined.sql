--! Previous: sha1:f14065629ee5ac63ba43787adb32047d33668ca1
--! Hash: sha1:859581ef1559c53da385d7b0df766265f6445803
--! Message: token_projects inlined into its callers

--! split: 1-current.sql
-- app.token_projects without `set search_path`: PostgreSQL inlines a SQL function into the
-- query that calls it only when it has no SET clause, and every authorized request calls it.
-- Inlined, the v2 GET of one item (role, collection and item in one statement) ran 47k -> 53k
-- statements/s under pgbench, and the role lookup alone 62k -> 79k (ADR 0009). The body names
-- every table and type with its schema, so the caller's search_path cannot redirect it.
create or replace function app.token_projects(p_user_id uuid, p_run_id uuid)
returns table (project_id uuid, role app.project_role)
language sql stable parallel safe
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
