create function internal.trickle_claim_due(p_limit integer, p_tenant_id uuid default null,
                                           p_toolkit text default null,
                                           p_immediate boolean default false)
returns table (tenant_id uuid, toolkit text, window_start timestamptz)
language sql
set search_path = ''
as $$
  -- Due pairs (or, immediate, the named ones whatever their due time), locked with SKIP
  -- LOCKED and moved to their next window in the same statement: two invocations never
  -- claim one pair for one window.
  with due as (
    select s.tenant_id, s.toolkit, w.window_start,
           w.window_start + make_interval(secs => w.interval_seconds) as next_due_at
      from internal.trickle_schedule s
      cross join lateral internal.trickle_window(s.tenant_id, s.toolkit, now()) w
     where (p_tenant_id is null or s.tenant_id = p_tenant_id)
       and (p_toolkit is null or s.toolkit = p_toolkit)
       and (s.next_due_at <= now() or p_immediate)
     order by s.next_due_at
     limit p_limit
       for update of s skip locked
  )
  update internal.trickle_schedule s
     set last_window_start = d.window_start, next_due_at = d.next_due_at, last_run_at = now()
    from due d
   where s.tenant_id = d.tenant_id and s.toolkit = d.toolkit
  returning s.tenant_id, s.toolkit, d.window_start
$$;
comment on function internal.trickle_claim_due(integer, uuid, text, boolean) is
  'Claims up to p_limit due (tenant, toolkit) pairs (SKIP LOCKED), moves each to its next window and returns it with the current window start. p_immediate claims the filtered pairs whatever their due time (warm scan).';
revoke all on function internal.trickle_claim_due(integer, uuid, text, boolean) from public;
