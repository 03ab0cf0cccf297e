/** Types generated for queries found in "sql/collections.sql" */
import { PreparedQuery } from '../src/db/prepared-query.ts';

export type project_role = 'admin' | 'editor' | 'owner' | 'viewer';

export type NumberOrString = number | string;

export type stringArray = (string)[];

/** 'CreateCollection' parameters type */
export interface ICreateCollectionParams {
  name: string;
  projectId: string;
}

/** 'CreateCollection' return type */
export interface ICreateCollectionResult {
  /** Sum of octet_length(key) + octet_length(value) over its items; kept by a statement-level trigger on app.items. */
  byte_size: string;
  created_at: Date;
  id: string;
  /** How many items the collection holds; kept by a statement-level trigger on app.items. */
  item_count: string;
  name: string;
  project_id: string;
  updated_at: Date;
}

/** 'CreateCollection' query type */
export interface ICreateCollectionQuery {
  params: ICreateCollectionParams;
  result: ICreateCollectionResult;
}

const createCollectionIR: any = {"usedParamSet":{"projectId":true,"name":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":55,"b":65}]},{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":68,"b":73}]}],"statement":"insert into app.collections (project_id, name)\nvalues (:projectId!, :name!)\nreturning id, project_id, name, item_count, byte_size, created_at, updated_at"};

/**
 * Query generated from SQL:
 * ```
 * insert into app.collections (project_id, name)
 * values (:projectId!, :name!)
 * returning id, project_id, name, item_count, byte_size, created_at, updated_at
 * ```
 */
export const createCollection = new PreparedQuery<ICreateCollectionParams,ICreateCollectionResult>(createCollectionIR);


/** 'ListCollections' parameters type */
export interface IListCollectionsParams {
  projectId: string;
}

/** 'ListCollections' return type */
export interface IListCollectionsResult {
  byte_size: string;
  created_at: Date;
  id: string;
  item_count: string;
  name: string;
  project_id: string;
  updated_at: Date;
}

/** 'ListCollections' query type */
export interface IListCollectionsQuery {
  params: IListCollectionsParams;
  result: IListCollectionsResult;
}

const listCollectionsIR: any = {"usedParamSet":{"projectId":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":220,"b":230}]}],"statement":"select c.id, c.project_id, c.name, s.item_count as \"item_count!\", s.byte_size as \"byte_size!\", c.created_at, c.updated_at\nfrom app.collections c\njoin app.collection_stats s on s.collection_id = c.id\nwhere c.project_id = :projectId!\norder by c.name"};

/**
 * Query generated from SQL:
 * ```
 * select c.id, c.project_id, c.name, s.item_count as "item_count!", s.byte_size as "byte_size!", c.created_at, c.updated_at
 * from app.collections c
 * join app.collection_stats s on s.collection_id = c.id
 * where c.project_id = :projectId!
 * order by c.name
 * ```
 */
export const listCollections = new PreparedQuery<IListCollectionsParams,IListCollectionsResult>(listCollectionsIR);


/** 'RenameCollection' parameters type */
export interface IRenameCollectionParams {
  name: string;
  newName: string;
  projectId: string;
}

/** 'RenameCollection' return type */
export interface IRenameCollectionResult {
  /** Sum of octet_length(key) + octet_length(value) over its items; kept by a statement-level trigger on app.items. */
  byte_size: string;
  created_at: Date;
  id: string;
  /** How many items the collection holds; kept by a statement-level trigger on app.items. */
  item_count: string;
  name: string;
  project_id: string;
  updated_at: Date;
}

/** 'RenameCollection' query type */
export interface IRenameCollectionQuery {
  params: IRenameCollectionParams;
  result: IRenameCollectionResult;
}

const renameCollectionIR: any = {"usedParamSet":{"newName":true,"projectId":true,"name":true},"params":[{"name":"newName","required":true,"transform":{"type":"scalar"},"locs":[{"a":34,"b":42}]},{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":83,"b":93}]},{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":106,"b":111}]}],"statement":"update app.collections\nset name = :newName!, updated_at = now()\nwhere project_id = :projectId! and name = :name!\nreturning id, project_id, name, item_count, byte_size, created_at, updated_at"};

