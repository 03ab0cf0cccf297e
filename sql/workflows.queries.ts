/** Types generated for queries found in "sql/workflows.sql" */
import { PreparedQuery } from '../src/db/prepared-query.ts';

export type project_role = 'admin' | 'editor' | 'owner' | 'viewer';

/** 'ResolveWorkflow' parameters type */
export interface IResolveWorkflowParams {
  action: string;
  id: string;
  projectId: string;
  version?: number | null | void;
}

/** 'ResolveWorkflow' return type */
export interface IResolveWorkflowResult {
  created_at: Date | null;
  definition: string | null;
  deleted_at: Date | null;
  id: string;
  kind: string;
  lock_version: number | null;
  name: string | null;
  project_id: string;
  updated_at: Date | null;
  version: number | null;
}

/** 'ResolveWorkflow' query type */
export interface IResolveWorkflowQuery {
  params: IResolveWorkflowParams;
  result: IResolveWorkflowResult;
}

const resolveWorkflowIR: any = {"usedParamSet":{"id":true,"action":true,"projectId":true,"version":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":307,"b":310}]},{"name":"action","required":true,"transform":{"type":"scalar"},"locs":[{"a":313,"b":320}]},{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":323,"b":333}]},{"name":"version","required":false,"transform":{"type":"scalar"},"locs":[{"a":336,"b":343}]}],"statement":"-- definition as PostgreSQL's own JSON text: postgres.js would JSON.parse a jsonb into doubles (1e400 -> null).\nselect kind as \"kind!\", id as \"id!\", project_id as \"project_id!\", name, definition::text as definition, lock_version, version,\n       deleted_at, created_at, updated_at\nfrom app.resolve_workflow(:id!, :action!, :projectId!, :version)"};

/**
 * Query generated from SQL:
 * ```
 * -- definition as PostgreSQL's own JSON text: postgres.js would JSON.parse a jsonb into doubles (1e400 -> null).
 * select kind as "kind!", id as "id!", project_id as "project_id!", name, definition::text as definition, lock_version, version,
 *        deleted_at, created_at, updated_at
 * from app.resolve_workflow(:id!, :action!, :projectId!, :version)
 * ```
 */
export const resolveWorkflow = new PreparedQuery<IResolveWorkflowParams,IResolveWorkflowResult>(resolveWorkflowIR);


/** 'SaveWorkflow' parameters type */
export interface ISaveWorkflowParams {
  action: string;
  body: string;
  id: string;
  lockVersion?: number | null | void;
  name: string;
  projectId: string;
}

/** 'SaveWorkflow' return type */
export interface ISaveWorkflowResult {
  created_at: Date;
  deleted_at: Date | null;
  id: string;
  kind: string;
  lock_version: number;
  name: string;
  project_id: string;
  updated_at: Date;
}

/** 'SaveWorkflow' query type */
export interface ISaveWorkflowQuery {
  params: ISaveWorkflowParams;
  result: ISaveWorkflowResult;
}

const saveWorkflowIR: any = {"usedParamSet":{"id":true,"action":true,"projectId":true,"name":true,"body":true,"lockVersion":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":513,"b":516}]},{"name":"action","required":true,"transform":{"type":"scalar"},"locs":[{"a":519,"b":526}]},{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":529,"b":539}]},{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":542,"b":547}]},{"name":"body","required":true,"transform":{"type":"scalar"},"locs":[{"a":551,"b":556}]},{"name":"lockVersion","required":false,"transform":{"type":"scalar"},"locs":[{"a":589,"b":600}]}],"statement":"-- The definition is parsed here from the request body's own text (:body), not sent as a JS value:\n-- JSON.parse rounds numbers to doubles (1e400 -> null, 9007199254740993 -> ...992); jsonb keeps them.\n-- :body is cast to text first: a jsonb parameter would be JSON.stringify'd into a JSON string.\nselect kind as \"kind!\", id as \"id!\", project_id as \"project_id!\", name as \"name!\", lock_version as \"lock_version!\",\n       deleted_at, created_at as \"created_at!\", updated_at as \"updated_at!\"\nfrom app.save_workflow(:id!, :action!, :projectId!, :name!, (:body!::text)::jsonb -> 'definition', :lockVersion)"};

