-- The guardrail validators run inside CHECK constraints, and Postgres checks EXECUTE on
-- functions in a constraint as the writing role: owners (authenticated) write guardrails,
-- so they may execute these pure functions (without USAGE on internal they cannot call
-- them by name). They are immutable-ish: the time zone database changes only with a
-- Postgres upgrade.
create function internal.is_valid_quiet_hours(q jsonb) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  w jsonb;
  d jsonb;
  hhmm constant text := '^([01][0-9]|2[0-3]):[0-5][0-9]$';
begin
  if q is null then
    return null;
  end if;
  if jsonb_typeof(q) <> 'object'
     or jsonb_typeof(q -> 'timezone') is distinct from 'string'
     or jsonb_typeof(q -> 'windows') is distinct from 'array'
     or not exists (select 1 from pg_catalog.pg_timezone_names where name = q ->> 'timezone')
  then
    return false;
  end if;
  for w in select * from jsonb_array_elements(q -> 'windows') loop
    if jsonb_typeof(w) <> 'object'
       or coalesce(w ->> 'start', '') !~ hhmm
       or coalesce(w ->> 'end', '') !~ hhmm
       or (w ? 'days' and jsonb_typeof(w -> 'days') <> 'array')
    then
      return false;
    end if;
    for d in select * from jsonb_array_elements(coalesce(w -> 'days', '[]')) loop
      if jsonb_typeof(d) <> 'number' or d::text !~ '^[1-7]$' then
        return false;
      end if;
    end loop;
  end loop;
  return true;
end
$$;
revoke execute on function internal.is_valid_quiet_hours(jsonb) from public;
grant execute on function internal.is_valid_quiet_hours(jsonb) to authenticated, service_role;
comment on function internal.is_valid_quiet_hours(jsonb) is
  'CHECK for guardrails.quiet_hours: an object with an IANA "timezone" (a name in pg_timezone_names) and a "windows" array of {start, end: "HH:MM", days?: [1..7]}.';
