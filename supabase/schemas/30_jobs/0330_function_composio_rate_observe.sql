-- What a batch's Composio answers said about the project's rate limit: the latest answer's
-- limit, remaining and window (the server's count is the truth: it replaces ours), and a
-- 429's Retry-After, which closes the bucket (with no Retry-After, for the window, or a
-- minute while the window is not known yet).
create function internal.composio_rate_observe(p_limit integer, p_remaining integer,
                                               p_window_seconds integer,
                                               p_retry_after_ms bigint, p_limited boolean)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_now timestamptz := pg_catalog.clock_timestamp();
begin
  insert into internal.composio_rate_limit (id) values (true) on conflict (id) do nothing;
  if p_limit >= 1 and p_window_seconds >= 1 and p_remaining >= 0 then
    update internal.composio_rate_limit
       set rate_limit = p_limit, window_seconds = p_window_seconds,
           tokens = least(p_remaining, p_limit), refilled_at = v_now, observed_at = v_now
     where id;
  end if;
  if p_limited then
    update internal.composio_rate_limit r
       set tokens = 0, refilled_at = v_now,
           closed_until = greatest(
             coalesce(r.closed_until, v_now),
             v_now + coalesce(make_interval(secs => p_retry_after_ms / 1000.0),
                              make_interval(secs => coalesce(r.window_seconds, 60))))
     where id;
  end if;
end
$$;
revoke all on function internal.composio_rate_observe(integer, integer, integer, bigint, boolean)
  from public;
comment on function internal.composio_rate_observe(integer, integer, integer, bigint, boolean) is
  'Feeds the project''s Composio bucket what answers reported: limit, remaining and window replace what it held; p_limited (a 429) closes it until Retry-After (else for the window, or 60 s when unknown).';