/**
 * Query generated from SQL:
 * ```
 * update app.collections
 * set name = :newName!, updated_at = now()
 * where project_id = :projectId! and name = :name!
 * returning id, project_id, name, item_count, byte_size, created_at, updated_at
 * ```
 */
export const renameCollection = new PreparedQuery<IRenameCollectionParams,IRenameCollectionResult>(renameCollectionIR);


/** 'FindCollection' parameters type */
export interface IFindCollectionParams {
  name: string;
  projectId: string;
}

/** 'FindCollection' return type */
export interface IFindCollectionResult {
  id: string;
}

/** 'FindCollection' query type */
export interface IFindCollectionQuery {
  params: IFindCollectionParams;
  result: IFindCollectionResult;
}

const findCollectionIR: any = {"usedParamSet":{"projectId":true,"name":true},"params":[{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":50,"b":60}]},{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":73,"b":78}]}],"statement":"select id from app.collections where project_id = :projectId! and name = :name!"};

/**
 * Query generated from SQL:
 * ```
 * select id from app.collections where project_id = :projectId! and name = :name!
 * ```
 */
export const findCollection = new PreparedQuery<IFindCollectionParams,IFindCollectionResult>(findCollectionIR);


/** 'DeleteCollection' parameters type */
export interface IDeleteCollectionParams {
  id: string;
}

/** 'DeleteCollection' return type */
export interface IDeleteCollectionResult {
  deleted: boolean;
}

/** 'DeleteCollection' query type */
export interface IDeleteCollectionQuery {
  params: IDeleteCollectionParams;
  result: IDeleteCollectionResult;
}

