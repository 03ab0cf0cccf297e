/** Types generated for queries found in "sql/fleet.sql" */
import { PreparedQuery } from '../src/db/prepared-query.ts';

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
  handle?: string | null | void;
  runId?: string | null | void;
  serverId: string;
  userId?: string | null | void;
}

/** 'ServerAccess' return type */
export interface IServerAccessResult {
  project_id: string;
  release_command: string | null;
  release_created_at: Date | null;
  release_handle: string | null;
  release_id: string | null;
  release_name: string | null;
  release_updated_at: Date | null;
  role: project_role;
}

/** 'ServerAccess' query type */
export interface IServerAccessQuery {
  params: IServerAccessParams;
  result: IServerAccessResult;
}

const serverAccessIR: any = {"usedParamSet":{"userId":true,"runId":true,"serverId":true,"handle":true},"params":[{"name":"userId","required":false,"transform":{"type":"scalar"},"locs":[{"a":833,"b":839}]},{"name":"runId","required":false,"transform":{"type":"scalar"},"locs":[{"a":842,"b":847}]},{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":909,"b":918},{"a":989,"b":998}]},{"name":"handle","required":false,"transform":{"type":"scalar"},"locs":[{"a":1025,"b":1031}]}],"statement":"-- The server's project and the token's role in it, in one query: a server in a\n-- project the token cannot reach returns no row, exactly like a missing server.\n-- Given a handle, the row also carries the release that holds it (release_id null:\n-- none), so a GET by handle is one round trip. The role is asked of the server's one\n-- project (a joined app.token_projects was every project a superuser reaches, hashed).\nselect a.project_id as \"project_id!\", a.role as \"role!\",\n       r.id as \"release_id?\", r.name as release_name, r.release_command as \"release_command?\",\n       r.effective_handle as \"release_handle?\", r.created_at as \"release_created_at?\", r.updated_at as \"release_updated_at?\"\nfrom (\n  select s.project_id, r.role\n  from app.servers s\n  cross join lateral (\n    select max(tp.role) as role from app.token_projects(:userId, :runId) tp where tp.project_id = s.project_id\n  ) r\n  where s.id = :serverId! and r.role is not null\n) a\nleft join app.releases r on r.server_id = :serverId! and r.effective_handle = :handle::text"};

/**
 * Query generated from SQL:
 * ```
 * -- The server's project and the token's role in it, in one query: a server in a
 * -- project the token cannot reach returns no row, exactly like a missing server.
 * -- Given a handle, the row also carries the release that holds it (release_id null:
 * -- none), so a GET by handle is one round trip. The role is asked of the server's one
 * -- project (a joined app.token_projects was every project a superuser reaches, hashed).
 * select a.project_id as "project_id!", a.role as "role!",
 *        r.id as "release_id?", r.name as release_name, r.release_command as "release_command?",
 *        r.effective_handle as "release_handle?", r.created_at as "release_created_at?", r.updated_at as "release_updated_at?"
 * from (
 *   select s.project_id, r.role
 *   from app.servers s
 *   cross join lateral (
 *     select max(tp.role) as role from app.token_projects(:userId, :runId) tp where tp.project_id = s.project_id
 *   ) r
 *   where s.id = :serverId! and r.role is not null
 * ) a
 * left join app.releases r on r.server_id = :serverId! and r.effective_handle = :handle::text
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
  leastRole: project_role;
  name?: string | null | void;
  releaseCommand?: string | null | void;
  runId?: string | null | void;
  serverId: string;
  userId?: string | null | void;
}

/** 'CreateRelease' return type */
export interface ICreateReleaseResult {
  created_at: Date | null;
  effective_handle: string | null;
  id: string | null;
  name: string | null;
  release_command: string | null;
  role: project_role;
  server_id: string | null;
  updated_at: Date | null;
}

/** 'CreateRelease' query type */
export interface ICreateReleaseQuery {
  params: ICreateReleaseParams;
  result: ICreateReleaseResult;
}

const createReleaseIR: any = {"usedParamSet":{"userId":true,"runId":true,"serverId":true,"name":true,"releaseCommand":true,"leastRole":true},"params":[{"name":"userId","required":false,"transform":{"type":"scalar"},"locs":[{"a":404,"b":410}]},{"name":"runId","required":false,"transform":{"type":"scalar"},"locs":[{"a":413,"b":418}]},{"name":"serverId","required":true,"transform":{"type":"scalar"},"locs":[{"a":480,"b":489},{"a":614,"b":623}]},{"name":"name","required":false,"transform":{"type":"scalar"},"locs":[{"a":640,"b":644}]},{"name":"releaseCommand","required":false,"transform":{"type":"scalar"},"locs":[{"a":647,"b":661}]},{"name":"leastRole","required":true,"transform":{"type":"scalar"},"locs":[{"a":690,"b":700}]}],"statement":"-- Authorize and insert in one round trip: the insert runs only when the token's role\n-- in the server's project is at least :leastRole. No row back: no such server (or one\n-- the token cannot reach); id null: the role is too small. A taken handle raises 23505.\nwith a as (\n  select s.project_id, r.role\n  from app.servers s\n  cross join lateral (\n    select max(tp.role) as role from app.token_projects(:userId, :runId) tp where tp.project_id = s.project_id\n  ) r\n  where s.id = :serverId! and r.role is not null\n), inserted as (\n  insert into app.releases (server_id, project_id, name, release_command)\n  select :serverId!, a.project_id, :name, :releaseCommand\n  from a\n  where a.role >= :leastRole!::app.project_role\n  returning id, server_id, name, release_command, effective_handle, created_at, updated_at\n)\nselect a.role as \"role!\", r.id as \"id?\", r.server_id as \"server_id?\", r.name, r.release_command,\n       r.effective_handle, r.created_at as \"created_at?\", r.updated_at as \"updated_at?\"\nfrom a\nleft join inserted r on true"};

/**
 * Query generated from SQL:
 * ```
 * -- Authorize and insert in one round trip: the insert runs only when the token's role
 * -- in the server's project is at least :leastRole. No row back: no such server (or one
 * -- the token cannot reach); id null: the role is too small. A taken handle raises 23505.
 * with a as (
 *   select s.project_id, r.role
 *   from app.servers s
 *   cross join lateral (
 *     select max(tp.role) as role from app.token_projects(:userId, :runId) tp where tp.project_id = s.project_id
 *   ) r
 *   where s.id = :serverId! and r.role is not null
 * ), inserted as (
 *   insert into app.releases (server_id, project_id, name, release_command)
 *   select :serverId!, a.project_id, :name, :releaseCommand
 *   from a
 *   where a.role >= :leastRole!::app.project_role
 *   returning id, server_id, name, release_command, effective_handle, created_at, updated_at
 * )
 * select a.role as "role!", r.id as "id?", r.server_id as "server_id?", r.name, r.release_command,
 *        r.effective_handle, r.created_at as "created_at?", r.updated_at as "updated_at?"
 * from a
 * left join inserted r on true
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


