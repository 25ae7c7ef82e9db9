create function internal.trickle_schedule_add(p_tenant_id uuid, p_toolkit text) returns boolean
language sql
set search_path = ''
as $$
  with added as (
    insert into internal.trickle_schedule (tenant_id, toolkit, interval_seconds, phase_seconds,
                                           next_due_at)
    select p_tenant_id, p_toolkit, w.interval_seconds, w.phase_seconds,
           w.window_start + make_interval(secs => w.interval_seconds)
      from internal.trickle_window(p_tenant_id, p_toolkit, now()) w
    on conflict (tenant_id, toolkit) do nothing
    returning 1
  )
  select exists (select 1 from added)
$$;
comment on function internal.trickle_schedule_add(uuid, text) is
  'Adds (tenant, toolkit) to the refresh schedule, first due at the start of its next window; does nothing (no write) when it is there. True when added.';
revoke all on function internal.trickle_schedule_add(uuid, text) from public;
