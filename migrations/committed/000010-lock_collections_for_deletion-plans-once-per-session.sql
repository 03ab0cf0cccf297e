--! Previous: sha1:5ad9ec238b914fbaf6b3320585850840d19a0af7
--! Hash: sha1:68b36240daff996e03570269b1e3e2abc5fa9923
--! Message: lock_collections_for_deletion plans once per session

--! split: 1-current.sql
-- app.lock_collections_for_deletion plans its per-collection statements once per session.
-- The long pool, where the API runs merges and project deletions, sets plan_cache_mode =
-- force_custom_plan (ADR 4), so each of them was planned again for every collection:
-- 16–19 ms for 1,000 collections against 7–8 ms with the default. Every plan is a
-- primary-key lookup whatever the arguments.
alter function app.lock_collections_for_deletion(uuid[]) set plan_cache_mode = force_generic_plan;
