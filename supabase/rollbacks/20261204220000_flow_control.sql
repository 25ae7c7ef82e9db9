-- Reverts 20261204220000_flow_control.sql. A draft by `deno task db:diff flow_control` (the reverse diff):
-- review it. Drops without CASCADE, so an object a later migration made stops it.


set local check_function_bodies = off;

DROP INDEX "public"."outbox_tenant_due_idx";

ALTER TABLE "internal"."outbox_fair_share" DROP CONSTRAINT "outbox_fair_share_tenant_id_fkey";

ALTER TABLE "public"."outbox" DROP CONSTRAINT "outbox_priority_check";

ALTER TABLE "public"."outbox_dlq" DROP CONSTRAINT "outbox_dlq_priority_check";

DROP FUNCTION "internal"."composio_rate_observe"(integer, integer, integer, bigint, boolean);

DROP FUNCTION "internal"."outbox_rate_take"(jsonb);

DROP FUNCTION "public"."enqueue_envelope"(uuid, text, jsonb, text, text, jsonb, jsonb, integer);

ALTER TABLE "public"."outbox" DROP COLUMN "priority";

ALTER TABLE "public"."outbox_dlq" DROP COLUMN "priority";

DROP TABLE "internal"."composio_rate_limit";

DROP TABLE "internal"."outbox_fair_share";

CREATE OR REPLACE FUNCTION public.enqueue_envelope(p_tenant_id uuid, p_tool_slug text, p_arguments jsonb DEFAULT '{}'::jsonb, p_external_id text DEFAULT NULL::text, p_connected_account_id text DEFAULT NULL::text, p_trust_context jsonb DEFAULT '{}'::jsonb, p_metadata jsonb DEFAULT '{}'::jsonb)
 RETURNS public.outbox
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_tool public.tool_catalog;
  v_env public.outbox;
begin
  -- Idempotent: an envelope with this key is returned as it is, whatever changed since.
  if p_external_id is not null then
    select * into v_env from public.outbox
     where tenant_id = p_tenant_id and external_id = p_external_id;
    if found then
      return v_env;
    end if;
    if exists (select 1 from public.outbox_dlq
                where tenant_id = p_tenant_id and external_id = p_external_id) then
      raise exception 'envelope with external_id % was dead-lettered', p_external_id
        using errcode = 'PT409',
              hint = 'Requeue it from outbox_dlq instead of enqueueing it again.';
    end if;
  end if;

  select * into v_tool from public.tool_catalog
   where tenant_id = p_tenant_id and tool_slug = p_tool_slug and is_current;
  if not found then
    raise exception 'unknown tool % for tenant %', p_tool_slug, p_tenant_id
      using errcode = 'PT404',
            hint = 'The tool is not in the tenant''s catalog: check the slug or run catalog-sync.';
  end if;
  if v_tool.deprecated_at is not null then
    raise exception 'tool % is deprecated for tenant % since %',
                    p_tool_slug, p_tenant_id, v_tool.deprecated_at
      using errcode = 'PT410';
  end if;

  insert into public.outbox (tenant_id, tool_slug, toolkit, arguments, connected_account_id,
                             risk, read_only, external_id, trust_context, metadata)
  values (p_tenant_id, p_tool_slug, v_tool.toolkit, coalesce(p_arguments, '{}'),
          p_connected_account_id, v_tool.risk, v_tool.read_only, p_external_id,
          coalesce(p_trust_context, '{}'), coalesce(p_metadata, '{}'))
  on conflict (tenant_id, external_id) do nothing
  returning * into v_env;
  if not found then
    -- A concurrent call with the same key won the insert.
    select * into v_env from public.outbox
     where tenant_id = p_tenant_id and external_id = p_external_id;
  end if;
  return v_env;
end
$function$;

