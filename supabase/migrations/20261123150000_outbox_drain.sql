-- outbox-drain: the SQL half of guarded execution. One function per effect, each guarded
-- by the envelope's lease token so that a late worker cannot overwrite an envelope another
-- drain reclaimed, and each writing exactly one audit_log row in the same transaction:
--
--   public.outbox_claim        lease due envelopes (SKIP LOCKED, per-tenant concurrency cap)
--   public.outbox_mark_sending record that the HTTP call is about to be made
--   public.outbox_complete     succeeded + result + evidence row
--   public.outbox_retry        back to `retry` after a backoff delay
--   public.outbox_park         conflict | unknown_outcome | deferred | needs_approval
--   public.outbox_move_to_dlq  out of outbox into outbox_dlq
--   public.outbox_release      give a claimed, unsent envelope back (the drain halted)
--   public.outbox_settle       applies a batch of the above in one round trip
--   public.outbox_requeue_dlq / outbox_retry_dlq / outbox_resolve   operator actions
--
-- Attempts count executions only: claim does not touch them; complete, retry, DLQ after an
-- execution and conflict / unknown_outcome add one. Deferrals, approvals, releases and
-- validation / guardrail dead letters (nothing was sent) do not.
--
-- Reclaiming: claim first takes back envelopes whose lease expired. A read goes back to
-- `retry` (running it again is harmless). A write goes back to `retry` only when the drain
-- never reached the HTTP call (outcome is not 'sending'); a write that may have been sent
-- becomes `unknown_outcome` for an operator: the outbox never runs a write twice.
--
-- All of these run as the job (postgres) or service_role; EXECUTE is revoked from the API
-- roles. They are SECURITY INVOKER: their callers bypass RLS.

-- Per-tenant due scan for the claim: oldest due envelope of a tenant, and its due envelopes
-- in order, without scanning other tenants' backlog.
create index outbox_tenant_due_idx on public.outbox (tenant_id, next_run_at)
  where status in ('pending', 'retry', 'deferred');
-- Live leases per tenant (the concurrency cap counts them).
create index outbox_tenant_running_idx on public.outbox (tenant_id) where status = 'running';

