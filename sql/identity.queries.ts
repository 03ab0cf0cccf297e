/** Types generated for queries found in "sql/identity.sql" */
import { PreparedQuery } from '../src/db/prepared-query.ts';

export type project_role = 'admin' | 'editor' | 'owner' | 'viewer';

export type DateOrString = Date | string;

export type stringArray = (string)[];

/** 'CreateUser' parameters type */
export interface ICreateUserParams {
  email: string;
  isSuperuser: boolean;
}

/** 'CreateUser' return type */
export interface ICreateUserResult {
  email: string;
  id: string;
  is_superuser: boolean;
}

/** 'CreateUser' query type */
export interface ICreateUserQuery {
  params: ICreateUserParams;
  result: ICreateUserResult;
}

const createUserIR: any = {"usedParamSet":{"email":true,"isSuperuser":true},"params":[{"name":"email","required":true,"transform":{"type":"scalar"},"locs":[{"a":52,"b":58}]},{"name":"isSuperuser","required":true,"transform":{"type":"scalar"},"locs":[{"a":61,"b":73}]}],"statement":"insert into app.users (email, is_superuser)\nvalues (:email!, :isSuperuser!)\nreturning id, email::text as \"email!\", is_superuser"};

/**
 * Query generated from SQL:
 * ```
 * insert into app.users (email, is_superuser)
 * values (:email!, :isSuperuser!)
 * returning id, email::text as "email!", is_superuser
 * ```
 */
export const createUser = new PreparedQuery<ICreateUserParams,ICreateUserResult>(createUserIR);


/** 'FindUserByEmail' parameters type */
export interface IFindUserByEmailParams {
  email: string;
}

/** 'FindUserByEmail' return type */
export interface IFindUserByEmailResult {
  email: string;
  id: string;
  is_superuser: boolean;
}

/** 'FindUserByEmail' query type */
export interface IFindUserByEmailQuery {
  params: IFindUserByEmailParams;
  result: IFindUserByEmailResult;
}

const findUserByEmailIR: any = {"usedParamSet":{"email":true},"params":[{"name":"email","required":true,"transform":{"type":"scalar"},"locs":[{"a":78,"b":84}]}],"statement":"select id, email::text as \"email!\", is_superuser from app.users where email = :email!::citext"};

/**
 * Query generated from SQL:
 * ```
 * select id, email::text as "email!", is_superuser from app.users where email = :email!::citext
 * ```
 */
export const findUserByEmail = new PreparedQuery<IFindUserByEmailParams,IFindUserByEmailResult>(findUserByEmailIR);


/** 'InsertAccessToken' parameters type */
export interface IInsertAccessTokenParams {
  expiresAt?: DateOrString | null | void;
  jti: string;
  name: string;
  userId: string;
}

/** 'InsertAccessToken' return type */
export interface IInsertAccessTokenResult {
  created_at: Date;
  expires_at: Date | null;
  jti: string;
  name: string;
}

/** 'InsertAccessToken' query type */
export interface IInsertAccessTokenQuery {
  params: IInsertAccessTokenParams;
  result: IInsertAccessTokenResult;
}

const insertAccessTokenIR: any = {"usedParamSet":{"jti":true,"userId":true,"name":true,"expiresAt":true},"params":[{"name":"jti","required":true,"transform":{"type":"scalar"},"locs":[{"a":71,"b":75}]},{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":78,"b":85}]},{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":88,"b":93}]},{"name":"expiresAt","required":false,"transform":{"type":"scalar"},"locs":[{"a":96,"b":105}]}],"statement":"insert into app.access_tokens (jti, user_id, name, expires_at)\nvalues (:jti!, :userId!, :name!, :expiresAt)\nreturning jti, name, created_at, expires_at"};

/**
 * Query generated from SQL:
 * ```
 * insert into app.access_tokens (jti, user_id, name, expires_at)
 * values (:jti!, :userId!, :name!, :expiresAt)
 * returning jti, name, created_at, expires_at
 * ```
 */
export const insertAccessToken = new PreparedQuery<IInsertAccessTokenParams,IInsertAccessTokenResult>(insertAccessTokenIR);


