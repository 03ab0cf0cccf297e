--! Previous: sha1:51bf47e9bd77ae5abd15c6b135775284104eebd5
--! Hash: sha1:1360b0415dae2f3a288a8113d54bbb8a0dde4167
--! Message: item_json runs with search_path pg_catalog; every stale stored item JSON recomputed

--! split: 1-current.sql
-- app.item_json runs with search_path = pg_catalog, and every stored item JSON that differs
-- from what it computes now is recomputed (a second review of 000018):
-- * 000018 named its functions with their schema, but operators (||, >=) still resolved
--   through the caller's search_path, and a session that lists pg_catalog after a schema with
--   its own ||(text, text) stored that operator's result. A SET clause covers everything the
--   body names, and costs a call ~0.1 us (psql, 200k calls: within the noise of ~2.4 us),
--   not the setting-per-write cost 000017 and 000018 assumed.
-- * 000018 recomputed BC-dated rows only; rows a shadowing to_json(text) had reached while
--   000017 was current kept its output. Comparing each row with the function catches every
--   stale row, whatever made it stale: one pass over app.items (~2 us an item, ~20 s per 10M
--   items here), ROW EXCLUSIVE only, and only rows that differ are rewritten.
alter function app.item_json(text, text, timestamptz, timestamptz) set search_path = pg_catalog;

update app.items
   set value = value
 where item_json is distinct from app.item_json(key, value, created_at, updated_at);
