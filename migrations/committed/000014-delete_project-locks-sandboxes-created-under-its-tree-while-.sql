--! Previous: sha1:c6bf4adac9a09232575311b79e2032755d0e76c5
--! Hash: sha1:6944c432b773eeb6b5f39d813a36f408da540d39
--! Message: delete_project locks sandboxes created under its tree while it waited

--! split: 1-current.sql
-- app.delete_project read its tree in one statement, whose snapshot predates a sandbox being
-- created under one of the tree's sandboxes at that moment: the statement waited for that
-- sandbox's row (the new row's foreign key holds it), then locked it, but never saw the new
-- child. The child was deleted with the rest (on delete cascade) but neither it nor its
-- collections were locked first, so writers arriving in those collections could hold the
-- deletion back, which migration 000009 exists to prevent. Now the locking statement runs
-- again, each time on a fresh snapshot, for whatever it has not locked yet, until it finds
-- nothing new: once a project's row is locked nothing new can join under it, so the second
-- pass finds nothing unless the first waited for a creation.
create or replace function app.delete_project(p_project_id uuid)
returns boolean
language plpgsql
volatile
set search_path = app, pg_catalog
as $$
declare
  v_tree uuid[] := '{}';
  v_new uuid[];
begin
  -- The root alone first: a sandbox being created under it commits before this returns
  -- (or fails after), so the tree read next sees it.
  perform from app.projects p where p.id = p_project_id for update;
  if not found then
    return false;
  end if;
  -- Then the whole tree, parents before children, so two deletions of nested trees lock
  -- their common projects in the same order; and again for what joined it meanwhile.
  loop
    select array_agg(locked.id) into v_new
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
         where p.id <> all (v_tree)
         order by t.depth, p.id
           for update of p
      ) locked;
    exit when v_new is null;
    v_tree := v_tree || v_new;
  end loop;
  -- Its sandboxes go with it (on delete cascade), so their collections are locked too.
  perform app.lock_collections_for_deletion(array(
    select c.id from app.collections c where c.project_id = any(v_tree)));
  delete from app.projects p where p.id = p_project_id;
  return found;
end
$$;