const deleteCollectionIR: any = {"usedParamSet":{"id":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":127,"b":130}]}],"statement":"-- Through the function: item writers arriving while it waits queue behind it (migration 000006).\nselect app.delete_collection(:id!) as \"deleted!\""};

/**
 * Query generated from SQL:
 * ```
 * -- Through the function: item writers arriving while it waits queue behind it (migration 000006).
 * select app.delete_collection(:id!) as "deleted!"
 * ```
 */
export const deleteCollection = new PreparedQuery<IDeleteCollectionParams,IDeleteCollectionResult>(deleteCollectionIR);


/** 'ResolveCollectionByName' parameters type */
export interface IResolveCollectionByNameParams {
  key?: string | null | void;
  name: string;
  projectId?: string | null | void;
  runId?: string | null | void;
  userId?: string | null | void;
}

/** 'ResolveCollectionByName' return type */
export interface IResolveCollectionByNameResult {
  id: string;
  item: string | null;
  project_id: string;
  role: project_role;
}

/** 'ResolveCollectionByName' query type */
export interface IResolveCollectionByNameQuery {
  params: IResolveCollectionByNameParams;
  result: IResolveCollectionByNameResult;
}

const resolveCollectionByNameIR: any = {"usedParamSet":{"key":true,"userId":true,"runId":true,"name":true,"projectId":true},"params":[{"name":"key","required":false,"transform":{"type":"scalar"},"locs":[{"a":676,"b":679}]},{"name":"userId","required":false,"transform":{"type":"scalar"},"locs":[{"a":864,"b":870}]},{"name":"runId","required":false,"transform":{"type":"scalar"},"locs":[{"a":873,"b":878}]},{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":881,"b":886}]},{"name":"projectId","required":false,"transform":{"type":"scalar"},"locs":[{"a":902,"b":911},{"a":946,"b":955}]}],"statement":"-- v1 addressing: the collections with this name in the projects the token reaches\n-- (a run token: its run's project only). More than one row back means ambiguous. Given a key,\n-- each row also carries that item's JSON (null: no such key), so a GET of one item\n-- is one round trip; the handler reads it only from a sole match whose role allows it.\n-- A collection comes at most twice from app.token_collections (as a user's and as a\n-- run's), so three rows are enough to tell one match from several.\nselect c.id as \"id!\", c.project_id as \"project_id!\", c.role as \"role!\",\n       (select i.item_json\n        from app.items i\n        where i.collection_id = c.id and i.key = :key::text) as item\nfrom (\n  select tc.collection_id as id, tc.project_id, max(tc.role) as role\n  from (\n    select tc.collection_id, tc.project_id, tc.role\n    from app.token_collections(:userId, :runId, :name!) tc\n    where :projectId::uuid is null or tc.project_id = :projectId::uuid\n    limit 3\n  ) tc\n  group by tc.collection_id, tc.project_id\n) c"};

/**
 * Query generated from SQL:
 * ```
 * -- v1 addressing: the collections with this name in the projects the token reaches
 * -- (a run token: its run's project only). More than one row back means ambiguous. Given a key,
 * -- each row also carries that item's JSON (null: no such key), so a GET of one item
 * -- is one round trip; the handler reads it only from a sole match whose role allows it.
 * -- A collection comes at most twice from app.token_collections (as a user's and as a
 * -- run's), so three rows are enough to tell one match from several.
 * select c.id as "id!", c.project_id as "project_id!", c.role as "role!",
 *        (select i.item_json
 *         from app.items i
 *         where i.collection_id = c.id and i.key = :key::text) as item
 * from (
 *   select tc.collection_id as id, tc.project_id, max(tc.role) as role
 *   from (
 *     select tc.collection_id, tc.project_id, tc.role
 *     from app.token_collections(:userId, :runId, :name!) tc
 *     where :projectId::uuid is null or tc.project_id = :projectId::uuid
 *     limit 3
 *   ) tc
 *   group by tc.collection_id, tc.project_id
 * ) c
 * ```
 */
export const resolveCollectionByName = new PreparedQuery<IResolveCollectionByNameParams,IResolveCollectionByNameResult>(resolveCollectionByNameIR);


/** 'ResolveCollectionInProject' parameters type */
export interface IResolveCollectionInProjectParams {
  key?: string | null | void;
  name: string;
  projectId: string;
  runId?: string | null | void;
  userId?: string | null | void;
}

/** 'ResolveCollectionInProject' return type */
export interface IResolveCollectionInProjectResult {
  collection_id: string;
  item: string | null;
  role: project_role | null;
}

/** 'ResolveCollectionInProject' query type */
export interface IResolveCollectionInProjectQuery {
  params: IResolveCollectionInProjectParams;
  result: IResolveCollectionInProjectResult;
}

const resolveCollectionInProjectIR: any = {"usedParamSet":{"key":true,"userId":true,"runId":true,"projectId":true,"name":true},"params":[{"name":"key","required":false,"transform":{"type":"scalar"},"locs":[{"a":371,"b":374}]},{"name":"userId","required":false,"transform":{"type":"scalar"},"locs":[{"a":449,"b":455}]},{"name":"runId","required":false,"transform":{"type":"scalar"},"locs":[{"a":458,"b":463}]},{"name":"projectId","required":true,"transform":{"type":"scalar"},"locs":[{"a":491,"b":501},{"a":575,"b":585}]},{"name":"name","required":true,"transform":{"type":"scalar"},"locs":[{"a":600,"b":605}]}],"statement":"-- v2 addressing: the token's role in the project (null: not reachable), the collection's\n-- id there (null: none) and, given a key, that item's JSON (null: no such key). Nothing\n-- is looked up in a project the token cannot reach.\nselect a.role, c.id as collection_id,\n       (select i.item_json\n        from app.items i\n        where i.collection_id = c.id and i.key = :key::text) as item\nfrom (select max(tp.role) as role from app.token_projects(:userId, :runId) tp where tp.project_id = :projectId!) a\nleft join app.collections c on a.role is not null and c.project_id = :projectId! and c.name = :name!"};

/**
 * Query generated from SQL:
 * ```
 * -- v2 addressing: the token's role in the project (null: not reachable), the collection's
 * -- id there (null: none) and, given a key, that item's JSON (null: no such key). Nothing
 * -- is looked up in a project the token cannot reach.
 * select a.role, c.id as collection_id,
 *        (select i.item_json
 *         from app.items i
 *         where i.collection_id = c.id and i.key = :key::text) as item
 * from (select max(tp.role) as role from app.token_projects(:userId, :runId) tp where tp.project_id = :projectId!) a
 * left join app.collections c on a.role is not null and c.project_id = :projectId! and c.name = :name!
 * ```
 */
export const resolveCollectionInProject = new PreparedQuery<IResolveCollectionInProjectParams,IResolveCollectionInProjectResult>(resolveCollectionInProjectIR);


/** 'StreamItems' parameters type */
export interface IStreamItemsParams {
  afterId: NumberOrString;
  bytes: NumberOrString;
  collectionId: string;
  createdAfter?: string | null | void;
  createdBefore?: string | null | void;
  keyPattern?: string | null | void;
  rows: number;
  updatedAfter?: string | null | void;
  updatedBefore?: string | null | void;
}

/** 'StreamItems' return type */
export interface IStreamItemsResult {
  body: string | null;
  items: number;
  last_id: string | null;
  more: boolean;
}

/** 'StreamItems' query type */
export interface IStreamItemsQuery {
  params: IStreamItemsParams;
  result: IStreamItemsResult;
}

const streamItemsIR: any = {"usedParamSet":{"rows":true,"bytes":true,"collectionId":true,"afterId":true,"keyPattern":true,"createdAfter":true,"createdBefore":true,"updatedAfter":true,"updatedBefore":true},"params":[{"name":"rows","required":true,"transform":{"type":"scalar"},"locs":[{"a":1149,"b":1154},{"a":1947,"b":1952}]},{"name":"bytes","required":true,"transform":{"type":"scalar"},"locs":[{"a":1244,"b":1250}]},{"name":"collectionId","required":true,"transform":{"type":"scalar"},"locs":[{"a":1313,"b":1326}]},{"name":"afterId","required":true,"transform":{"type":"scalar"},"locs":[{"a":1343,"b":1351}]},{"name":"keyPattern","required":false,"transform":{"type":"scalar"},"locs":[{"a":1370,"b":1380},{"a":1434,"b":1444}]},{"name":"createdAfter","required":false,"transform":{"type":"scalar"},"locs":[{"a":1463,"b":1475},{"a":1523,"b":1535}]},{"name":"createdBefore","required":false,"transform":{"type":"scalar"},"locs":[{"a":1566,"b":1579},{"a":1626,"b":1639}]},{"name":"updatedAfter","required":false,"transform":{"type":"scalar"},"locs":[{"a":1670,"b":1682},{"a":1730,"b":1742}]},{"name":"updatedBefore","required":false,"transform":{"type":"scalar"},"locs":[{"a":1773,"b":1786},{"a":1833,"b":1846}]}],"statement":"-- One batch of a stream (a page of the data API or a download), as one row: the JSON of its\n-- items joined by commas, in id order, how many there are, the last one's id, and whether more\n-- items follow it. A batch keeps at most :rows! items after :afterId!, and no more of them than\n-- start within :bytes! of item JSON (always at least one, however big), so it holds about\n-- :bytes! whatever mix of item sizes the collection has; sized by rows alone, a batch of 1,000\n-- small items followed by 1 MB ones would hold 1 GB. One row per batch instead of one per item\n-- spares Node thousands of objects a batch (ADR 13 and its amendment). It reads one item past\n-- :rows! to learn whether more follow. Each item's JSON is stored (ADR 15), so nothing is built\n-- here; octet_length() of a TOASTed one reads its header, not the text.\nselect count(*) filter (where b.kept)::int as \"items!\",\n       max(b.id) filter (where b.kept) as last_id,\n       count(*) > count(*) filter (where b.kept) as \"more!\",\n       string_agg(b.item_json, ',' order by b.id) filter (where b.kept) as body\nfrom (\n  select i.id, i.item_json,\n         row_number() over w <= :rows!::int\n           and sum(octet_length(i.item_json)) over w - octet_length(i.item_json) < :bytes!::bigint as kept\n  from app.items i\n  where i.collection_id = :collectionId!\n    and i.id > :afterId!::bigint\n    and (:keyPattern::text is null or i.key like app.key_pattern_to_like(:keyPattern::text))\n    and (:createdAfter::text::timestamptz is null or i.created_at >= :createdAfter::text::timestamptz)\n    and (:createdBefore::text::timestamptz is null or i.created_at < :createdBefore::text::timestamptz)\n    and (:updatedAfter::text::timestamptz is null or i.updated_at >= :updatedAfter::text::timestamptz)\n    and (:updatedBefore::text::timestamptz is null or i.updated_at < :updatedBefore::text::timestamptz)\n  window w as (order by i.id rows unbounded preceding)\n  order by i.id\n  limit :rows!::int + 1\n) b"};

/**
 * Query generated from SQL:
 * ```
 * -- One batch of a stream (a page of the data API or a download), as one row: the JSON of its
 * -- items joined by commas, in id order, how many there are, the last one's id, and whether more
 * -- items follow it. A batch keeps at most :rows! items after :afterId!, and no more of them than
 * -- start within :bytes! of item JSON (always at least one, however big), so it holds about
 * -- :bytes! whatever mix of item sizes the collection has; sized by rows alone, a batch of 1,000
 * -- small items followed by 1 MB ones would hold 1 GB. One row per batch instead of one per item
 * -- spares Node thousands of objects a batch (ADR 13 and its amendment). It reads one item past
 * -- :rows! to learn whether more follow. Each item's JSON is stored (ADR 15), so nothing is built
 * -- here; octet_length() of a TOASTed one reads its header, not the text.
 * select count(*) filter (where b.kept)::int as "items!",
 *        max(b.id) filter (where b.kept) as last_id,
 *        count(*) > count(*) filter (where b.kept) as "more!",
 *        string_agg(b.item_json, ',' order by b.id) filter (where b.kept) as body
 * from (
 *   select i.id, i.item_json,
 *          row_number() over w <= :rows!::int
 *            and sum(octet_length(i.item_json)) over w - octet_length(i.item_json) < :bytes!::bigint as kept
 *   from app.items i
 *   where i.collection_id = :collectionId!
 *     and i.id > :afterId!::bigint
 *     and (:keyPattern::text is null or i.key like app.key_pattern_to_like(:keyPattern::text))
 *     and (:createdAfter::text::timestamptz is null or i.created_at >= :createdAfter::text::timestamptz)
 *     and (:createdBefore::text::timestamptz is null or i.created_at < :createdBefore::text::timestamptz)
 *     and (:updatedAfter::text::timestamptz is null or i.updated_at >= :updatedAfter::text::timestamptz)
 *     and (:updatedBefore::text::timestamptz is null or i.updated_at < :updatedBefore::text::timestamptz)
 *   window w as (order by i.id rows unbounded preceding)
 *   order by i.id
 *   limit :rows!::int + 1
 * ) b
 * ```
 */
export const streamItems = new PreparedQuery<IStreamItemsParams,IStreamItemsResult>(streamItemsIR);


/** 'UpsertItems' parameters type */
export interface IUpsertItemsParams {
  collectionId: string;
  keys: stringArray;
  values: stringArray;
}

/** 'UpsertItems' return type */
export interface IUpsertItemsResult {
  upserted: number;
}

/** 'UpsertItems' query type */
export interface IUpsertItemsQuery {
  params: IUpsertItemsParams;
  result: IUpsertItemsResult;
}

const upsertItemsIR: any = {"usedParamSet":{"collectionId":true,"keys":true,"values":true},"params":[{"name":"collectionId","required":true,"transform":{"type":"scalar"},"locs":[{"a":24,"b":37}]},{"name":"keys","required":true,"transform":{"type":"scalar"},"locs":[{"a":40,"b":45}]},{"name":"values","required":true,"transform":{"type":"scalar"},"locs":[{"a":56,"b":63}]}],"statement":"select app.upsert_items(:collectionId!, :keys!::text[], :values!::text[]) as \"upserted!\""};

/**
 * Query generated from SQL:
 * ```
 * select app.upsert_items(:collectionId!, :keys!::text[], :values!::text[]) as "upserted!"
 * ```
 */
export const upsertItems = new PreparedQuery<IUpsertItemsParams,IUpsertItemsResult>(upsertItemsIR);


/** 'DeleteItem' parameters type */
export interface IDeleteItemParams {
  collectionId: string;
  key: string;
}

/** 'DeleteItem' return type */
export interface IDeleteItemResult {
  id: string;
}

/** 'DeleteItem' query type */
export interface IDeleteItemQuery {
  params: IDeleteItemParams;
  result: IDeleteItemResult;
}

const deleteItemIR: any = {"usedParamSet":{"collectionId":true,"key":true},"params":[{"name":"collectionId","required":true,"transform":{"type":"scalar"},"locs":[{"a":308,"b":321},{"a":403,"b":416}]},{"name":"key","required":true,"transform":{"type":"scalar"},"locs":[{"a":335,"b":339}]}],"statement":"-- The collection first, like every item write (app.lock_collection_for_item_write): a\n-- deletion of the collection then waits for this, or this for it, never in a cycle. An\n-- uncorrelated EXISTS is a one-time filter: it runs once, before any item is read.\ndelete from app.items i\n where i.collection_id = :collectionId! and i.key = :key!\n   and exists (select from app.lock_collection_for_item_write(:collectionId!) as c (project_id)\n                where c.project_id is not null)\nreturning i.id"};

/**
 * Query generated from SQL:
 * ```
 * -- The collection first, like every item write (app.lock_collection_for_item_write): a
 * -- deletion of the collection then waits for this, or this for it, never in a cycle. An
 * -- uncorrelated EXISTS is a one-time filter: it runs once, before any item is read.
 * delete from app.items i
 *  where i.collection_id = :collectionId! and i.key = :key!
 *    and exists (select from app.lock_collection_for_item_write(:collectionId!) as c (project_id)
 *                 where c.project_id is not null)
 * returning i.id
 * ```
 */
export const deleteItem = new PreparedQuery<IDeleteItemParams,IDeleteItemResult>(deleteItemIR);


/** 'DeleteItemsBatch' parameters type */
export interface IDeleteItemsBatchParams {
  afterId: NumberOrString;
  batch: number;
  collectionId: string;
  createdAfter?: string | null | void;
  createdBefore?: string | null | void;
  keyPattern?: string | null | void;
  updatedAfter?: string | null | void;
  updatedBefore?: string | null | void;
}

/** 'DeleteItemsBatch' return type */
export interface IDeleteItemsBatchResult {
  deleted: number;
  last_id: string | null;
}

/** 'DeleteItemsBatch' query type */
export interface IDeleteItemsBatchQuery {
  params: IDeleteItemsBatchParams;
  result: IDeleteItemsBatchResult;
}

const deleteItemsBatchIR: any = {"usedParamSet":{"collectionId":true,"keyPattern":true,"createdAfter":true,"createdBefore":true,"updatedAfter":true,"updatedBefore":true,"afterId":true,"batch":true},"params":[{"name":"collectionId","required":true,"transform":{"type":"scalar"},"locs":[{"a":74,"b":87}]},{"name":"keyPattern","required":false,"transform":{"type":"scalar"},"locs":[{"a":90,"b":100}]},{"name":"createdAfter","required":false,"transform":{"type":"scalar"},"locs":[{"a":111,"b":123}]},{"name":"createdBefore","required":false,"transform":{"type":"scalar"},"locs":[{"a":145,"b":158}]},{"name":"updatedAfter","required":false,"transform":{"type":"scalar"},"locs":[{"a":182,"b":194}]},{"name":"updatedBefore","required":false,"transform":{"type":"scalar"},"locs":[{"a":216,"b":229}]},{"name":"afterId","required":true,"transform":{"type":"scalar"},"locs":[{"a":253,"b":261}]},{"name":"batch","required":true,"transform":{"type":"scalar"},"locs":[{"a":272,"b":278}]}],"statement":"select deleted as \"deleted!\", last_id\nfrom app.delete_collection_items(\n  :collectionId!, :keyPattern::text,\n  :createdAfter::text::timestamptz, :createdBefore::text::timestamptz,\n  :updatedAfter::text::timestamptz, :updatedBefore::text::timestamptz,\n  :afterId!::bigint, :batch!::int)"};

/**
 * Query generated from SQL:
 * ```
 * select deleted as "deleted!", last_id
 * from app.delete_collection_items(
 *   :collectionId!, :keyPattern::text,
 *   :createdAfter::text::timestamptz, :createdBefore::text::timestamptz,
 *   :updatedAfter::text::timestamptz, :updatedBefore::text::timestamptz,
 *   :afterId!::bigint, :batch!::int)
 * ```
 */
export const deleteItemsBatch = new PreparedQuery<IDeleteItemsBatchParams,IDeleteItemsBatchResult>(deleteItemsBatchIR);


