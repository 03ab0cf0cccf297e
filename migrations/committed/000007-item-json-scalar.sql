--! Previous: sha1:8cf0fac9393baf4d9ee0baaebb1777c044f76e20
--! Hash: sha1:da2188de8d06b14157cdd85f22c733ade6b4a1a5
--! Message: item_json with json_scalar

--! split: 1-current.sql
-- app.item_json with json_scalar() in place of to_json(): the same bytes for text and
-- timestamptz (one encoder, JsonEncodeDateTime and escape_json, behind both), without
-- to_json's lookup of the argument type's output category on every call. Over a 100k-item read
-- in psql (COPY to /dev/null) the item JSON takes 188 ms against 216 ms, the larger part of
-- what a stream batch costs PostgreSQL. Still scalar arguments, STABLE and SET-free, so the
-- planner inlines it.
create or replace function app.item_json(p_key text, p_value text, p_created timestamptz, p_updated timestamptz)
returns text
language sql stable parallel safe
as $$
  select '{"key":' || json_scalar(p_key)::text || ',"value":' || json_scalar(p_value)::text
      || ',"created":' || json_scalar(p_created)::text || ',"updated":' || json_scalar(p_updated)::text || '}'
$$;
