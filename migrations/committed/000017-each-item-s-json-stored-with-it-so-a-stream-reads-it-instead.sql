--! Previous: sha1:11bad1739eb627dd94fb9651e5b3c114c67877d8
--! Hash: sha1:ce32c7a572ea858c59ef1a12e5868970d35ac86d
--! Message: Each item's JSON stored with it, so a stream reads it instead of building it

--! split: 1-current.sql
-- Each item's JSON is stored with it (ADR 15). Building it at read time cost PostgreSQL ~1.9 ms
-- of a 1,000-item page's ~3 ms, and kept a cursor page at 0.17-0.23 of the COPY ceiling; stored,
-- a page reads it like any column. A STORED generated column, so every writer (the API, a DBA's
-- INSERT, an UPDATE of any column) keeps it right: PostgreSQL recomputes it on each write.
-- Paid for in writes and space: the heap of ~200-byte items is ~2.2 times as big, and a write
-- computes the JSON (psql, 100k rows: inserts 2.8 times, upserts of existing keys 2.2 times as
-- long; through the API, where the rest of a POST dominates, 10-15 % fewer items a second).
-- Adding the column rewrites app.items under an ACCESS EXCLUSIVE lock: item reads and writes
-- wait for it (~7 us an item here, about a minute per 10M items).
--
-- A generation expression must be IMMUTABLE. to_json(timestamptz) prints the session's time
-- zone, so the timestamps are printed in UTC here, with the '+00:00' every sandbar connection
-- has sent since TimeZone was pinned to UTC (src/db/db.ts): the API's bytes do not change, and a
-- DBA's session in another zone stores the same text. to_json(text) and to_json(timestamp) depend
-- on no setting (JSON timestamps are ISO 8601 whatever DateStyle says); 'infinity' stays as
-- to_json prints it. Declared IMMUTABLE over STABLE to_json, the body can no longer be inlined;
-- as PL/pgSQL (one simple expression) it costs ~2.2 us an item against 1.5 inlined, where a SQL
-- function that is not inlined costs 5 (psql, 200k items). Readers select the column instead.
--
-- Dropped first so that re-running this file (graphile-migrate watch) recomputes the column.
alter table app.items drop column if exists item_json;

create or replace function app.item_json(p_key text, p_value text, p_created timestamptz, p_updated timestamptz)
returns text
language plpgsql immutable parallel safe
as $$
begin
  return '{"key":' || to_json(p_key)::text || ',"value":' || to_json(p_value)::text
      || ',"created":' || case when isfinite(p_created)
                              then left(to_json(p_created at time zone 'UTC')::text, -1) || '+00:00"'
                              else to_json(p_created)::text end
      || ',"updated":' || case when isfinite(p_updated)
                              then left(to_json(p_updated at time zone 'UTC')::text, -1) || '+00:00"'
                              else to_json(p_updated)::text end
      || '}';
end
$$;
comment on function app.item_json(text, text, timestamptz, timestamptz) is
  'An item''s JSON text as the collections API sends it: {"key","value","created","updated"}, timestamps in ISO 8601 in UTC (+00:00) whatever the session''s time zone. app.items.item_json stores it for each item.';

alter table app.items
  add column item_json text not null
  generated always as (app.item_json(key, value, created_at, updated_at)) stored;
comment on column app.items.item_json is
  'The item''s JSON as the collections API sends it (app.item_json of the other columns), stored so that reads do not build it (ADR 15).';
