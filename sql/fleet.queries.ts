/** Types generated for queries found in "sql/fleet.sql" */
import { PreparedQuery } from '@pgtyped/runtime';

export type project_role = 'admin' | 'editor' | 'owner' | 'viewer';

/** 'CreateServer' parameters type */
export interface ICreateServerParams {
  name: string;
  projectId: string;
}

/** 'CreateServer' return type */
export interface ICreateServerResult {
  created_at: Date;
  id: string;
  name: string;
  project_id: string;
}

/** 'CreateServer' query type */
export interface ICreateServerQuery {
  params: ICreateServerParams;
  result: ICreateServerResult;
}

const createServerIR: any = {"usedParamSet":{"projectId":true,"name":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":51,"b":61}]},{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":64,"b":69}]}],"statement":"insert into app.servers (project_id, name)\nvalues (:projectId!, :name!)\nreturning id, project_id, name, created_at"};

/**
 * Query generated from SQL:
 * ```
 * insert into app.servers (project_id, name)
 * values (:projectId!, :name!)
 * returning id, project_id, name, created_at
 * ```
 */
export const createServer = new PreparedQuery<ICreateServerParams,ICreateServerResult>(createServerIR);


/** 'ListServers' parameters type */
export interface IListServersParams {
  projectId: string;
}

/** 'ListServers' return type */
export interface IListServersResult {
  created_at: Date;
  id: string;
  name: string;
  project_id: string;
}

/** 'ListServers' query type */
export interface IListServersQuery {
  params: IListServersParams;
  result: IListServersResult;
}

