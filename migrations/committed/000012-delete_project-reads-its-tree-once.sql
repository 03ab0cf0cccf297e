--! Previous: sha1:7314e5b094d27b82e7db17dd800bbe00954c03a6
--! Hash: sha1:12aa2bf216e0984f90a20b909e8988fb86544bcc
--! Message: delete_project reads its tree once

--! split: 1-current.sql
-- app.delete_project walked its project tree twice, with two copies of the recursive query:
-- once to lock the rows, once more to find their collections. The statement that locks the
-- tree now returns its ids, and the collections are found from those. Same locks, same order.
create or replace function app.delete_project(p_project_id uuid)
returns boolean
language plpgsql
volatile
set search_path = app, pg_catalog
as $$
declare
  v_tree uuid[];
begin
  -- The root alone first: a sandbox being created under it commits before this returns
  -- (or fails after), so the tree read next sees it.
  perform from app.projects p where p.id = p_project_id for update;
  if not found then
    return false;
  end if;
  -- Then the whole tree, parents before children, so two deletions of nested trees lock
  -- their common projects in the same order.
  select array_agg(locked.id) into v_tree
    from (
      select p.id
        from app.projects p
        join (
          with recursive tree (id, depth) as (
            select p_project_id, 0
            union all
            select c.id, tree.depth + 1 from app.projects c join tree on c.parent_id = tree.id
          )
          select id, depth from tree
        ) t on t.id = p.id
       order by t.depth, p.id
         for update of p
    ) locked;
  -- Its sandboxes go with it (on delete cascade), so their collections are locked too.
  perform app.lock_collections_for_deletion(array(
    select c.id from app.collections c where c.project_id = any(v_tree)));
  delete from app.projects p where p.id = p_project_id;
  return found;
end
$$;