/**
 * Query generated from SQL:
 * ```
 * -- The definition is parsed here from the request body's own text (:body), not sent as a JS value:
 * -- JSON.parse rounds numbers to doubles (1e400 -> null, 9007199254740993 -> ...992); jsonb keeps them.
 * -- :body is cast to text first: a jsonb parameter would be JSON.stringify'd into a JSON string.
 * select kind as "kind!", id as "id!", project_id as "project_id!", name as "name!", lock_version as "lock_version!",
 *        deleted_at, created_at as "created_at!", updated_at as "updated_at!"
 * from app.save_workflow(:id!, :action!, :projectId!, :name!, (:body!::text)::jsonb -> 'definition', :lockVersion)
 * ```
 */
export const saveWorkflow = new PreparedQuery<ISaveWorkflowParams,ISaveWorkflowResult>(saveWorkflowIR);


/** 'ResetWorkflow' parameters type */
export interface IResetWorkflowParams {
  id: string;
  projectId: string;
}

/** 'ResetWorkflow' return type */
export interface IResetWorkflowResult {
  created_at: Date;
  definition: string;
  deleted_at: Date | null;
  id: string;
  lock_version: number;
  name: string;
  project_id: string;
  updated_at: Date;
}

/** 'ResetWorkflow' query type */
export interface IResetWorkflowQuery {
  params: IResetWorkflowParams;
  result: IResetWorkflowResult;
}

const resetWorkflowIR: any = {"usedParamSet":{"id":true,"projectId":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":234,"b":237}]},{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":240,"b":250}]}],"statement":"select id as \"id!\", project_id as \"project_id!\", name as \"name!\", definition::text as \"definition!\",\n       lock_version as \"lock_version!\", deleted_at, created_at as \"created_at!\", updated_at as \"updated_at!\"\nfrom app.reset_workflow(:id!, :projectId!)"};

/**
 * Query generated from SQL:
 * ```
 * select id as "id!", project_id as "project_id!", name as "name!", definition::text as "definition!",
 *        lock_version as "lock_version!", deleted_at, created_at as "created_at!", updated_at as "updated_at!"
 * from app.reset_workflow(:id!, :projectId!)
 * ```
 */
export const resetWorkflow = new PreparedQuery<IResetWorkflowParams,IResetWorkflowResult>(resetWorkflowIR);


/** 'DeleteWorkflow' parameters type */
export interface IDeleteWorkflowParams {
  id: string;
  projectId: string;
}

/** 'DeleteWorkflow' return type */
export interface IDeleteWorkflowResult {
  id: string;
}

/** 'DeleteWorkflow' query type */
export interface IDeleteWorkflowQuery {
  params: IDeleteWorkflowParams;
  result: IDeleteWorkflowResult;
}

const deleteWorkflowIR: any = {"usedParamSet":{"id":true,"projectId":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":44,"b":47}]},{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":50,"b":60}]}],"statement":"select id as \"id!\" from app.delete_workflow(:id!, :projectId!)"};

/**
 * Query generated from SQL:
 * ```
 * select id as "id!" from app.delete_workflow(:id!, :projectId!)
 * ```
 */
export const deleteWorkflow = new PreparedQuery<IDeleteWorkflowParams,IDeleteWorkflowResult>(deleteWorkflowIR);


/** 'ListWorkflows' parameters type */
export interface IListWorkflowsParams {
  includeDeleted: boolean;
  projectId: string;
}