const listServersIR: any = {"usedParamSet":{"projectId":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":76,"b":86}]}],"statement":"select id, project_id, name, created_at\nfrom app.servers\nwhere project_id = :projectId!\norder by name, id"};

/**
 * Query generated from SQL:
 * ```
 * select id, project_id, name, created_at
 * from app.servers
 * where project_id = :projectId!
 * order by name, id
 * ```
 */
export const listServers = new PreparedQuery<IListServersParams,IListServersResult>(listServersIR);


/** 'ServerAccess' parameters type */
export interface IServerAccessParams {
  runId?: string | null | void;
  serverId: string;
  userId?: string | null | void;
}

/** 'ServerAccess' return type */
export interface IServerAccessResult {
  project_id: string;
  role: project_role;
}

/** 'ServerAccess' query type */
export interface IServerAccessQuery {
  params: IServerAccessParams;
  result: IServerAccessResult;
}

const serverAccessIR: any = {"usedParamSet":{"userId":true,"runId":true,"serverId":true},"params":[{"name":"userId","required":false,"transform":{"type":"scalar"},"locs":[{"a":266,"b":272}]},{"name":"runId","required":false,"transform":{"type":"scalar"},"locs":[{"a":275,"b":280}]},{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":331,"b":340}]}],"statement":"-- The server's project and the token's role in it, in one query: a server in a\n-- project the token cannot reach returns no row, exactly like a missing server.\nselect s.project_id as \"project_id!\", max(tp.role) as \"role!\"\nfrom app.servers s\njoin app.token_projects(:userId, :runId) tp on tp.project_id = s.project_id\nwhere s.id = :serverId!\ngroup by s.project_id"};

/**
 * Query generated from SQL:
 * ```
 * -- The server's project and the token's role in it, in one query: a server in a
 * -- project the token cannot reach returns no row, exactly like a missing server.
 * select s.project_id as "project_id!", max(tp.role) as "role!"
 * from app.servers s
 * join app.token_projects(:userId, :runId) tp on tp.project_id = s.project_id
 * where s.id = :serverId!
 * group by s.project_id
 * ```
 */
export const serverAccess = new PreparedQuery<IServerAccessParams,IServerAccessResult>(serverAccessIR);


/** 'FindHandleHolder' parameters type */
export interface IFindHandleHolderParams {
  name?: string | null | void;
  releaseCommand?: string | null | void;
  serverId: string;
}

/** 'FindHandleHolder' return type */
export interface IFindHandleHolderResult {
  effective_handle: string;
  id: string;
  name: string | null;
  release_command: string | null;
}

/** 'FindHandleHolder' query type */
export interface IFindHandleHolderQuery {
  params: IFindHandleHolderParams;
  result: IFindHandleHolderResult;
}

const findHandleHolderIR: any = {"usedParamSet":{"serverId":true,"name":true,"releaseCommand":true},"params":[{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":284,"b":293}]},{"name":"name","required":false,"transform":{"type":"scalar"},"locs":[{"a":343,"b":347}]},{"name":"releaseCommand","required":false,"transform":{"type":"scalar"},"locs":[{"a":350,"b":364}]}],"statement":"-- The friendly pre-check before a create: the release that already holds the\n-- handle (name, release_command) would get, if any. One probe of the unique index.\nselect r.id, r.name, r.release_command, r.effective_handle as \"effective_handle!\"\nfrom app.releases r\nwhere r.server_id = :serverId!\n  and r.effective_handle = app.effective_handle(:name, :releaseCommand)\nlimit 1"};

/**
 * Query generated from SQL:
 * ```
 * -- The friendly pre-check before a create: the release that already holds the
 * -- handle (name, release_command) would get, if any. One probe of the unique index.
 * select r.id, r.name, r.release_command, r.effective_handle as "effective_handle!"
 * from app.releases r
 * where r.server_id = :serverId!
 *   and r.effective_handle = app.effective_handle(:name, :releaseCommand)
 * limit 1
 * ```
 */
export const findHandleHolder = new PreparedQuery<IFindHandleHolderParams,IFindHandleHolderResult>(findHandleHolderIR);


/** 'FindPatchHandleHolder' parameters type */
export interface IFindPatchHandleHolderParams {
  id: string;
  name?: string | null | void;
  releaseCommand?: string | null | void;
  serverId: string;
  setName: boolean;
  setReleaseCommand: boolean;
}

/** 'FindPatchHandleHolder' return type */
export interface IFindPatchHandleHolderResult {
  by_name: boolean;
  handle: string | null;
  holder_id: string | null;
  holder_name: string | null;
  holder_release_command: string | null;
  release_id: string;
}

/** 'FindPatchHandleHolder' query type */
export interface IFindPatchHandleHolderQuery {
  params: IFindPatchHandleHolderParams;
  result: IFindPatchHandleHolderResult;
}

const findPatchHandleHolderIR: any = {"usedParamSet":{"setName":true,"name":true,"setReleaseCommand":true,"releaseCommand":true,"id":true,"serverId":true},"params":[{"name":"setName","required":true,"transform":{"type":"scalar"},"locs":[{"a":515,"b":523}]},{"name":"name","required":false,"transform":{"type":"scalar"},"locs":[{"a":539,"b":543}]},{"name":"setReleaseCommand","required":true,"transform":{"type":"scalar"},"locs":[{"a":603,"b":621}]},{"name":"releaseCommand","required":false,"transform":{"type":"scalar"},"locs":[{"a":637,"b":651}]},{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":934,"b":937}]},{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":959,"b":968}]}],"statement":"-- The same pre-check before a patch: merges the patch into the current row,\n-- excludes the release itself, and says whether the release exists at all.\nselect cur.id as \"release_id!\",\n       nullif(next.name, '') is not null as \"by_name!\",\n       next.handle,\n       holder.id as \"holder_id?\", holder.name as holder_name, holder.release_command as holder_release_command\nfrom app.releases cur\ncross join lateral (\n  select n.name, app.effective_handle(n.name, n.release_command) as handle\n  from (select case when :setName!::boolean then :name::text else cur.name end as name,\n               case when :setReleaseCommand!::boolean then :releaseCommand::text else cur.release_command end as release_command) n\n) next\nleft join lateral (\n  select r.id, r.name, r.release_command\n  from app.releases r\n  where r.server_id = cur.server_id and r.effective_handle = next.handle and r.id <> cur.id\n  limit 1\n) holder on true\nwhere cur.id = :id! and cur.server_id = :serverId!"};

/**
 * Query generated from SQL:
 * ```
 * -- The same pre-check before a patch: merges the patch into the current row,
 * -- excludes the release itself, and says whether the release exists at all.
 * select cur.id as "release_id!",
 *        nullif(next.name, '') is not null as "by_name!",
 *        next.handle,
 *        holder.id as "holder_id?", holder.name as holder_name, holder.release_command as holder_release_command
 * from app.releases cur
 * cross join lateral (
 *   select n.name, app.effective_handle(n.name, n.release_command) as handle
 *   from (select case when :setName!::boolean then :name::text else cur.name end as name,
 *                case when :setReleaseCommand!::boolean then :releaseCommand::text else cur.release_command end as release_command) n
 * ) next
 * left join lateral (
 *   select r.id, r.name, r.release_command
 *   from app.releases r
 *   where r.server_id = cur.server_id and r.effective_handle = next.handle and r.id <> cur.id
 *   limit 1
 * ) holder on true
 * where cur.id = :id! and cur.server_id = :serverId!
 * ```
 */
export const findPatchHandleHolder = new PreparedQuery<IFindPatchHandleHolderParams,IFindPatchHandleHolderResult>(findPatchHandleHolderIR);


/** 'CreateRelease' parameters type */
export interface ICreateReleaseParams {
  name?: string | null | void;
  projectId: string;
  releaseCommand?: string | null | void;
  serverId: string;
}

/** 'CreateRelease' return type */
export interface ICreateReleaseResult {
  created_at: Date;
  effective_handle: string | null;
  id: string;
  name: string | null;
  release_command: string | null;
  server_id: string;
  updated_at: Date;
}

/** 'CreateRelease' query type */
export interface ICreateReleaseQuery {
  params: ICreateReleaseParams;
  result: ICreateReleaseResult;
}

const createReleaseIR: any = {"usedParamSet":{"serverId":true,"projectId":true,"name":true,"releaseCommand":true},"params":[{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":80,"b":89}]},{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":92,"b":102}]},{"name":"name","required":false,"transform":{"type":"scalar"},"locs":[{"a":105,"b":109}]},{"name":"releaseCommand","required":false,"transform":{"type":"scalar"},"locs":[{"a":112,"b":126}]}],"statement":"insert into app.releases (server_id, project_id, name, release_command)\nvalues (:serverId!, :projectId!, :name, :releaseCommand)\nreturning id, server_id, name, release_command, effective_handle, created_at, updated_at"};

/**
 * Query generated from SQL:
 * ```
 * insert into app.releases (server_id, project_id, name, release_command)
 * values (:serverId!, :projectId!, :name, :releaseCommand)
 * returning id, server_id, name, release_command, effective_handle, created_at, updated_at
 * ```
 */
export const createRelease = new PreparedQuery<ICreateReleaseParams,ICreateReleaseResult>(createReleaseIR);


/** 'UpdateRelease' parameters type */
export interface IUpdateReleaseParams {
  id: string;
  name?: string | null | void;
  releaseCommand?: string | null | void;
  serverId: string;
  setName: boolean;
  setReleaseCommand: boolean;
}

/** 'UpdateRelease' return type */
export interface IUpdateReleaseResult {
  created_at: Date;
  effective_handle: string | null;
  id: string;
  name: string | null;
  release_command: string | null;
  server_id: string;
  updated_at: Date;
}

/** 'UpdateRelease' query type */
export interface IUpdateReleaseQuery {
  params: IUpdateReleaseParams;
  result: IUpdateReleaseResult;
}

const updateReleaseIR: any = {"usedParamSet":{"setName":true,"name":true,"setReleaseCommand":true,"releaseCommand":true,"id":true,"serverId":true},"params":[{"name":"setName","required":true,"transform":{"type":"scalar"},"locs":[{"a":41,"b":49}]},{"name":"name","required":false,"transform":{"type":"scalar"},"locs":[{"a":65,"b":69}]},{"name":"setReleaseCommand","required":true,"transform":{"type":"scalar"},"locs":[{"a":124,"b":142}]},{"name":"releaseCommand","required":false,"transform":{"type":"scalar"},"locs":[{"a":158,"b":172}]},{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":240,"b":243}]},{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":261,"b":270}]}],"statement":"update app.releases\nset name = case when :setName!::boolean then :name::text else name end,\n    release_command = case when :setReleaseCommand!::boolean then :releaseCommand::text else release_command end,\n    updated_at = now()\nwhere id = :id! and server_id = :serverId!\nreturning id, server_id, name, release_command, effective_handle, created_at, updated_at"};

