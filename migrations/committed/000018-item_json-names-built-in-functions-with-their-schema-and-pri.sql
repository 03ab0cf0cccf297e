--! Previous: sha1:ce32c7a572ea858c59ef1a12e5868970d35ac86d
--! Hash: sha1:51bf47e9bd77ae5abd15c6b135775284104eebd5
--! Message: item_json names built-in functions with their schema, and prints BC timestamps as before

--! split: 1-current.sql
-- app.item_json, as migration 000017 made it, with two fixes a review found:
-- * Built-in functions are named with their schema. Called without a SET clause (a SET would
--   cost every item write a setting saved and restored), the body resolved them through the
--   caller's search_path, and a public.to_json(text) beat pg_catalog.to_json(anyelement) as the
--   closer match: whatever such a function returned was stored with the item for good, and a
--   restore (search_path '') would have stored something else. Operators and casts still
--   resolve through pg_catalog first unless a session lists it explicitly after another schema.
-- * A BC timestamp printed its offset after the era ("…52 BC+00:00"); the API sent
--   "…52+00:00 BC" before 000017 and does again. Only a DBA or an import writes such dates
--   (the API writes now()), so only their rows are recomputed below.
create or replace function app.item_json(p_key text, p_value text, p_created timestamptz, p_updated timestamptz)
returns text
language plpgsql immutable parallel safe
as $$
begin
  return '{"key":' || pg_catalog.to_json(p_key)::text || ',"value":' || pg_catalog.to_json(p_value)::text
      || ',"created":' || case
           when pg_catalog.isfinite(p_created) and p_created >= '0001-01-01 00:00:00+00'::timestamptz
             then pg_catalog.left(pg_catalog.to_json(p_created at time zone 'UTC')::text, -1) || '+00:00"'
           when pg_catalog.isfinite(p_created)
             then pg_catalog.replace(pg_catalog.to_json(p_created at time zone 'UTC')::text, ' BC"', '+00:00 BC"')
           else pg_catalog.to_json(p_created)::text end
      || ',"updated":' || case
           when pg_catalog.isfinite(p_updated) and p_updated >= '0001-01-01 00:00:00+00'::timestamptz
             then pg_catalog.left(pg_catalog.to_json(p_updated at time zone 'UTC')::text, -1) || '+00:00"'
           when pg_catalog.isfinite(p_updated)
             then pg_catalog.replace(pg_catalog.to_json(p_updated at time zone 'UTC')::text, ' BC"', '+00:00 BC"')
           else pg_catalog.to_json(p_updated)::text end
      || '}';
end
$$;
comment on function app.item_json(text, text, timestamptz, timestamptz) is
  'An item''s JSON text as the collections API sends it: {"key","value","created","updated"}, timestamps in ISO 8601 in UTC (+00:00) whatever the session''s time zone. app.items.item_json stores it for each item.';

-- Rewriting a row recomputes its stored column. One pass over app.items, no table rewrite.
update app.items
   set value = value
 where created_at < '0001-01-01 00:00:00+00'::timestamptz
    or updated_at < '0001-01-01 00:00:00+00'::timestamptz;