/** 'ListWorkflows' return type */
export interface IListWorkflowsResult {
  created_at: Date;
  deleted_at: Date | null;
  id: string;
  lock_version: number;
  name: string;
  updated_at: Date;
}

/** 'ListWorkflows' query type */
export interface IListWorkflowsQuery {
  params: IListWorkflowsParams;
  result: IListWorkflowsResult;
}

const listWorkflowsIR: any = {"usedParamSet":{"projectId":true,"includeDeleted":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":104,"b":114}]},{"name":"includeDeleted","required":true,"transform":{"type":"scalar"},"locs":[{"a":143,"b":158}]}],"statement":"select id, name, lock_version, deleted_at, created_at, updated_at\nfrom app.workflows\nwhere project_id = :projectId! and (deleted_at is null or :includeDeleted!::boolean)\norder by name, id"};

/**
 * Query generated from SQL:
 * ```
 * select id, name, lock_version, deleted_at, created_at, updated_at
 * from app.workflows
 * where project_id = :projectId! and (deleted_at is null or :includeDeleted!::boolean)
 * order by name, id
 * ```
 */
export const listWorkflows = new PreparedQuery<IListWorkflowsParams,IListWorkflowsResult>(listWorkflowsIR);


/** 'WorkflowAccess' parameters type */
export interface IWorkflowAccessParams {
  id: string;
  projectId: string;
  runId?: string | null | void;
  userId?: string | null | void;
}

/** 'WorkflowAccess' return type */
export interface IWorkflowAccessResult {
  owner_project_id: string | null;
  reaches_owner: boolean;
  role: project_role | null;
}

/** 'WorkflowAccess' query type */
export interface IWorkflowAccessQuery {
  params: IWorkflowAccessParams;
  result: IWorkflowAccessResult;
}

const workflowAccessIR: any = {"usedParamSet":{"userId":true,"runId":true,"projectId":true,"id":true},"params":[{"name":"userId","required":false,"transform":{"type":"scalar"},"locs":[{"a":496,"b":502},{"a":652,"b":658}]},{"name":"runId","required":false,"transform":{"type":"scalar"},"locs":[{"a":505,"b":510},{"a":661,"b":666}]},{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":538,"b":548}]},{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":785,"b":788}]}],"statement":"-- Authorization for a workflow route in one round trip: the token's role in the path's\n-- project (null: not reachable) and, when the id is already a workflow, its project and\n-- whether the token reaches that one too (to tell wrong_project from an unknown id).\n-- token_projects is asked twice, each time for one project, rather than once in a shared\n-- CTE: a CTE used twice is materialized, every project a superuser reaches (all of them).\nselect (select max(tp.role) from app.token_projects(:userId, :runId) tp where tp.project_id = :projectId!) as role,\n       w.project_id as \"owner_project_id?\",\n       exists (select 1 from app.token_projects(:userId, :runId) tp where tp.project_id = w.project_id) as \"reaches_owner!\"\nfrom (select) as one\nleft join app.workflows w on w.id = :id!"};

/**
 * Query generated from SQL:
 * ```
 * -- Authorization for a workflow route in one round trip: the token's role in the path's
 * -- project (null: not reachable) and, when the id is already a workflow, its project and
 * -- whether the token reaches that one too (to tell wrong_project from an unknown id).
 * -- token_projects is asked twice, each time for one project, rather than once in a shared
 * -- CTE: a CTE used twice is materialized, every project a superuser reaches (all of them).
 * select (select max(tp.role) from app.token_projects(:userId, :runId) tp where tp.project_id = :projectId!) as role,
 *        w.project_id as "owner_project_id?",
 *        exists (select 1 from app.token_projects(:userId, :runId) tp where tp.project_id = w.project_id) as "reaches_owner!"
 * from (select) as one
 * left join app.workflows w on w.id = :id!
 * ```
 */
export const workflowAccess = new PreparedQuery<IWorkflowAccessParams,IWorkflowAccessResult>(workflowAccessIR);


