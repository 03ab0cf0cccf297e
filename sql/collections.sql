/* @name createCollection */
insert into app.collections (project_id, name)
values (:projectId!, :name!)
returning id, project_id, name, item_count, byte_size, created_at, updated_at;

/* @name listCollections */
select c.id, c.project_id, c.name, s.item_count as "item_count!", s.byte_size as "byte_size!", c.created_at, c.updated_at
from app.collections c
join app.collection_stats s on s.collection_id = c.id
where c.project_id = :projectId!
order by c.name;

/* @name renameCollection */
update app.collections
set name = :newName!, updated_at = now()
where project_id = :projectId! and name = :name!
returning id, project_id, name, item_count, byte_size, created_at, updated_at;

/* @name findCollection */
select id from app.collections where project_id = :projectId! and name = :name!;

/* @name deleteCollection */
-- Through the function: item writers arriving while it waits queue behind it (migration 000006).
select app.delete_collection(:id!) as "deleted!";

/* @name resolveCollectionByName */
-- v1 addressing: the collections with this name in the projects the token reaches
-- (a run token: its run's project only). More than one row back means ambiguous. Given a key,
-- each row also carries that item's JSON (null: no such key), so a GET of one item
-- is one round trip; the handler reads it only from a sole match whose role allows it.
-- A collection comes at most twice from app.token_collections (as a user's and as a
-- run's), so three rows are enough to tell one match from several.
select c.id as "id!", c.project_id as "project_id!", c.role as "role!",
       (select i.item_json
        from app.items i
        where i.collection_id = c.id and i.key = :key::text) as item
from (
  select tc.collection_id as id, tc.project_id, max(tc.role) as role
  from (
    select tc.collection_id, tc.project_id, tc.role
    from app.token_collections(:userId, :runId, :name!) tc
    where :projectId::uuid is null or tc.project_id = :projectId::uuid
    limit 3
  ) tc
  group by tc.collection_id, tc.project_id
) c;

/* @name resolveCollectionInProject */
-- v2 addressing: the token's role in the project (null: not reachable), the collection's
-- id there (null: none) and, given a key, that item's JSON (null: no such key). Nothing
-- is looked up in a project the token cannot reach.
select a.role, c.id as collection_id,
       (select i.item_json
        from app.items i
        where i.collection_id = c.id and i.key = :key::text) as item
from (select max(tp.role) as role from app.token_projects(:userId, :runId) tp where tp.project_id = :projectId!) a
left join app.collections c on a.role is not null and c.project_id = :projectId! and c.name = :name!;

/* @name streamItems */
-- One batch of a stream (a page of the data API or a download), as one row: the JSON of its
-- items joined by commas, in id order, how many there are, the last one's id, and whether more
-- items follow it. A batch keeps at most :rows! items after :afterId!, and no more of them than
-- start within :bytes! of item JSON (always at least one, however big), so it holds about
-- :bytes! whatever mix of item sizes the collection has; sized by rows alone, a batch of 1,000
-- small items followed by 1 MB ones would hold 1 GB. One row per batch instead of one per item
-- spares Node thousands of objects a batch (ADR 13 and its amendment). It reads one item past
-- :rows! to learn whether more follow. Each item's JSON is stored (ADR 15), so nothing is built
-- here; octet_length() of a TOASTed one reads its header, not the text.
select count(*) filter (where b.kept)::int as "items!",
       max(b.id) filter (where b.kept) as last_id,
       count(*) > count(*) filter (where b.kept) as "more!",
       string_agg(b.item_json, ',' order by b.id) filter (where b.kept) as body
from (
  select i.id, i.item_json,
         row_number() over w <= :rows!::int
           and sum(octet_length(i.item_json)) over w - octet_length(i.item_json) < :bytes!::bigint as kept
  from app.items i
  where i.collection_id = :collectionId!
    and i.id > :afterId!::bigint
    and (:keyPattern::text is null or i.key like app.key_pattern_to_like(:keyPattern::text))
    and (:createdAfter::text::timestamptz is null or i.created_at >= :createdAfter::text::timestamptz)
    and (:createdBefore::text::timestamptz is null or i.created_at < :createdBefore::text::timestamptz)
    and (:updatedAfter::text::timestamptz is null or i.updated_at >= :updatedAfter::text::timestamptz)
    and (:updatedBefore::text::timestamptz is null or i.updated_at < :updatedBefore::text::timestamptz)
  window w as (order by i.id rows unbounded preceding)
  order by i.id
  limit :rows!::int + 1
) b;

/* @name upsertItems */
select app.upsert_items(:collectionId!, :keys!::text[], :values!::text[]) as "upserted!";

/* @name deleteItem */
-- The collection first, like every item write (app.lock_collection_for_item_write): a
-- deletion of the collection then waits for this, or this for it, never in a cycle. An
-- uncorrelated EXISTS is a one-time filter: it runs once, before any item is read.
delete from app.items i
 where i.collection_id = :collectionId! and i.key = :key!
   and exists (select from app.lock_collection_for_item_write(:collectionId!) as c (project_id)
                where c.project_id is not null)
returning i.id;

/* @name deleteItemsBatch */
select deleted as "deleted!", last_id
from app.delete_collection_items(
  :collectionId!, :keyPattern::text,
  :createdAfter::text::timestamptz, :createdBefore::text::timestamptz,
  :updatedAfter::text::timestamptz, :updatedBefore::text::timestamptz,
  :afterId!::bigint, :batch!::int);
