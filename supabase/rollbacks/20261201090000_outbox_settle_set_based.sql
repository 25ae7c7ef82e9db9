-- Reverts 20261201090000_outbox_settle_set_based.sql: the per-envelope settle functions and
-- the looping outbox_settle of 20261123150000_outbox_drain.sql, as they were there.
create or replace function internal.outbox_audit(
  p_env public.outbox,
  p_category text,
  p_actor_type text,
  p_actor_id text,
  p_details jsonb
) returns void
language sql
set search_path = ''
as $$
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, envelope_id, payload)
  values (p_env.tenant_id, p_actor_type, p_actor_id, p_category, p_env.id,
          jsonb_build_object('status', p_env.status, 'attempts', p_env.attempts,
                             'tool_slug', p_env.tool_slug, 'outcome', p_env.outcome,
                             'reason', p_env.last_error)
          || coalesce(p_details, '{}'::jsonb) - 'arguments')
$$;

create or replace function public.outbox_complete(
  p_id uuid,
  p_token uuid,
  p_result jsonb,
  p_details jsonb default '{}'
) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_env public.outbox;
begin
  update public.outbox o
     set status = 'succeeded', result = p_result, outcome = 'success', last_error = null,
         attempts = o.attempts + 1, completed_at = now(),
         lease_token = null, lease_expires_at = null
   where o.id = p_id and o.lease_token = p_token and o.status = 'running'
  returning o.* into v_env;
  if not found then
    return false;
  end if;
  insert into public.evidence (tenant_id, envelope_id, tool_slug, content, content_text)
  values (v_env.tenant_id, v_env.id, v_env.tool_slug,
          coalesce(p_result -> 'data', p_result, 'null'::jsonb),
          left(coalesce(p_result -> 'data', p_result, 'null'::jsonb)::text, 8000));
  perform internal.outbox_audit(v_env, 'outbox_succeeded', 'job', 'outbox-drain', p_details);
  return true;
end
$$;

create or replace function public.outbox_retry(
  p_id uuid,
  p_token uuid,
  p_delay_ms bigint,
  p_reason text,
  p_outcome text default null,
  p_details jsonb default '{}'
) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_env public.outbox;
begin
  update public.outbox o
     set status = 'retry', attempts = o.attempts + 1,
         next_run_at = now() + make_interval(secs => greatest(p_delay_ms, 0) / 1000.0),
         last_error = p_reason, outcome = p_outcome,
         lease_token = null, lease_expires_at = null
   where o.id = p_id and o.lease_token = p_token and o.status = 'running'
  returning o.* into v_env;
  if not found then
    return false;
  end if;
  perform internal.outbox_audit(v_env, 'outbox_retry', 'job', 'outbox-drain',
                                coalesce(p_details, '{}') || jsonb_build_object('delay_ms', p_delay_ms));
  return true;
end
$$;

create or replace function public.outbox_park(
  p_id uuid,
  p_token uuid,
  p_status text,
  p_reason text,
  p_until timestamptz default null,
  p_outcome text default null,
  p_details jsonb default '{}'
) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_env public.outbox;
  v_executed boolean := p_status in ('conflict', 'unknown_outcome');
begin
  if p_status not in ('conflict', 'unknown_outcome', 'deferred', 'needs_approval') then
    raise exception 'outbox_park: status must be conflict, unknown_outcome, deferred or needs_approval, got %',
                    p_status using errcode = '22023';
  end if;
  if p_status = 'deferred' and p_until is null then
    raise exception 'outbox_park: deferred needs p_until' using errcode = '22023';
  end if;
  update public.outbox o
     set status = p_status,
         attempts = o.attempts + case when v_executed then 1 else 0 end,
         next_run_at = case when p_status = 'deferred' then p_until else o.next_run_at end,
         last_error = p_reason,
         outcome = coalesce(p_outcome, case when v_executed then o.outcome end),
         completed_at = case when v_executed then now() end,
         lease_token = null, lease_expires_at = null
   where o.id = p_id and o.lease_token = p_token and o.status = 'running'
  returning o.* into v_env;
  if not found then
    return false;
  end if;
  perform internal.outbox_audit(v_env, 'outbox_' || p_status, 'job', 'outbox-drain',
                                coalesce(p_details, '{}')
                                || case when p_until is null then '{}'::jsonb
                                        else jsonb_build_object('until', p_until) end);
  return true;
end
$$;