/**
 * Query generated from SQL:
 * ```
 * update app.releases
 * set name = case when :setName!::boolean then :name::text else name end,
 *     release_command = case when :setReleaseCommand!::boolean then :releaseCommand::text else release_command end,
 *     updated_at = now()
 * where id = :id! and server_id = :serverId!
 * returning id, server_id, name, release_command, effective_handle, created_at, updated_at
 * ```
 */
export const updateRelease = new PreparedQuery<IUpdateReleaseParams,IUpdateReleaseResult>(updateReleaseIR);


/** 'DeleteRelease' parameters type */
export interface IDeleteReleaseParams {
  id: string;
  serverId: string;
}

/** 'DeleteRelease' return type */
export interface IDeleteReleaseResult {
  id: string;
}

/** 'DeleteRelease' query type */
export interface IDeleteReleaseQuery {
  params: IDeleteReleaseParams;
  result: IDeleteReleaseResult;
}

const deleteReleaseIR: any = {"usedParamSet":{"id":true,"serverId":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":36,"b":39}]},{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":57,"b":66}]}],"statement":"delete from app.releases\nwhere id = :id! and server_id = :serverId!\nreturning id"};

/**
 * Query generated from SQL:
 * ```
 * delete from app.releases
 * where id = :id! and server_id = :serverId!
 * returning id
 * ```
 */
