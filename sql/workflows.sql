/* @name resolveWorkflow */
-- definition as PostgreSQL's own JSON text: postgres.js would JSON.parse a jsonb into doubles (1e400 -> null).
select kind as "kind!", id as "id!", project_id as "project_id!", name, definition::text as definition, lock_version, version,
       deleted_at, created_at, updated_at
from app.resolve_workflow(:id!, :action!, :projectId!, :version);

/* @name saveWorkflow */
-- The definition is parsed here from the request body's own text (:body), not sent as a JS value:
-- JSON.parse rounds numbers to doubles (1e400 -> null, 9007199254740993 -> ...992); jsonb keeps them.
-- :body is cast to text first: a jsonb parameter would be JSON.stringify'd into a JSON string.
select kind as "kind!", id as "id!", project_id as "project_id!", name as "name!", lock_version as "lock_version!",
       deleted_at, created_at as "created_at!", updated_at as "updated_at!"
from app.save_workflow(:id!, :action!, :projectId!, :name!, (:body!::text)::jsonb -> 'definition', :lockVersion);

/* @name resetWorkflow */
select id as "id!", project_id as "project_id!", name as "name!", definition::text as "definition!",
       lock_version as "lock_version!", deleted_at, created_at as "created_at!", updated_at as "updated_at!"
from app.reset_workflow(:id!, :projectId!);

/* @name deleteWorkflow */
select id as "id!" from app.delete_workflow(:id!, :projectId!);

/* @name listWorkflows */
select id, name, lock_version, deleted_at, created_at, updated_at
from app.workflows
where project_id = :projectId! and (deleted_at is null or :includeDeleted!::boolean)
order by name, id;

/* @name workflowAccess */
-- Authorization for a workflow route in one round trip: the token's role in the path's
-- project (null: not reachable) and, when the id is already a workflow, its project and
-- whether the token reaches that one too (to tell wrong_project from an unknown id).
-- token_projects is asked twice, each time for one project, rather than once in a shared
-- CTE: a CTE used twice is materialized, every project a superuser reaches (all of them).
select (select max(tp.role) from app.token_projects(:userId, :runId) tp where tp.project_id = :projectId!) as role,
       w.project_id as "owner_project_id?",
       exists (select 1 from app.token_projects(:userId, :runId) tp where tp.project_id = w.project_id) as "reaches_owner!"
from (select) as one
left join app.workflows w on w.id = :id!;