/** 'ListAccessTokens' parameters type */
export interface IListAccessTokensParams {
  userId: string;
}

/** 'ListAccessTokens' return type */
export interface IListAccessTokensResult {
  created_at: Date;
  expires_at: Date | null;
  jti: string;
  last_used_at: Date | null;
  name: string;
  revoked_at: Date | null;
}

/** 'ListAccessTokens' query type */
export interface IListAccessTokensQuery {
  params: IListAccessTokensParams;
  result: IListAccessTokensResult;
}

const listAccessTokensIR: any = {"usedParamSet":{"userId":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":106,"b":113}]}],"statement":"select jti, name, created_at, expires_at, last_used_at, revoked_at\nfrom app.access_tokens\nwhere user_id = :userId!\norder by created_at, jti"};

/**
 * Query generated from SQL:
 * ```
 * select jti, name, created_at, expires_at, last_used_at, revoked_at
 * from app.access_tokens
 * where user_id = :userId!
 * order by created_at, jti
 * ```
 */
export const listAccessTokens = new PreparedQuery<IListAccessTokensParams,IListAccessTokensResult>(listAccessTokensIR);


/** 'RevokeAccessToken' parameters type */
export interface IRevokeAccessTokenParams {
  jti: string;
  userId: string;
}

/** 'RevokeAccessToken' return type */
export interface IRevokeAccessTokenResult {
  jti: string;
}

/** 'RevokeAccessToken' query type */
export interface IRevokeAccessTokenQuery {
  params: IRevokeAccessTokenParams;
  result: IRevokeAccessTokenResult;
}

const revokeAccessTokenIR: any = {"usedParamSet":{"jti":true,"userId":true},"params":[{"name":"jti","required":true,"transform":{"type":"scalar"},"locs":[{"a":82,"b":86}]},{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":102,"b":109}]}],"statement":"update app.access_tokens\nset revoked_at = coalesce(revoked_at, now())\nwhere jti = :jti! and user_id = :userId!\nreturning jti"};

/**
 * Query generated from SQL:
 * ```
 * update app.access_tokens
 * set revoked_at = coalesce(revoked_at, now())
 * where jti = :jti! and user_id = :userId!
 * returning jti
 * ```
 */
export const revokeAccessToken = new PreparedQuery<IRevokeAccessTokenParams,IRevokeAccessTokenResult>(revokeAccessTokenIR);


/** 'AccessTokenStatus' parameters type */
export interface IAccessTokenStatusParams {
  jti: string;
}

/** 'AccessTokenStatus' return type */
export interface IAccessTokenStatusResult {
  expires_at: Date | null;
  revoked_at: Date | null;
  user_id: string;
}

/** 'AccessTokenStatus' query type */
export interface IAccessTokenStatusQuery {
  params: IAccessTokenStatusParams;
  result: IAccessTokenStatusResult;
}

const accessTokenStatusIR: any = {"usedParamSet":{"jti":true},"params":[{"name":"jti","required":true,"transform":{"type":"scalar"},"locs":[{"a":84,"b":88}]}],"statement":"select t.user_id, t.revoked_at, t.expires_at\nfrom app.access_tokens t\nwhere t.jti = :jti!"};

/**
 * Query generated from SQL:
 * ```
 * select t.user_id, t.revoked_at, t.expires_at
 * from app.access_tokens t
 * where t.jti = :jti!
 * ```
 */
export const accessTokenStatus = new PreparedQuery<IAccessTokenStatusParams,IAccessTokenStatusResult>(accessTokenStatusIR);


/** 'TouchAccessTokens' parameters type */
export interface ITouchAccessTokensParams {
  jtis: stringArray;
}

/** 'TouchAccessTokens' return type */
export type ITouchAccessTokensResult = void;

/** 'TouchAccessTokens' query type */
export interface ITouchAccessTokensQuery {
  params: ITouchAccessTokensParams;
  result: ITouchAccessTokensResult;
}

const touchAccessTokensIR: any = {"usedParamSet":{"jtis":true},"params":[{"name":"jtis","required":true,"transform":{"type":"scalar"},"locs":[{"a":66,"b":71}]}],"statement":"update app.access_tokens\nset last_used_at = now()\nwhere jti = any(:jtis!::uuid[])"};

/**
 * Query generated from SQL:
 * ```
 * update app.access_tokens
 * set last_used_at = now()
 * where jti = any(:jtis!::uuid[])
 * ```
 */
export const touchAccessTokens = new PreparedQuery<ITouchAccessTokensParams,ITouchAccessTokensResult>(touchAccessTokensIR);


/** 'ProjectRole' parameters type */
export interface IProjectRoleParams {
  projectId: string;
  runId?: string | null | void;
  userId?: string | null | void;
}

/** 'ProjectRole' return type */
export interface IProjectRoleResult {
  role: project_role | null;
}

/** 'ProjectRole' query type */
export interface IProjectRoleQuery {
  params: IProjectRoleParams;
  result: IProjectRoleResult;
}

const projectRoleIR: any = {"usedParamSet":{"userId":true,"runId":true,"projectId":true},"params":[{"name":"userId","required":false,"transform":{"type":"scalar"},"locs":[{"a":52,"b":58}]},{"name":"runId","required":false,"transform":{"type":"scalar"},"locs":[{"a":61,"b":66}]},{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":94,"b":104}]}],"statement":"select max(tp.role) as role\nfrom app.token_projects(:userId, :runId) tp\nwhere tp.project_id = :projectId!\nhaving max(tp.role) is not null"};

/**
 * Query generated from SQL:
 * ```
 * select max(tp.role) as role
 * from app.token_projects(:userId, :runId) tp
 * where tp.project_id = :projectId!
 * having max(tp.role) is not null
 * ```
 */
export const projectRole = new PreparedQuery<IProjectRoleParams,IProjectRoleResult>(projectRoleIR);


/** 'CreateProject' parameters type */
export interface ICreateProjectParams {
  name: string;
  ownerId: string;
}

/** 'CreateProject' return type */
export interface ICreateProjectResult {
  created_at: Date;
  id: string;
  name: string;
  parent_id: string | null;
}

/** 'CreateProject' query type */
export interface ICreateProjectQuery {
  params: ICreateProjectParams;
  result: ICreateProjectResult;
}

const createProjectIR: any = {"usedParamSet":{"name":true,"ownerId":true},"params":[{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":100,"b":105}]},{"name":"ownerId","required":true,"transform":{"type":"scalar"},"locs":[{"a":108,"b":116}]}],"statement":"select id as \"id!\", name as \"name!\", parent_id, created_at as \"created_at!\"\nfrom app.create_project(:name!, :ownerId!)"};

/**
 * Query generated from SQL:
 * ```
 * select id as "id!", name as "name!", parent_id, created_at as "created_at!"
 * from app.create_project(:name!, :ownerId!)
 * ```
 */
export const createProject = new PreparedQuery<ICreateProjectParams,ICreateProjectResult>(createProjectIR);


/** 'ListProjects' parameters type */
export interface IListProjectsParams {
  runId?: string | null | void;
  userId?: string | null | void;
}

/** 'ListProjects' return type */
export interface IListProjectsResult {
  created_at: Date;
  id: string;
  name: string;
  parent_id: string | null;
  role: project_role;
}

/** 'ListProjects' query type */
export interface IListProjectsQuery {
  params: IListProjectsParams;
  result: IListProjectsResult;
}

const listProjectsIR: any = {"usedParamSet":{"userId":true,"runId":true},"params":[{"name":"userId","required":false,"transform":{"type":"scalar"},"locs":[{"a":91,"b":97}]},{"name":"runId","required":false,"transform":{"type":"scalar"},"locs":[{"a":100,"b":105}]}],"statement":"select p.id, p.name, p.parent_id, tp.role as \"role!\", p.created_at\nfrom app.token_projects(:userId, :runId) tp\njoin app.projects p on p.id = tp.project_id\norder by p.created_at, p.id"};

/**
 * Query generated from SQL:
 * ```
 * select p.id, p.name, p.parent_id, tp.role as "role!", p.created_at
 * from app.token_projects(:userId, :runId) tp
 * join app.projects p on p.id = tp.project_id
 * order by p.created_at, p.id
 * ```
 */
export const listProjects = new PreparedQuery<IListProjectsParams,IListProjectsResult>(listProjectsIR);


/** 'GetProject' parameters type */
export interface IGetProjectParams {
  id: string;
}

/** 'GetProject' return type */
export interface IGetProjectResult {
  created_at: Date;
  id: string;
  name: string;
  parent_id: string | null;
}

/** 'GetProject' query type */
export interface IGetProjectQuery {
  params: IGetProjectParams;
  result: IGetProjectResult;
}

const getProjectIR: any = {"usedParamSet":{"id":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":68,"b":71}]}],"statement":"select id, name, parent_id, created_at from app.projects where id = :id!"};

/**
 * Query generated from SQL:
 * ```
 * select id, name, parent_id, created_at from app.projects where id = :id!
 * ```
 */
export const getProject = new PreparedQuery<IGetProjectParams,IGetProjectResult>(getProjectIR);


/** 'DeleteProject' parameters type */
export interface IDeleteProjectParams {
  id: string;
}

/** 'DeleteProject' return type */
export interface IDeleteProjectResult {
  deleted: boolean;
}

/** 'DeleteProject' query type */
export interface IDeleteProjectQuery {
  params: IDeleteProjectParams;
  result: IDeleteProjectResult;
}

const deleteProjectIR: any = {"usedParamSet":{"id":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":124,"b":127}]}],"statement":"-- Through the function: item writers arriving while it waits queue behind it (migration 000009).\nselect app.delete_project(:id!) as \"deleted!\""};

/**
 * Query generated from SQL:
 * ```
 * -- Through the function: item writers arriving while it waits queue behind it (migration 000009).
 * select app.delete_project(:id!) as "deleted!"
 * ```
 */
export const deleteProject = new PreparedQuery<IDeleteProjectParams,IDeleteProjectResult>(deleteProjectIR);


/** 'CreateSandbox' parameters type */
export interface ICreateSandboxParams {
  name: string;
  ownerId: string;
  parentId: string;
}

/** 'CreateSandbox' return type */
export interface ICreateSandboxResult {
  created_at: Date;
  id: string;
  name: string;
  parent_id: string | null;
}

/** 'CreateSandbox' query type */
export interface ICreateSandboxQuery {
  params: ICreateSandboxParams;
  result: ICreateSandboxResult;
}

const createSandboxIR: any = {"usedParamSet":{"parentId":true,"name":true,"ownerId":true},"params":[{"name":"parentId","required":true,"transform":{"type":"scalar"},"locs":[{"a":100,"b":109}]},{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":112,"b":117}]},{"name":"ownerId","required":true,"transform":{"type":"scalar"},"locs":[{"a":120,"b":128}]}],"statement":"select id as \"id!\", name as \"name!\", parent_id, created_at as \"created_at!\"\nfrom app.create_sandbox(:parentId!, :name!, :ownerId!)"};

/**
 * Query generated from SQL:
 * ```
 * select id as "id!", name as "name!", parent_id, created_at as "created_at!"
 * from app.create_sandbox(:parentId!, :name!, :ownerId!)
 * ```
 */
export const createSandbox = new PreparedQuery<ICreateSandboxParams,ICreateSandboxResult>(createSandboxIR);


/** 'SetMember' parameters type */
export interface ISetMemberParams {
  actorRole: project_role;
  email: string;
  projectId: string;
  role: project_role;
}

/** 'SetMember' return type */
export interface ISetMemberResult {
  created: boolean;
  email: string;
  role: project_role;
  user_id: string;
}

/** 'SetMember' query type */
export interface ISetMemberQuery {
  params: ISetMemberParams;
  result: ISetMemberResult;
}

const setMemberIR: any = {"usedParamSet":{"projectId":true,"email":true,"role":true,"actorRole":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":309,"b":319}]},{"name":"email","required":true,"transform":{"type":"scalar"},"locs":[{"a":322,"b":328}]},{"name":"role","required":true,"transform":{"type":"scalar"},"locs":[{"a":331,"b":336}]},{"name":"actorRole","required":true,"transform":{"type":"scalar"},"locs":[{"a":357,"b":367}]}],"statement":"select user_id as \"user_id!\", email::text as \"email!\", role as \"role!\", created as \"created!\"\n-- The email is left untyped: the function's signature types it as citext without naming the type,\n-- which a search_path without the extension's schema (a database set that way) cannot resolve.\nfrom app.set_member(:projectId!, :email!, :role!::app.project_role, :actorRole!::app.project_role)"};

/**
 * Query generated from SQL:
 * ```
 * select user_id as "user_id!", email::text as "email!", role as "role!", created as "created!"
 * -- The email is left untyped: the function's signature types it as citext without naming the type,
 * -- which a search_path without the extension's schema (a database set that way) cannot resolve.
 * from app.set_member(:projectId!, :email!, :role!::app.project_role, :actorRole!::app.project_role)
 * ```
 */
export const setMember = new PreparedQuery<ISetMemberParams,ISetMemberResult>(setMemberIR);


/** 'RemoveMember' parameters type */
export interface IRemoveMemberParams {
  actorRole: project_role;
  projectId: string;
  userId: string;
}

/** 'RemoveMember' return type */
export interface IRemoveMemberResult {
  removed: boolean;
}

/** 'RemoveMember' query type */
export interface IRemoveMemberQuery {
  params: IRemoveMemberParams;
  result: IRemoveMemberResult;
}

const removeMemberIR: any = {"usedParamSet":{"projectId":true,"userId":true,"actorRole":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":25,"b":35}]},{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":38,"b":45}]},{"name":"actorRole","required":true,"transform":{"type":"scalar"},"locs":[{"a":48,"b":58}]}],"statement":"select app.remove_member(:projectId!, :userId!, :actorRole!::app.project_role) as \"removed!\""};

/**
 * Query generated from SQL:
 * ```
 * select app.remove_member(:projectId!, :userId!, :actorRole!::app.project_role) as "removed!"
 * ```
 */
export const removeMember = new PreparedQuery<IRemoveMemberParams,IRemoveMemberResult>(removeMemberIR);


/** 'ListMembers' parameters type */
export interface IListMembersParams {
  projectId: string;
}

/** 'ListMembers' return type */
export interface IListMembersResult {
  email: string;
  role: project_role;
  user_id: string;
}

/** 'ListMembers' query type */
export interface IListMembersQuery {
  params: IListMembersParams;
  result: IListMembersResult;
}

const listMembersIR: any = {"usedParamSet":{"projectId":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":140,"b":150}]}],"statement":"select pu.user_id, u.email::text as \"email!\", pu.role\nfrom app.project_users pu join app.users u on u.id = pu.user_id\nwhere pu.project_id = :projectId!\norder by pu.role desc, u.email"};

/**
 * Query generated from SQL:
 * ```
 * select pu.user_id, u.email::text as "email!", pu.role
 * from app.project_users pu join app.users u on u.id = pu.user_id
 * where pu.project_id = :projectId!
 * order by pu.role desc, u.email
 * ```
 */
export const listMembers = new PreparedQuery<IListMembersParams,IListMembersResult>(listMembersIR);


/** 'CreateRun' parameters type */
export interface ICreateRunParams {
  createdBy?: string | null | void;
  projectId: string;
  workflowId?: string | null | void;
}

/** 'CreateRun' return type */
export interface ICreateRunResult {
  id: string;
  project_id: string;
}

/** 'CreateRun' query type */
export interface ICreateRunQuery {
  params: ICreateRunParams;
  result: ICreateRunResult;
}

const createRunIR: any = {"usedParamSet":{"projectId":true,"workflowId":true,"createdBy":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":67,"b":77}]},{"name":"workflowId","required":false,"transform":{"type":"scalar"},"locs":[{"a":80,"b":90}]},{"name":"createdBy","required":false,"transform":{"type":"scalar"},"locs":[{"a":93,"b":102}]}],"statement":"insert into app.runs (project_id, workflow_id, created_by)\nvalues (:projectId!, :workflowId, :createdBy)\nreturning id, project_id"};

/**
 * Query generated from SQL:
 * ```
 * insert into app.runs (project_id, workflow_id, created_by)
 * values (:projectId!, :workflowId, :createdBy)
 * returning id, project_id
 * ```
 */
export const createRun = new PreparedQuery<ICreateRunParams,ICreateRunResult>(createRunIR);


