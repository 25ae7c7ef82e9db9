-- A CHECK validator of guardrails, executable by the writers (see is_valid_quiet_hours).
create function internal.is_valid_max_attempts(m jsonb) returns boolean
language sql
immutable
set search_path = ''
as $$
  select jsonb_typeof(m) = 'object'
     and (select array_agg(k order by k) from jsonb_object_keys(m) k) = array['high', 'low', 'medium']
     and (select bool_and(jsonb_typeof(v) = 'number' and v::text ~ '^[1-9][0-9]{0,5}$')
            from jsonb_each(m) as e(k, v))
$$;
revoke execute on function internal.is_valid_max_attempts(jsonb) from public;
grant execute on function internal.is_valid_max_attempts(jsonb) to authenticated, service_role;
comment on function internal.is_valid_max_attempts(jsonb) is
  'CHECK for guardrails.max_attempts: exactly the keys low, medium and high, each a positive integer.';
