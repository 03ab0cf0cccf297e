/** Types generated for queries found in "sql/sandboxes.sql" */
import { PreparedQuery } from '../src/db/prepared-query.ts';

/** 'ResolveMergeTarget' parameters type */
export interface IResolveMergeTargetParams {
  sandboxId: string;
  targetId?: string | null | void;
}

/** 'ResolveMergeTarget' return type */
export interface IResolveMergeTargetResult {
  target_id: string;
}

/** 'ResolveMergeTarget' query type */
export interface IResolveMergeTargetQuery {
  params: IResolveMergeTargetParams;
  result: IResolveMergeTargetResult;
}

const resolveMergeTargetIR: any = {"usedParamSet":{"sandboxId":true,"targetId":true},"params":[{"name":"sandboxId","required":true,"transform":{"type":"scalar"},"locs":[{"a":32,"b":42}]},{"name":"targetId","required":false,"transform":{"type":"scalar"},"locs":[{"a":45,"b":53}]}],"statement":"select app.resolve_merge_target(:sandboxId!, :targetId) as \"target_id!\""};

/**
 * Query generated from SQL:
 * ```
 * select app.resolve_merge_target(:sandboxId!, :targetId) as "target_id!"
 * ```
 */
export const resolveMergeTarget = new PreparedQuery<IResolveMergeTargetParams,IResolveMergeTargetResult>(resolveMergeTargetIR);


/** 'MergePreview' parameters type */
export interface IMergePreviewParams {
  sandboxId: string;
  targetId: string;
}

/** 'MergePreview' return type */
export interface IMergePreviewResult {
  action: string;
  byte_size: string;
  item_count: string;
  name: string;
}

/** 'MergePreview' query type */
export interface IMergePreviewQuery {
  params: IMergePreviewParams;
  result: IMergePreviewResult;
}

const mergePreviewIR: any = {"usedParamSet":{"sandboxId":true,"targetId":true},"params":[{"name":"sandboxId","required":true,"transform":{"type":"scalar"},"locs":[{"a":123,"b":133}]},{"name":"targetId","required":true,"transform":{"type":"scalar"},"locs":[{"a":136,"b":145}]}],"statement":"select action as \"action!\", name as \"name!\", item_count as \"item_count!\", byte_size as \"byte_size!\"\nfrom app.merge_preview(:sandboxId!, :targetId!)"};

/**
 * Query generated from SQL:
 * ```
 * select action as "action!", name as "name!", item_count as "item_count!", byte_size as "byte_size!"
 * from app.merge_preview(:sandboxId!, :targetId!)
 * ```
 */
export const mergePreview = new PreparedQuery<IMergePreviewParams,IMergePreviewResult>(mergePreviewIR);


/** 'MergeSandbox' parameters type */
export interface IMergeSandboxParams {
  actorId?: string | null | void;
  sandboxId: string;
  targetId: string;
}

/** 'MergeSandbox' return type */
export interface IMergeSandboxResult {
  action: string;
  byte_size: string;
  item_count: string;
  name: string;
}

/** 'MergeSandbox' query type */
export interface IMergeSandboxQuery {
  params: IMergeSandboxParams;
  result: IMergeSandboxResult;
}

const mergeSandboxIR: any = {"usedParamSet":{"sandboxId":true,"targetId":true,"actorId":true},"params":[{"name":"sandboxId","required":true,"transform":{"type":"scalar"},"locs":[{"a":123,"b":133}]},{"name":"targetId","required":true,"transform":{"type":"scalar"},"locs":[{"a":136,"b":145}]},{"name":"actorId","required":false,"transform":{"type":"scalar"},"locs":[{"a":148,"b":155}]}],"statement":"select action as \"action!\", name as \"name!\", item_count as \"item_count!\", byte_size as \"byte_size!\"\nfrom app.merge_sandbox(:sandboxId!, :targetId!, :actorId)"};

/**
 * Query generated from SQL:
 * ```
 * select action as "action!", name as "name!", item_count as "item_count!", byte_size as "byte_size!"
 * from app.merge_sandbox(:sandboxId!, :targetId!, :actorId)
 * ```
 */
export const mergeSandbox = new PreparedQuery<IMergeSandboxParams,IMergeSandboxResult>(mergeSandboxIR);