create or replace function public.outbox_move_to_dlq(
  p_id uuid,
  p_token uuid,
  p_reason text,
  p_error text,
  p_executed boolean,
  p_outcome text default null,
  p_details jsonb default '{}'
) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_env public.outbox;
begin
  delete from public.outbox o
   where o.id = p_id and o.lease_token = p_token and o.status = 'running'
  returning o.* into v_env;
  if not found then
    return false;
  end if;
  v_env.attempts := v_env.attempts + case when p_executed then 1 else 0 end;
  v_env.last_error := p_error;
  v_env.outcome := coalesce(p_outcome, v_env.outcome);
  v_env.status := case when v_env.attempts > 0 then 'retry' else 'pending' end;
  insert into public.outbox_dlq (id, tenant_id, tool_slug, toolkit, arguments,
                                 connected_account_id, risk, read_only, external_id,
                                 trust_context, metadata, status, attempts, next_run_at,
                                 last_error, lease_token, lease_expires_at, claimed_by, result,
                                 outcome, created_at, updated_at, completed_at, moved_at, reason)
  values (v_env.id, v_env.tenant_id, v_env.tool_slug, v_env.toolkit, v_env.arguments,
          v_env.connected_account_id, v_env.risk, v_env.read_only, v_env.external_id,
          v_env.trust_context, v_env.metadata, v_env.status, v_env.attempts,
          v_env.next_run_at, v_env.last_error, null, null, v_env.claimed_by, v_env.result,
          v_env.outcome, v_env.created_at, now(), null, now(), p_reason);
  perform internal.outbox_audit(v_env, 'outbox_dead_lettered', 'job', 'outbox-drain',
                                coalesce(p_details, '{}')
                                || jsonb_build_object('dlq_reason', p_reason));
  return true;
end
$$;

create or replace function public.outbox_release(
  p_id uuid,
  p_token uuid,
  p_reason text,
  p_details jsonb default '{}'
) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_env public.outbox;
begin
  update public.outbox o
     set status = case when o.attempts > 0 then 'retry' else 'pending' end,
         outcome = null, lease_token = null, lease_expires_at = null
   where o.id = p_id and o.lease_token = p_token and o.status = 'running'
  returning o.* into v_env;
  if not found then
    return false;
  end if;
  perform internal.outbox_audit(v_env, 'outbox_released', 'job', 'outbox-drain',
                                coalesce(p_details, '{}') || jsonb_build_object('why', p_reason));
  return true;
end
$$;

create or replace function public.outbox_settle(p_outcomes jsonb)
returns table (id uuid, op text, applied boolean)
language plpgsql
set search_path = ''
as $$
declare
  e jsonb;
  v_id uuid;
  v_token uuid;
  v_ok boolean;
begin
  if jsonb_typeof(p_outcomes) is distinct from 'array' then
    raise exception 'outbox_settle: p_outcomes must be a JSON array' using errcode = '22023';
  end if;
  -- In tenant order (see outbox_claim): the drain sends them sorted, this makes sure.
  for e in select x.value from jsonb_array_elements(p_outcomes) x
            order by x.value ->> 'tenant_id', x.value ->> 'id' loop
    v_id := (e ->> 'id')::uuid;
    v_token := (e ->> 'token')::uuid;
    case e ->> 'op'
      when 'complete' then
        v_ok := public.outbox_complete(v_id, v_token, e -> 'result', e -> 'details');
      when 'retry' then
        v_ok := public.outbox_retry(v_id, v_token, (e ->> 'delay_ms')::bigint, e ->> 'reason',
                                    e ->> 'outcome', e -> 'details');
      when 'park' then
        v_ok := public.outbox_park(v_id, v_token, e ->> 'status', e ->> 'reason',
                                   (e ->> 'until')::timestamptz, e ->> 'outcome', e -> 'details');
      when 'dlq' then
        v_ok := public.outbox_move_to_dlq(v_id, v_token, e ->> 'dlq_reason', e ->> 'reason',
                                          coalesce((e ->> 'executed')::boolean, false),
                                          e ->> 'outcome', e -> 'details');
      when 'release' then
        v_ok := public.outbox_release(v_id, v_token, e ->> 'reason', e -> 'details');
      else
        raise exception 'outbox_settle: unknown op %', e ->> 'op' using errcode = '22023';
    end case;
    id := v_id;
    op := e ->> 'op';
    applied := v_ok;
    return next;
  end loop;
end
$$;

comment on function public.outbox_settle(jsonb) is
  'Applies a batch of outcomes in one transaction: each element {op: complete|retry|park|dlq|release, id, token, …} calls outbox_complete / outbox_retry / outbox_park / outbox_move_to_dlq / outbox_release. Returns (id, op, applied) per element.';

drop function internal.outbox_audit_payload(text, integer, text, text, text, jsonb);

delete from supabase_migrations.schema_migrations where version = '20261201090000';
