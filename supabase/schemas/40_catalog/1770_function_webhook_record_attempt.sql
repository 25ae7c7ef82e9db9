-- drift-monitor: the outcome of one claimed attempt. delivered, failed and refused are
-- final; retry waits 1, 4, 16, 64 … minutes (at most 6 h) and becomes failed at
-- max_attempts, so an unreachable receiver costs a bounded number of requests.
create function internal.webhook_record_attempt(p_id bigint, p_outcome text,
                                                p_http_status integer, p_error text,
                                                p_address text, p_ms integer)
returns text
language plpgsql
set search_path = ''
as $$
declare
  v_status text;
begin
  if p_outcome not in ('delivered', 'failed', 'refused', 'retry') then
    raise exception 'webhook attempt outcome % is not delivered, failed, refused or retry',
      p_outcome using errcode = '22023';
  end if;
  update public.webhook_deliveries d
     set status = case when p_outcome <> 'retry' then p_outcome
                       when d.attempts >= d.max_attempts then 'failed'
                       else 'pending' end,
         next_attempt_at = case when p_outcome = 'retry' and d.attempts < d.max_attempts
                                then now() + least(interval '1 minute' * power(4, d.attempts - 1),
                                                   interval '6 hours')
                                else d.next_attempt_at end,
         last_error = case when p_outcome = 'delivered' then null else p_error end,
         last_http_status = p_http_status,
         finished_at = case when p_outcome = 'retry' and d.attempts < d.max_attempts then null
                            else now() end,
         attempt_log = d.attempt_log || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
           'attempt', d.attempts, 'at', now(), 'outcome', p_outcome,
           'http_status', p_http_status, 'address', p_address, 'error', p_error, 'ms', p_ms)))
   where d.id = p_id and d.status = 'pending'
  returning d.status into v_status;
  return v_status;
end
$$;
revoke all on function internal.webhook_record_attempt(bigint, text, integer, text, text, integer) from public;
comment on function internal.webhook_record_attempt(bigint, text, integer, text, text, integer) is
  'Records the outcome of a claimed webhook attempt (delivered, failed, refused: final; retry: due again after 1, 4, 16 … minutes, at most 6 h, or failed at max_attempts) in status, last_error, last_http_status and attempt_log. Returns the new status, NULL when the row is not pending.';
