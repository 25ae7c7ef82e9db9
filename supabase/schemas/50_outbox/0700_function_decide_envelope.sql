-- Errors (PostgREST's PTxxx convention): PT404 envelope not found (also another tenant's),
-- 42501 the caller is not an owner of the envelope's tenant, PT409 not needs_approval.
--
-- Approval decisions. The public functions are SECURITY DEFINER because owners may not
-- write outbox or approvals directly; this one does the work and the permission check.
-- The caller is the role the session switched to (PostgREST: set local role), not the
-- definer: authenticated callers must own the envelope's tenant (their token's tenant, while
-- they are an owner there: internal.active_tenant_id / active_tenant_role); other
-- callers reach this only through EXECUTE, granted to service_role (and held by postgres).
create function internal.decide_envelope(
  p_envelope_id uuid,
  p_decision text,
  p_reason text,
  p_summary text
) returns public.outbox
language plpgsql
set search_path = ''
as $$
declare
  v_caller text := coalesce(nullif(current_setting('role', true), 'none'), session_user);
  v_end_user boolean := v_caller in ('anon', 'authenticated');
  v_env public.outbox;
begin
  select * into v_env from public.outbox where id = p_envelope_id for update;
  -- An end user learns nothing about other tenants' envelopes: "not found" either way.
  if not found
     or (v_end_user and v_env.tenant_id is distinct from internal.active_tenant_id()) then
    raise exception 'envelope % not found', p_envelope_id using errcode = 'PT404';
  end if;
  if v_end_user and internal.active_tenant_role() is distinct from 'owner' then
    raise exception 'only an owner of the tenant may approve or reject its envelopes'
      using errcode = '42501';
  end if;
  if v_env.status <> 'needs_approval' then
    raise exception 'envelope % is %, only a needs_approval envelope can be decided',
                    p_envelope_id, v_env.status
      using errcode = 'PT409';
  end if;

  insert into public.approvals (tenant_id, envelope_id, reviewer_id, decision, reason,
                                proposal_summary)
  values (v_env.tenant_id, v_env.id, auth.uid(), p_decision, p_reason, p_summary);

  update public.outbox
     set status = case p_decision when 'approved' then 'pending' else 'rejected' end,
         next_run_at = case p_decision when 'approved' then now() else next_run_at end,
         completed_at = case p_decision when 'approved' then null else now() end
   where id = v_env.id
  returning * into v_env;
  return v_env;
end
$$;
revoke execute on function internal.decide_envelope(uuid, text, text, text) from public;
comment on function internal.decide_envelope(uuid, text, text, text) is
  'Shared body of approve_envelope / reject_envelope: checks the caller, records the decision in approvals, moves the envelope to pending or rejected.';