-- ---------------------------------------------------------------------------------------
-- Audit helper: one row per outcome. Never carries tool arguments.
create function internal.outbox_audit(
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
revoke execute on function internal.outbox_audit(public.outbox, text, text, text, jsonb)
  from public;
comment on function internal.outbox_audit(public.outbox, text, text, text, jsonb) is
  'Writes the one audit_log row of an outbox outcome: status, attempts, tool, outcome, reason and the caller''s details (duration_ms, worker), never the arguments.';

-- ---------------------------------------------------------------------------------------
create function public.outbox_claim(
  p_worker text,
  p_limit integer,
  p_lease_ms integer,
  p_tenant_id uuid default null
) returns table (
  id uuid,
  tenant_id uuid,
  tool_slug text,
  toolkit text,
  arguments jsonb,
  connected_account_id text,
  risk text,
  read_only boolean,
  trust_context jsonb,
  attempts integer,
  status_before text,
  lease_token uuid,
  lease_expires_at timestamptz
)
language plpgsql
set search_path = ''
as $$
declare
  v_tenants uuid[];
  v_env public.outbox;
begin
  if p_limit is null or p_limit < 1 or p_limit > 10000 then
    raise exception 'outbox_claim: p_limit must be within 1..10000, got %', p_limit
      using errcode = '22023';
  end if;
  if p_lease_ms is null or p_lease_ms < 100 or p_lease_ms > 3600000 then
    raise exception 'outbox_claim: p_lease_ms must be within 100..3600000, got %', p_lease_ms
      using errcode = '22023';
  end if;

  -- 1. Take back expired leases (bounded; the next claim takes the rest).
  for v_env in
    with expired as (
      select o.id from public.outbox o
       where o.status = 'running' and o.lease_expires_at < now()
         and (p_tenant_id is null or o.tenant_id = p_tenant_id)
       order by o.lease_expires_at
       limit 1000
       for update skip locked
    ), upd as (
    update public.outbox o
       set status = case when not o.read_only and o.outcome = 'sending' then 'unknown_outcome'
                         else 'retry' end,
           attempts = o.attempts + case when o.outcome = 'sending' then 1 else 0 end,
           last_error = case when not o.read_only and o.outcome = 'sending'
                             then 'the lease of ' || coalesce(o.claimed_by, 'a worker')
                                  || ' expired during the call; the write may have happened'
                             else 'the lease of ' || coalesce(o.claimed_by, 'a worker')
                                  || ' expired; running it again' end,
           outcome = 'lease_expired',
           next_run_at = now(),
           completed_at = case when not o.read_only and o.outcome = 'sending' then now() end,
           lease_token = null, lease_expires_at = null
      from expired e
     where o.id = e.id
    returning o.*
  ), reclaimed as (
    select * from upd
  )
  -- Audit rows in tenant order: audit_log's per-tenant hash-chain heads are locked in
  -- insertion order, and concurrent drains must take them in the same order.
  select r.* from reclaimed r order by r.tenant_id, r.id
  loop
    perform internal.outbox_audit(v_env, 'outbox_lease_expired', 'job', 'outbox-drain',
                                  jsonb_build_object('worker', p_worker));
  end loop;

  -- 2. Lock the candidate tenants (their tenants row is the cap's lock row), oldest due
  -- first. A tenant another drain is claiming for is skipped, never waited for.
  select array_agg(s.id) into v_tenants
    from (select t.id
            from public.tenants t
           where (p_tenant_id is null or t.id = p_tenant_id)
             and exists (select 1 from public.outbox o
                          where o.tenant_id = t.id
                            and o.status in ('pending', 'retry', 'deferred')
                            and o.next_run_at <= now())
           order by (select min(o.next_run_at) from public.outbox o
                      where o.tenant_id = t.id
                        and o.status in ('pending', 'retry', 'deferred'))
           limit p_limit
           for no key update of t skip locked) s;
  if v_tenants is null then
    return;
  end if;

  -- 3. A new statement, so a new snapshot: it sees the leases committed by any drain that
  -- held these tenant locks before us. Take at most cap − running per tenant, round-robin
  -- across tenants (each tenant's oldest first), p_limit in all.
  return query
  with cap as (
    select t.tid,
           coalesce(g.concurrency_cap, 1)
             - (select count(*) from public.outbox o
                 where o.tenant_id = t.tid and o.status = 'running')::int as free
      from unnest(v_tenants) as t (tid)
      left join public.guardrails g on g.tenant_id = t.tid
  ),
  candidates as (
    select c.tid, x.id, x.next_run_at,
           row_number() over (partition by c.tid order by x.next_run_at, x.id) as rn
      from cap c
      cross join lateral (
        select o.id, o.next_run_at from public.outbox o
         where o.tenant_id = c.tid
           and o.status in ('pending', 'retry', 'deferred')
           and o.next_run_at <= now()
         -- next_run_at alone: the (tenant_id, next_run_at) index gives it without a sort.
         order by o.next_run_at
         limit greatest(c.free, 0)
         for update skip locked
      ) x
     where c.free > 0
  ),
  picked as (
    select c.id from candidates c order by c.rn, c.next_run_at, c.id limit p_limit
  ),
  claimed as (
    update public.outbox o
       set status = 'running',
           lease_token = gen_random_uuid(),
           lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0),
           claimed_by = p_worker,
           outcome = null
      from picked p
     where o.id = p.id
    returning o.id, o.tenant_id, o.tool_slug, o.toolkit, o.arguments, o.connected_account_id,
              o.risk, o.read_only, o.trust_context, o.attempts, o.lease_token,
              o.lease_expires_at, o.next_run_at
  )
  select c.id, c.tenant_id, c.tool_slug, c.toolkit, c.arguments, c.connected_account_id,
         c.risk, c.read_only, c.trust_context, c.attempts,
         case when c.attempts > 0 then 'retry' else 'pending' end,
         c.lease_token, c.lease_expires_at
    from claimed c
   order by c.next_run_at, c.id;
end
$$;
revoke execute on function public.outbox_claim(text, integer, integer, uuid)
  from public, anon, authenticated;
grant execute on function public.outbox_claim(text, integer, integer, uuid) to service_role;
comment on function public.outbox_claim(text, integer, integer, uuid) is
  'Leases up to p_limit due envelopes (pending, retry, deferred with next_run_at <= now) for p_lease_ms to p_worker: SKIP LOCKED, at most concurrency_cap − running per tenant (the tenant row is locked while counting), round-robin across tenants. First reclaims expired leases: reads and unsent writes go back to retry, writes that may have been sent become unknown_outcome. Returns each envelope with its lease_token.';

-- ---------------------------------------------------------------------------------------
create function public.outbox_mark_sending(p_ids uuid[], p_tokens uuid[])
returns integer
language sql
set search_path = ''
as $$
  with marked as (
    update public.outbox o
       set outcome = 'sending'
      from unnest(p_ids, p_tokens) as m (id, token)
     where o.id = m.id and o.lease_token = m.token and o.status = 'running'
    returning 1
  )
  select count(*)::int from marked
$$;
revoke execute on function public.outbox_mark_sending(uuid[], uuid[])
  from public, anon, authenticated;
grant execute on function public.outbox_mark_sending(uuid[], uuid[]) to service_role;
comment on function public.outbox_mark_sending(uuid[], uuid[]) is
  'Marks leased envelopes (outcome = sending) just before their HTTP calls, so an expired lease tells a write that may have been sent (unknown_outcome) from one that never was (retry). Returns how many were still held.';

-- ---------------------------------------------------------------------------------------
create function public.outbox_complete(
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
revoke execute on function public.outbox_complete(uuid, uuid, jsonb, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_complete(uuid, uuid, jsonb, jsonb) to service_role;
comment on function public.outbox_complete(uuid, uuid, jsonb, jsonb) is
  'Settles a leased envelope as succeeded: stores the result, writes its output to evidence and one audit row (with p_details). False, and nothing written, when the lease token no longer matches.';

-- ---------------------------------------------------------------------------------------
create function public.outbox_retry(
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
revoke execute on function public.outbox_retry(uuid, uuid, bigint, text, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_retry(uuid, uuid, bigint, text, text, jsonb) to service_role;
comment on function public.outbox_retry(uuid, uuid, bigint, text, text, jsonb) is
  'After a failed execution: status retry, one more attempt, due again in p_delay_ms, with the reason; one audit row. False when the lease token no longer matches.';

-- ---------------------------------------------------------------------------------------
create function public.outbox_park(
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
revoke execute on function public.outbox_park(uuid, uuid, text, text, timestamptz, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_park(uuid, uuid, text, text, timestamptz, text, jsonb)
  to service_role;
comment on function public.outbox_park(uuid, uuid, text, text, timestamptz, text, jsonb) is
  'Parks a leased envelope with its reason: conflict or unknown_outcome (after an execution: one more attempt, completed_at set, waits for an operator), deferred until p_until or needs_approval (no attempt consumed). One audit row. False when the lease token no longer matches.';

-- ---------------------------------------------------------------------------------------
create function public.outbox_move_to_dlq(
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
revoke execute on function public.outbox_move_to_dlq(uuid, uuid, text, text, boolean, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_move_to_dlq(uuid, uuid, text, text, boolean, text, jsonb)
  to service_role;
comment on function public.outbox_move_to_dlq(uuid, uuid, text, text, boolean, text, jsonb) is
  'Moves a leased envelope to outbox_dlq in one transaction (same id; p_reason: non_retryable, max_attempts, invalid_arguments, guardrail code), p_error the message; one more attempt when p_executed. One audit row. False when the lease token no longer matches.';

-- ---------------------------------------------------------------------------------------
create function public.outbox_release(
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
revoke execute on function public.outbox_release(uuid, uuid, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.outbox_release(uuid, uuid, text, jsonb) to service_role;
comment on function public.outbox_release(uuid, uuid, text, jsonb) is
  'Gives back a leased envelope that was never sent (the drain halted): pending or retry again, due as before, no attempt consumed; one audit row. False when the lease token no longer matches.';

-- ---------------------------------------------------------------------------------------
-- One round trip per batch: each element is {op, id, token, …} for one of the functions
-- above; returns the ids whose lease was still held (the others were left alone).
create function public.outbox_settle(p_outcomes jsonb)
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
revoke execute on function public.outbox_settle(jsonb) from public, anon, authenticated;
grant execute on function public.outbox_settle(jsonb) to service_role;
comment on function public.outbox_settle(jsonb) is
  'Applies a batch of outcomes in one transaction: each element {op: complete|retry|park|dlq|release, id, token, …} calls outbox_complete / outbox_retry / outbox_park / outbox_move_to_dlq / outbox_release. Returns (id, op, applied) per element.';

-- ---------------------------------------------------------------------------------------
-- Operator actions.
create function public.outbox_requeue_dlq(
  p_tenant_id uuid,
  p_limit integer,
  p_actor text,
  p_id uuid default null
) returns setof uuid
language plpgsql
set search_path = ''
as $$
declare
  v_env public.outbox;
begin
  if p_limit is null or p_limit < 1 or p_limit > 100000 then
    raise exception 'outbox_requeue_dlq: p_limit must be within 1..100000, got %', p_limit
      using errcode = '22023';
  end if;
  for v_env in
    with moved as (
      delete from public.outbox_dlq d
       where d.id in (select x.id from public.outbox_dlq x
                       where (p_tenant_id is null or x.tenant_id = p_tenant_id)
                         and (p_id is null or x.id = p_id)
                       order by x.moved_at, x.id
                       limit p_limit
                       for update skip locked)
      returning d.*
    ), ins as (
    insert into public.outbox (id, tenant_id, tool_slug, toolkit, arguments,
                               connected_account_id, risk, read_only, external_id,
                               trust_context, metadata, status, attempts, next_run_at,
                               last_error, claimed_by, outcome, created_at)
    select m.id, m.tenant_id, m.tool_slug, m.toolkit, m.arguments, m.connected_account_id,
           m.risk, m.read_only, m.external_id, m.trust_context, m.metadata, 'pending', 0,
           now(), m.last_error, m.claimed_by, 'requeued', m.created_at
      from moved m
    returning *
  ), requeued as (
    select * from ins
  )
  select r.* from requeued r order by r.tenant_id, r.id
  loop
    perform internal.outbox_audit(v_env, 'outbox_requeued', 'operator', p_actor, '{}');
    return next v_env.id;
  end loop;
end
$$;
revoke execute on function public.outbox_requeue_dlq(uuid, integer, text, uuid)
  from public, anon, authenticated;
grant execute on function public.outbox_requeue_dlq(uuid, integer, text, uuid) to service_role;
comment on function public.outbox_requeue_dlq(uuid, integer, text, uuid) is
  'Operator: moves up to p_limit dead letters (of one tenant, or one envelope p_id, or all) back into outbox as pending with attempts reset, oldest first; one audit row each. Returns their ids.';

create function public.outbox_resolve(
  p_id uuid,
  p_resolution text,
  p_actor text,
  p_note text default null
) returns public.outbox
language plpgsql
set search_path = ''
as $$
declare
  v_env public.outbox;
begin
  if p_resolution not in ('done', 'retry') then
    raise exception 'outbox_resolve: resolution must be done or retry, got %', p_resolution
      using errcode = '22023';
  end if;
  select * into v_env from public.outbox o where o.id = p_id for update;
  if not found then
    raise exception 'envelope % not found', p_id using errcode = 'PT404';
  end if;
  if v_env.status <> 'unknown_outcome' then
    raise exception 'envelope % is %, only an unknown_outcome envelope can be resolved',
                    p_id, v_env.status using errcode = 'PT409';
  end if;
  update public.outbox o
     set status = case p_resolution when 'done' then 'succeeded' else 'retry' end,
         outcome = 'resolved_' || p_resolution,
         next_run_at = case p_resolution when 'retry' then now() else o.next_run_at end,
         completed_at = case p_resolution when 'done' then now() end,
         last_error = coalesce(p_note, o.last_error)
   where o.id = p_id
  returning o.* into v_env;
  perform internal.outbox_audit(v_env, 'outbox_resolved', 'operator', p_actor,
                                jsonb_build_object('resolution', p_resolution, 'note', p_note));
  return v_env;
end
$$;
revoke execute on function public.outbox_resolve(uuid, text, text, text)
  from public, anon, authenticated;
grant execute on function public.outbox_resolve(uuid, text, text, text) to service_role;
comment on function public.outbox_resolve(uuid, text, text, text) is
  'Operator: settles an unknown_outcome envelope as done (succeeded) or retry (due now, the operator takes the duplicate risk); one audit row. PT404 not found, PT409 not unknown_outcome.';

-- ---------------------------------------------------------------------------------------
-- Enqueue kick: after a statement inserts envelopes, invoke the drain through pg_net (sent
-- after commit), at most once per debounce interval; the every-minute schedule is the
-- safety net. Pausing the drain (jobs.pause('outbox-drain')) also stops the kicks.
create table internal.outbox_kick (
  id boolean primary key default true check (id),
  last_kick_at timestamptz not null default '-infinity',
  debounce_ms integer not null default 2000 check (debounce_ms >= 0)
);
alter table internal.outbox_kick enable row level security;
insert into internal.outbox_kick default values;
comment on table internal.outbox_kick is
  'The one debounce row of the enqueue kick: when the drain was last kicked and how long to wait before kicking again.';
comment on column internal.outbox_kick.id is 'Always true: a single row.';
comment on column internal.outbox_kick.last_kick_at is 'When the last kick was queued.';
comment on column internal.outbox_kick.debounce_ms is 'Minimum time between two kicks, in ms.';

create function internal.outbox_kick_drain() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from new_rows where status in ('pending', 'retry')) then
    return null;
  end if;
  if not exists (select 1 from cron.job j
                  where j.jobname = 'outbox-drain-every-minute' and j.active) then
    return null; -- paused
  end if;
  -- SKIP LOCKED: a transaction that is kicking right now is enough for this burst too.
  perform 1 from internal.outbox_kick k
   where k.last_kick_at < now() - make_interval(secs => k.debounce_ms / 1000.0)
   for update skip locked;
  if not found then
    return null;
  end if;
  update internal.outbox_kick set last_kick_at = now();
  begin
    perform jobs.invoke('outbox-drain', '{"trigger": "enqueue"}'::jsonb);
  exception when others then
    -- No Vault secrets yet (seeding, a fresh project): the schedule will drain.
    raise notice 'outbox kick skipped: %', sqlerrm;
  end;
  return null;
end
$$;
revoke execute on function internal.outbox_kick_drain() from public;
comment on function internal.outbox_kick_drain() is
  'AFTER INSERT statement trigger on outbox: invokes outbox-drain through pg_net, debounced by internal.outbox_kick, unless the drain is paused; skips with a NOTICE when jobs.invoke cannot (missing Vault secrets). SECURITY DEFINER: the inserting role needs no access to jobs or Vault.';

create trigger outbox_kick_drain after insert on public.outbox
  referencing new table as new_rows
  for each statement execute function internal.outbox_kick_drain();

-- ---------------------------------------------------------------------------------------
select jobs.register('outbox-drain', 45000, 60);
select jobs.schedule('outbox-drain-every-minute', '* * * * *', 'outbox-drain',
                     '{"trigger": "cron"}'::jsonb);