export const deleteRelease = new PreparedQuery<IDeleteReleaseParams,IDeleteReleaseResult>(deleteReleaseIR);


/** 'GetReleaseByHandle' parameters type */
export interface IGetReleaseByHandleParams {
  handle: string;
  serverId: string;
}

/** 'GetReleaseByHandle' return type */
export interface IGetReleaseByHandleResult {
  created_at: Date;
  effective_handle: string | null;
  id: string;
  name: string | null;
  release_command: string | null;
  server_id: string;
  updated_at: Date;
}

/** 'GetReleaseByHandle' query type */
export interface IGetReleaseByHandleQuery {
  params: IGetReleaseByHandleParams;
  result: IGetReleaseByHandleResult;
}

const getReleaseByHandleIR: any = {"usedParamSet":{"serverId":true,"handle":true},"params":[{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":122,"b":131}]},{"name":"handle","required":true,"transform":{"type":"scalar"},"locs":[{"a":156,"b":163}]}],"statement":"select id, server_id, name, release_command, effective_handle, created_at, updated_at\nfrom app.releases\nwhere server_id = :serverId! and effective_handle = :handle!"};

/**
 * Query generated from SQL:
 * ```
 * select id, server_id, name, release_command, effective_handle, created_at, updated_at
 * from app.releases
 * where server_id = :serverId! and effective_handle = :handle!
 * ```
 */
export const getReleaseByHandle = new PreparedQuery<IGetReleaseByHandleParams,IGetReleaseByHandleResult>(getReleaseByHandleIR);


/** 'ListReleases' parameters type */
export interface IListReleasesParams {
  serverId: string;
}

/** 'ListReleases' return type */
export interface IListReleasesResult {
  created_at: Date;
  effective_handle: string | null;
  id: string;
  name: string | null;
  release_command: string | null;
  server_id: string;
  updated_at: Date;
}

/** 'ListReleases' query type */
export interface IListReleasesQuery {
  params: IListReleasesParams;
  result: IListReleasesResult;
}

const listReleasesIR: any = {"usedParamSet":{"serverId":true},"params":[{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":122,"b":131}]}],"statement":"select id, server_id, name, release_command, effective_handle, created_at, updated_at\nfrom app.releases\nwhere server_id = :serverId!\norder by effective_handle nulls last, created_at, id"};

/**
 * Query generated from SQL:
 * ```
 * select id, server_id, name, release_command, effective_handle, created_at, updated_at
 * from app.releases
 * where server_id = :serverId!
 * order by effective_handle nulls last, created_at, id
 * ```
 */
export const listReleases = new PreparedQuery<IListReleasesParams,IListReleasesResult>(listReleasesIR);


