-- The single-envelope functions: one-element batches of outbox_settle, so each effect has
-- one implementation; callers that settle one envelope keep a function per effect.

create function public.outbox_complete(
  p_id uuid,
  p_token uuid,
  p_result jsonb,
  p_details jsonb default '{}'
) returns boolean
language sql
set search_path = ''
as $$
  select s.applied
    from public.outbox_settle(jsonb_build_array(
           jsonb_build_object('op', 'complete', 'id', p_id, 'token', p_token,
                              'details', p_details)
           || case when p_result is null then '{}'::jsonb
                   else jsonb_build_object('result', p_result) end)) s
$$;
revoke execute on function public.outbox_complete(uuid, uuid, jsonb, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_complete(uuid, uuid, jsonb, jsonb) to service_role;
comment on function public.outbox_complete(uuid, uuid, jsonb, jsonb) is
  'Settles a leased envelope as succeeded: stores the result, writes its output to evidence and one audit row (with p_details). False, and nothing written, when the lease token no longer matches.';

create function public.outbox_retry(
  p_id uuid,
  p_token uuid,
  p_delay_ms bigint,
  p_reason text,
  p_outcome text default null,
  p_details jsonb default '{}'
) returns boolean
language sql
set search_path = ''
as $$
  select s.applied
    from public.outbox_settle(jsonb_build_array(
           jsonb_build_object('op', 'retry', 'id', p_id, 'token', p_token,
                              'delay_ms', p_delay_ms, 'reason', p_reason,
                              'outcome', p_outcome, 'details', p_details))) s
$$;
revoke execute on function public.outbox_retry(uuid, uuid, bigint, text, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_retry(uuid, uuid, bigint, text, text, jsonb) to service_role;
comment on function public.outbox_retry(uuid, uuid, bigint, text, text, jsonb) is
  'After a failed execution: status retry, one more attempt, due again in p_delay_ms, with the reason; one audit row. False when the lease token no longer matches.';

create function public.outbox_park(
  p_id uuid,
  p_token uuid,
  p_status text,
  p_reason text,
  p_until timestamptz default null,
  p_outcome text default null,
  p_details jsonb default '{}'
) returns boolean
language sql
set search_path = ''
as $$
  select s.applied
    from public.outbox_settle(jsonb_build_array(
           jsonb_build_object('op', 'park', 'id', p_id, 'token', p_token, 'status', p_status,
                              'reason', p_reason, 'until', p_until, 'outcome', p_outcome,
                              'details', p_details))) s
$$;
revoke execute on function public.outbox_park(uuid, uuid, text, text, timestamptz, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_park(uuid, uuid, text, text, timestamptz, text, jsonb)
  to service_role;
comment on function public.outbox_park(uuid, uuid, text, text, timestamptz, text, jsonb) is
  'Parks a leased envelope with its reason: conflict or unknown_outcome (after an execution: one more attempt, completed_at set, waits for an operator), deferred until p_until or needs_approval (no attempt consumed). One audit row. False when the lease token no longer matches.';

create function public.outbox_move_to_dlq(
  p_id uuid,
  p_token uuid,
  p_reason text,
  p_error text,
  p_executed boolean,
  p_outcome text default null,
  p_details jsonb default '{}'
) returns boolean
language sql
set search_path = ''
as $$
  select s.applied
    from public.outbox_settle(jsonb_build_array(
           jsonb_build_object('op', 'dlq', 'id', p_id, 'token', p_token,
                              'dlq_reason', p_reason, 'reason', p_error,
                              'executed', p_executed, 'outcome', p_outcome,
                              'details', p_details))) s
$$;
revoke execute on function public.outbox_move_to_dlq(uuid, uuid, text, text, boolean, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_move_to_dlq(uuid, uuid, text, text, boolean, text, jsonb)
  to service_role;
comment on function public.outbox_move_to_dlq(uuid, uuid, text, text, boolean, text, jsonb) is
  'Moves a leased envelope to outbox_dlq in one transaction (same id; p_reason: non_retryable, max_attempts, invalid_arguments, guardrail code), p_error the message; one more attempt when p_executed. One audit row. False when the lease token no longer matches.';

create function public.outbox_release(
  p_id uuid,
  p_token uuid,
  p_reason text,
  p_details jsonb default '{}'
) returns boolean
language sql
set search_path = ''
as $$
  select s.applied
    from public.outbox_settle(jsonb_build_array(
           jsonb_build_object('op', 'release', 'id', p_id, 'token', p_token,
                              'reason', p_reason, 'details', p_details))) s
$$;
revoke execute on function public.outbox_release(uuid, uuid, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_release(uuid, uuid, text, jsonb) to service_role;
comment on function public.outbox_release(uuid, uuid, text, jsonb) is
  'Gives back a leased envelope that was never sent (the drain halted): pending or retry again, due as before, no attempt consumed; one audit row. False when the lease token no longer matches.';
