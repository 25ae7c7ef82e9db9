-- The two decisions owners make through the Data API: SECURITY DEFINER wrappers of
-- internal.decide_envelope, which checks the caller.
create function public.approve_envelope(
  p_envelope_id uuid,
  p_reason text default null,
  p_summary text default null
) returns public.outbox
language sql
security definer
set search_path = ''
as $$
  select * from internal.decide_envelope(p_envelope_id, 'approved', p_reason, p_summary)
$$;
revoke execute on function public.approve_envelope(uuid, text, text) from public, anon;
grant execute on function public.approve_envelope(uuid, text, text) to authenticated, service_role;
comment on function public.approve_envelope(uuid, text, text) is
  'Approves a needs_approval envelope: records the decision and makes it pending (due now). Callable by owners of its tenant (JWT claims) and service_role. PT404 not found, 42501 not an owner, PT409 not needs_approval.';

create function public.reject_envelope(
  p_envelope_id uuid,
  p_reason text default null,
  p_summary text default null
) returns public.outbox
language sql
security definer
set search_path = ''
as $$
  select * from internal.decide_envelope(p_envelope_id, 'rejected', p_reason, p_summary)
$$;
revoke execute on function public.reject_envelope(uuid, text, text) from public, anon;
grant execute on function public.reject_envelope(uuid, text, text) to authenticated, service_role;
comment on function public.reject_envelope(uuid, text, text) is
  'Rejects a needs_approval envelope: records the decision and parks it as rejected (never executed). Callable by owners of its tenant (JWT claims) and service_role. PT404 not found, 42501 not an owner, PT409 not needs_approval.';
