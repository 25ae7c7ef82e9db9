-- A time zone quiet hours may name: known to Postgres and a real zone, not one of the names
-- the tz database ships besides zones (posix/*, posixrules, localtime, Factory), which Intl —
-- the only time zone database of the Edge Runtime — rejects.
-- supabase/functions/_shared/guardrails.ts applies the same rule (isValidTimeZone);
-- tests/time_zones_test.ts feeds every pg_timezone_names entry to both.
create function internal.is_valid_time_zone(p_name text) returns boolean
language sql
stable
set search_path = ''
as $$
  select p_name !~ '^(posix/|posixrules$|localtime$|Factory$)'
     and exists (select 1 from pg_catalog.pg_timezone_names z where z.name = p_name)
$$;
revoke execute on function internal.is_valid_time_zone(text) from public;
-- Postgres checks EXECUTE on functions a CHECK constraint calls as the writing role.
grant execute on function internal.is_valid_time_zone(text) to authenticated, service_role;
comment on function internal.is_valid_time_zone(text) is
  'A time zone quiet hours may name: known to Postgres (pg_timezone_names) and a real zone, not posix/*, posixrules, localtime or Factory. guardrails.ts isValidTimeZone applies the same rule.';
