create function jobs.register(p_slug text, p_budget_ms integer, p_interval_seconds integer)
returns void
language sql
set search_path = ''
as $$
  insert into jobs.registry (slug, budget_ms, interval_seconds)
  values (p_slug, p_budget_ms, p_interval_seconds)
  on conflict (slug) do update
    set budget_ms = excluded.budget_ms, interval_seconds = excluded.interval_seconds
$$;
comment on function jobs.register(text, integer, integer) is
  'Registers (or updates) a job with its budget and expected interval; idempotent.';
revoke all on function jobs.register(text, integer, integer) from public;
