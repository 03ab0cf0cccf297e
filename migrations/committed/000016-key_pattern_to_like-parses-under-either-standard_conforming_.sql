--! Previous: sha1:c358a86e446bdec3c58b9edc64aa9ceb9c2d42f9
--! Hash: sha1:11bad1739eb627dd94fb9651e5b3c114c67877d8
--! Message: key_pattern_to_like parses under either standard_conforming_strings

--! split: 1-current.sql
-- app.key_pattern_to_like wrote its backslashes as plain literals ('\', '\\'), which PostgreSQL
-- parses when the function runs, under the caller's standard_conforming_strings. In a session
-- with it off (a database or role set that way, or a DBA's SET), '\' opened an unterminated
-- string and every key-pattern read or deletion failed (through the API: 500 internal). Escape
-- string literals (E'…') mean the same under either setting. Same behaviour otherwise.
create or replace function app.key_pattern_to_like(p_pattern text)
returns text
language sql
immutable strict parallel safe
set search_path = app, pg_catalog
as $$
  select replace(replace(replace(replace(p_pattern, E'\\', E'\\\\'), '%', E'\\%'), '_', E'\\_'), '*', '%')
$$;