CREATE OR REPLACE FUNCTION public.outbox_claim(p_worker text, p_limit integer, p_lease_ms integer, p_tenant_id uuid DEFAULT NULL::uuid)
 RETURNS TABLE(id uuid, tenant_id uuid, tool_slug text, toolkit text, arguments jsonb, connected_account_id text, risk text, read_only boolean, trust_context jsonb, attempts integer, status_before text, lease_token uuid, lease_expires_at timestamp with time zone, version text, content_hash text, tool_toolkit text, required_scopes text[], deprecated boolean, account_status text, account_scopes text[], account_external_id text, account_id uuid, account_owned boolean, approved boolean, guardrails jsonb)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
                            and internal.outbox_due(o.status, o.next_run_at))
           order by (select min(o.next_run_at) from public.outbox o
                      where o.tenant_id = t.id and internal.outbox_waiting(o.status))
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
    -- Every tenant has its guardrails row (created with the tenant).
    select t.tid,
           g.concurrency_cap
             - (select count(*) from public.outbox o
                 where o.tenant_id = t.tid and o.status = 'running')::int as free
      from unnest(v_tenants) as t (tid)
      join public.guardrails g on g.tenant_id = t.tid
  ),
  candidates as (
    select c.tid, x.id, x.next_run_at,
           row_number() over (partition by c.tid order by x.next_run_at, x.id) as rn
      from cap c
      cross join lateral (
        select o.id, o.next_run_at from public.outbox o
         where o.tenant_id = c.tid
           and internal.outbox_due(o.status, o.next_run_at)
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
         c.lease_token, c.lease_expires_at,
         t.version, t.content_hash, t.toolkit, t.required_scopes, t.deprecated_at is not null,
         a.status, a.scopes, a.external_account_id, a.id,
         case when a.verified_external_account_id = a.external_account_id
              then a.verified_owned end,
         exists (select 1 from public.approvals p
                  where p.envelope_id = c.id and p.decision = 'approved'),
         jsonb_build_object('quiet_hours', g.quiet_hours, 'trust_threshold', g.trust_threshold,
                            'allowed_toolkits', g.allowed_toolkits,
                            'allowed_scopes', g.allowed_scopes,
                            'require_evidence', g.require_evidence,
                            'approval_risk_tiers', g.approval_risk_tiers,
                            'max_attempts', g.max_attempts)
    from claimed c
    left join public.guardrails g on g.tenant_id = c.tenant_id
    left join public.tool_catalog t
      on t.tenant_id = c.tenant_id and t.tool_slug = c.tool_slug and t.is_current
    -- The envelope's account when it names one, else the toolkit's (an active one first).
    left join lateral (
      select x.id, x.status, x.scopes, x.external_account_id, x.verified_external_account_id,
             x.verified_owned
        from public.connected_accounts x
       where x.tenant_id = c.tenant_id
         and (case when c.connected_account_id is not null
                   then x.external_account_id = c.connected_account_id
                        or x.id::text = c.connected_account_id
                   else lower(x.toolkit) = lower(c.toolkit) end)
       order by (x.status = 'active') desc, x.updated_at desc
       limit 1
    ) a on true
   order by c.next_run_at, c.id;
end
$function$;

CREATE OR REPLACE FUNCTION public.outbox_requeue_dlq(p_tenant_id uuid, p_limit integer, p_actor text, p_id uuid DEFAULT NULL::uuid)
 RETURNS SETOF uuid
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.outbox_settle(p_outcomes jsonb)
 RETURNS TABLE(id uuid, op text, applied boolean)
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_problem text;
  v_room_rows bigint := 0;
  v_room_bytes bigint := 0;
begin
  if jsonb_typeof(p_outcomes) is distinct from 'array' then
    raise exception 'outbox_settle: p_outcomes must be a JSON array' using errcode = '22023';
  end if;
  -- Refuse the whole batch before changing anything.
  select p.problem into v_problem
    from (select case
                   when jsonb_typeof(e) <> 'object'
                     then 'outbox_settle: every element must be a JSON object'
                   when e ->> 'op' is null
                        or e ->> 'op' not in ('complete', 'retry', 'park', 'dlq', 'release')
                     then 'outbox_settle: unknown op ' || coalesce(e ->> 'op', 'null')
                   when e ->> 'op' = 'park'
                        and coalesce(e ->> 'status', '') not in ('conflict', 'unknown_outcome',
                                                                 'deferred', 'needs_approval')
                     then 'outbox_park: status must be conflict, unknown_outcome, deferred or '
                          || 'needs_approval, got ' || coalesce(e ->> 'status', 'null')
                   when e ->> 'op' = 'park' and e ->> 'status' = 'deferred'
                        and e ->> 'until' is null
                     then 'outbox_park: deferred needs p_until'
                   when jsonb_typeof(e -> 'details') not in ('object', 'null')
                     then 'outbox_settle: details must be a JSON object'
                   when e ? 'artifact' and e ->> 'op' <> 'complete'
                     then 'outbox_settle: only complete carries an artifact'
                   when e ? 'artifact'
                        and (jsonb_typeof(e -> 'artifact') <> 'object'
                             or jsonb_typeof(e -> 'artifact' -> 'bucket') <> 'string'
                             or jsonb_typeof(e -> 'artifact' -> 'path') <> 'string'
                             or coalesce(e -> 'artifact' ->> 'status', '')
                                  not in ('uploaded', 'pending', 'dropped'))
                     then 'outbox_settle: artifact needs bucket, path and status uploaded, '
                          || 'pending or dropped'
                   when coalesce(e -> 'artifact' ->> 'status' = 'pending', false)
                        <> coalesce(jsonb_typeof(e -> 'artifact_base64') = 'string', false)
                     then 'outbox_settle: artifact_base64 comes with a pending artifact, and only then'
                 end as problem
            from jsonb_array_elements(p_outcomes) as x (e)) p
   where p.problem is not null
   limit 1;
  if v_problem is not null then
    raise exception '%', v_problem using errcode = '22023';
  end if;
  if exists (select from jsonb_array_elements(p_outcomes) as x (e)
              where e -> 'artifact' ->> 'status' = 'pending') then
    -- One settle at a time parks bytes, so the room seen here is the room there is.
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('internal.artifact_pending', 0));
    select l.max_rows - (select count(*) from internal.artifact_pending),
           l.max_bytes - (select coalesce(sum(p.size), 0) from internal.artifact_pending p)
      into v_room_rows, v_room_bytes
      from internal.artifact_pending_limit l;
  end if;

  return query
  with elems as (
    select x.e, x.ord from jsonb_array_elements(p_outcomes) with ordinality as x (e, ord)
  ),
  input as (
    -- The first element of each id; a repeat is reported as not applied.
    select distinct on ((m.e ->> 'id')::uuid)
           m.ord, (m.e ->> 'id')::uuid as id, (m.e ->> 'token')::uuid as token,
           m.e ->> 'op' as op, m.e -> 'result' as result,
           coalesce(nullif(m.e -> 'details', 'null'::jsonb), '{}'::jsonb) as details,
           (m.e ->> 'delay_ms')::bigint as delay_ms, m.e ->> 'reason' as reason,
           m.e ->> 'outcome' as outcome, m.e ->> 'status' as park_status,
           (m.e ->> 'until')::timestamptz as until, m.e ->> 'dlq_reason' as dlq_reason,
           coalesce((m.e ->> 'executed')::boolean, false) as executed,
           case when m.e ->> 'op' = 'complete' then m.e -> 'artifact' end as artifact,
           m.e ->> 'artifact_base64' as artifact_base64,
           -- conflict and unknown_outcome come after an execution: they consume an attempt.
           (m.e ->> 'op' = 'park' and m.e ->> 'status' in ('conflict', 'unknown_outcome'))
             as parked_executed
      from elems m
     order by (m.e ->> 'id')::uuid, m.ord
  ),
  parking as (
    -- The pending artifacts that fit in the pending store, in input order.
    select q.id, q.bytes
      from (select i.id, b.bytes,
                   sum(octet_length(b.bytes)) over (order by i.ord) as total,
                   row_number() over (order by i.ord) as n
              from input i
              cross join lateral (select pg_catalog.decode(i.artifact_base64, 'base64') as bytes) b
             where i.artifact ->> 'status' = 'pending') q
     where q.n <= v_room_rows and q.total <= v_room_bytes
  ),
  arts as (
    select i.id, i.artifact,
           case when i.artifact ->> 'status' = 'pending'
                     and not exists (select from parking k where k.id = i.id)
                then 'dropped' else i.artifact ->> 'status' end as status,
           case when i.artifact ->> 'status' = 'pending'
                     and not exists (select from parking k where k.id = i.id)
                then 'the pending artifact store is full' else i.artifact ->> 'reason' end
             as reason
      from input i
     where i.artifact is not null
  ),
  upd as (
    update public.outbox o
       set status = case i.op
                      when 'complete' then 'succeeded'
                      when 'retry' then 'retry'
                      when 'park' then i.park_status
                      else case when o.attempts > 0 then 'retry' else 'pending' end
                    end,
           attempts = o.attempts
                      + case when i.op in ('complete', 'retry') or i.parked_executed then 1
                             else 0 end,
           next_run_at = case
                           when i.op = 'retry'
                             then now() + make_interval(secs => greatest(i.delay_ms, 0) / 1000.0)
                           when i.op = 'park' and i.park_status = 'deferred' then i.until
                           else o.next_run_at
                         end,
           last_error = case i.op when 'complete' then null when 'release' then o.last_error
                                  else i.reason end,
           outcome = case i.op
                       when 'complete' then 'success'
                       when 'retry' then i.outcome
                       when 'park' then coalesce(i.outcome,
                                                 case when i.parked_executed then o.outcome end)
                       else null
                     end,
           result = case when i.op = 'complete' then i.result else o.result end,
           completed_at = case
                            when i.op = 'complete' or i.parked_executed then now()
                            when i.op = 'park' then null
                            else o.completed_at
                          end,
           lease_token = null, lease_expires_at = null
      from input i
      left join arts a on a.id = i.id
     where i.op <> 'dlq' and o.id = i.id and o.lease_token = i.token and o.status = 'running'
    returning o.id, o.tenant_id, o.tool_slug, o.status, o.attempts, o.outcome, o.last_error,
              o.result, i.ord, i.op, i.park_status,
              i.details || case i.op
                             when 'retry' then jsonb_build_object('delay_ms', i.delay_ms)
                             when 'park' then case when i.until is null then '{}'::jsonb
                                                   else jsonb_build_object('until', i.until) end
                             when 'release' then jsonb_build_object('why', i.reason)
                             when 'complete' then case when a.id is null then '{}'::jsonb
                               else jsonb_build_object('artifact', jsonb_strip_nulls(
                                 jsonb_build_object('bucket', a.artifact ->> 'bucket',
                                                    'path', a.artifact ->> 'path',
                                                    'size', a.artifact -> 'size',
                                                    'status', a.status,
                                                    'reason', a.reason))) end
                             else '{}'::jsonb
                           end as details
  ),
  del as (
    delete from public.outbox o
     using input i
     where i.op = 'dlq' and o.id = i.id and o.lease_token = i.token and o.status = 'running'
    returning o.*, i.ord, i.dlq_reason, i.details, i.reason as error,
              o.attempts + case when i.executed then 1 else 0 end as dead_attempts,
              coalesce(i.outcome, o.outcome) as dead_outcome
  ),
  dead as (
    insert into public.outbox_dlq (id, tenant_id, tool_slug, toolkit, arguments,
                                   connected_account_id, risk, read_only, external_id,
                                   trust_context, metadata, status, attempts, next_run_at,
                                   last_error, lease_token, lease_expires_at, claimed_by, result,
                                   outcome, created_at, updated_at, completed_at, moved_at, reason)
    select d.id, d.tenant_id, d.tool_slug, d.toolkit, d.arguments, d.connected_account_id,
           d.risk, d.read_only, d.external_id, d.trust_context, d.metadata,
           case when d.dead_attempts > 0 then 'retry' else 'pending' end, d.dead_attempts,
           d.next_run_at, d.error, null, null, d.claimed_by, d.result, d.dead_outcome,
           d.created_at, now(), null, now(), d.dlq_reason
      from del d
    returning 1
  ),
  settled as (
    select u.id, u.tenant_id, u.ord, u.op,
           case u.op when 'complete' then 'outbox_succeeded' when 'retry' then 'outbox_retry'
                     when 'park' then 'outbox_' || u.park_status else 'outbox_released' end
             as category,
           internal.outbox_audit_payload(u.status, u.attempts, u.tool_slug, u.outcome,
                                         u.last_error, u.details) as payload
      from upd u
    union all
    select d.id, d.tenant_id, d.ord, 'dlq', 'outbox_dead_lettered',
           internal.outbox_audit_payload(
             case when d.dead_attempts > 0 then 'retry' else 'pending' end, d.dead_attempts,
             d.tool_slug, d.dead_outcome, d.error,
             d.details || jsonb_build_object('dlq_reason', d.dlq_reason))
      from del d
  ),
  audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, envelope_id,
                                  payload)
    select s.tenant_id, 'job', 'outbox-drain', s.category, s.id, s.payload
      from settled s
     order by s.tenant_id, s.id
    returning 1
  ),
  evidenced as (
    -- An artifact's row holds its reference, not its bytes (nothing to extract text from).
    insert into public.evidence (tenant_id, envelope_id, tool_slug, content, content_text,
                                 artifact_bucket, artifact_path, artifact_size,
                                 artifact_sha256, artifact_status)
    select u.tenant_id, u.id, u.tool_slug, c.content,
           case when a.id is null then left(c.content::text, 8000) end,
           a.artifact ->> 'bucket', a.artifact ->> 'path', (a.artifact ->> 'size')::bigint,
           a.artifact ->> 'sha256', a.status
      from upd u
      left join arts a on a.id = u.id
      cross join lateral (
        select case when a.id is null
                    then coalesce(u.result -> 'data', u.result, 'null'::jsonb)
                    else jsonb_build_object('artifact', jsonb_strip_nulls(jsonb_build_object(
                           'bucket', a.artifact ->> 'bucket', 'path', a.artifact ->> 'path',
                           'size', a.artifact -> 'size', 'sha256', a.artifact ->> 'sha256',
                           'content_type', a.artifact ->> 'content_type')))
               end as content) c
     where u.op = 'complete'
    returning evidence.id, evidence.tenant_id, evidence.envelope_id
  ),
  parked as (
    insert into internal.artifact_pending (evidence_id, tenant_id, envelope_id, bucket_id, name,
                                           content_type, content)
    select ev.id, ev.tenant_id, ev.envelope_id, a.artifact ->> 'bucket', a.artifact ->> 'path',
           coalesce(a.artifact ->> 'content_type', 'application/octet-stream'), k.bytes
      from evidenced ev
      join arts a on a.id = ev.envelope_id
      join parking k on k.id = a.id
    returning 1
  )
  select (m.e ->> 'id')::uuid, m.e ->> 'op', s.id is not null
    from elems m
    left join settled s on s.ord = m.ord
   order by m.ord;
