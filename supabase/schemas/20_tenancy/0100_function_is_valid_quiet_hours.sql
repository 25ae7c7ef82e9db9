-- The guardrail validators run inside CHECK constraints, and Postgres checks EXECUTE on
-- functions in a constraint as the writing role: owners (authenticated) write guardrails,
-- so they may execute these pure functions (without USAGE on internal they cannot call
-- them by name). They are immutable-ish: the time zone database changes only with a
-- Postgres upgrade.
-- A SQL-standard body (BEGIN ATOMIC) is resolved when it is created, so owners writing
-- guardrails (authenticated, no USAGE on schema internal) can run it from the CHECK
-- constraint; they need EXECUTE only.
create function internal.is_valid_quiet_hours(q jsonb) returns boolean
language sql
immutable
set search_path = ''
begin atomic
  select case
    when q is null then null
    when jsonb_typeof(q) <> 'object'
         or jsonb_typeof(q -> 'timezone') is distinct from 'string'
         or jsonb_typeof(q -> 'windows') is distinct from 'array' then false
    when not internal.is_valid_time_zone(q ->> 'timezone') then false
    else not exists (
      select 1
        from jsonb_array_elements(q -> 'windows') as w (win)
       where case
               when jsonb_typeof(w.win) <> 'object' then true
               when coalesce(w.win ->> 'start', '') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                    or coalesce(w.win ->> 'end', '') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                 then true
               when w.win ? 'days' and jsonb_typeof(w.win -> 'days') <> 'array' then true
               else exists (select 1
                              from jsonb_array_elements(coalesce(w.win -> 'days', '[]')) as d (day)
                             where jsonb_typeof(d.day) <> 'number' or d.day::text !~ '^[1-7]$')
             end)
  end;
end;
revoke execute on function internal.is_valid_quiet_hours(jsonb) from public;
grant execute on function internal.is_valid_quiet_hours(jsonb) to authenticated, service_role;
comment on function internal.is_valid_quiet_hours(jsonb) is
  'CHECK for guardrails.quiet_hours: an object with a "timezone" quiet hours may name (internal.is_valid_time_zone) and a "windows" array of {start, end: "HH:MM", days?: [1..7]}.';