end
$function$;

COMMENT ON FUNCTION "public"."enqueue_envelope"(uuid, text, jsonb, text, text, jsonb, jsonb) IS 'Adds a pending envelope for the tenant''s current catalog version of the tool (toolkit, risk and read_only copied from it). Idempotent per (tenant, external_id). Raises PT404 for an unknown tool, PT410 for a deprecated one, PT409 when the external_id was dead-lettered. Executable by service_role (and postgres).';

COMMENT ON FUNCTION "public"."outbox_claim"(text, integer, integer, uuid) IS 'Leases up to p_limit due envelopes (pending, retry, deferred with next_run_at <= now) for p_lease_ms to p_worker: SKIP LOCKED, at most concurrency_cap − running per tenant (the tenant row is locked while counting), round-robin across tenants. First reclaims expired leases: reads and unsent writes go back to retry, writes that may have been sent become unknown_outcome. Returns each envelope with its lease_token and what the drain''s plan needs: the current catalog row (version, content_hash, toolkit, required_scopes, deprecated), the account it would run with (status, scopes, external id, row id, and whether Composio confirmed that external id is the tenant''s), whether it was approved, and the tenant''s guardrails as JSON.';

REVOKE ALL ON FUNCTION "public"."enqueue_envelope"(uuid, text, jsonb, text, text, jsonb, jsonb) FROM PUBLIC, "anon", "authenticated";

GRANT EXECUTE ON FUNCTION "public"."enqueue_envelope"(uuid, text, jsonb, text, text, jsonb, jsonb) TO "postgres", "service_role";

CREATE INDEX outbox_tenant_due_idx ON public.outbox USING btree (tenant_id, next_run_at) WHERE internal.outbox_waiting(status);

delete from supabase_migrations.schema_migrations where version = '20261204220000';
