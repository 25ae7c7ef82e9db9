-- outbox-drain, the SQL half of guarded execution. Every effect is guarded by the
-- envelope's lease token, so that a late worker cannot overwrite an envelope another drain
-- reclaimed, and writes exactly one audit_log row in the same transaction. These functions
-- run as the job (postgres) or service_role; EXECUTE is revoked from the API roles. They are
-- SECURITY INVOKER: their callers bypass RLS.
--
-- Reclaiming: the claim first takes back envelopes whose lease expired. A read goes back to
-- `retry` (running it again is harmless). A write goes back to `retry` only when the drain
-- never reached the HTTP call (outcome is not 'sending'); a write that may have been sent
-- becomes `unknown_outcome` for an operator: the outbox never runs a write twice.
-- The claim does not touch attempts (see outbox_settle).
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
  lease_expires_at timestamptz,
  -- What the drain's plan needs, read in the same statement: the tool's current catalog row,
  -- the account it would run with, whether a person approved it, the tenant's guardrails.
  version text,
  content_hash text,
  tool_toolkit text,
  required_scopes text[],
  deprecated boolean,
  account_status text,
  account_scopes text[],
  account_external_id text,
  -- The account row, and whether Composio said its current external id is the tenant's
  -- (null: not checked for this id yet; the drain checks before the first execution).
  account_id uuid,
  account_owned boolean,
  approved boolean,
  guardrails jsonb
)
language plpgsql
set search_path = ''
as $$
declare
  v_tenants uuid[];
  v_env public.outbox;
  v_floor double precision;
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

  -- 2. Lock the candidate tenants (their tenants row is the cap's lock row): those with due
  -- work and room under their cap, the furthest behind in their weighted share first
  -- (outbox_fair_share). A tenant another drain is claiming for is skipped, never waited for.
  select array_agg(s.id) into v_tenants
    from (select t.id
            from public.tenants t
            join public.guardrails g on g.tenant_id = t.id
            left join internal.outbox_fair_share f on f.tenant_id = t.id
           where (p_tenant_id is null or t.id = p_tenant_id)
             and exists (select 1 from public.outbox o
                          where o.tenant_id = t.id
                            and internal.outbox_due(o.status, o.next_run_at))
             and (select count(*) from public.outbox o
                   where o.tenant_id = t.id and o.status = 'running') < g.concurrency_cap
           order by coalesce(f.pass, 0), t.id
           limit p_limit
           for no key update of t skip locked) s;
  if v_tenants is null then
    return;
  end if;
  -- Where the shares stand: the lowest pass of the tenants served in the last minute that
  -- still have due work. A tenant behind it (new, or back from a pause) starts there.
  select coalesce(min(f.pass), 0) into v_floor
    from internal.outbox_fair_share f
   where f.claimed_at > now() - interval '1 minute'
     and exists (select 1 from public.outbox o
                  where o.tenant_id = f.tenant_id
                    and internal.outbox_due(o.status, o.next_run_at));

  -- 3. A new statement, so a new snapshot: it sees the leases committed by any drain that
  -- held these tenant locks before us. Take at most cap − running per tenant, each tenant's
  -- highest priority first, then the earliest due; across tenants by weighted share: the
  -- k-th envelope of a tenant comes at pass + k / weight, and the lowest of those win,
  -- p_limit in all. Each served tenant's pass moves on by what it got / its weight.
  return query
  with cap as (
    -- Every tenant has its guardrails row (created with the tenant) and a plan.
    select t.tid,
           g.concurrency_cap
             - (select count(*) from public.outbox o
                 where o.tenant_id = t.tid and o.status = 'running')::int as free,
           p.fairness_weight::double precision as weight,
           greatest(coalesce(f.pass, 0), v_floor) as pass
      from unnest(v_tenants) as t (tid)
      join public.guardrails g on g.tenant_id = t.tid
      join public.tenants tn on tn.id = t.tid
      join public.plans p on p.slug = tn.plan
      left join internal.outbox_fair_share f on f.tenant_id = t.tid
  ),
  candidates as (
    select c.tid, c.pass, c.weight, x.id,
           c.pass + (row_number() over (partition by c.tid
                                        order by x.priority desc, x.next_run_at, x.id))
                    / c.weight as due_pass
      from cap c
      cross join lateral (
        select o.id, o.next_run_at, o.priority from public.outbox o
         where o.tenant_id = c.tid
           and internal.outbox_due(o.status, o.next_run_at)
         -- The (tenant_id, priority desc, next_run_at) index gives this order without a sort.
         order by o.priority desc, o.next_run_at
         limit least(greatest(c.free, 0), p_limit)
         for update skip locked
      ) x
     where c.free > 0
  ),
  picked as (
    select c.id, c.tid, c.pass, c.weight from candidates c
     order by c.due_pass, c.tid, c.id limit p_limit
  ),
  shares as (
    insert into internal.outbox_fair_share as f (tenant_id, pass, claimed_at)
    select p.tid, p.pass + count(*) / p.weight, now()
      from picked p
     group by p.tid, p.pass, p.weight
    on conflict on constraint outbox_fair_share_pkey
      do update set pass = excluded.pass, claimed_at = excluded.claimed_at
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
              o.lease_expires_at, o.next_run_at, o.priority
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
   order by c.priority desc, c.next_run_at, c.id;
end
$$;
revoke execute on function public.outbox_claim(text, integer, integer, uuid)
  from public, anon, authenticated;
grant execute on function public.outbox_claim(text, integer, integer, uuid) to service_role;
comment on function public.outbox_claim(text, integer, integer, uuid) is
  'Leases up to p_limit due envelopes (pending, retry, deferred with next_run_at <= now) for p_lease_ms to p_worker: SKIP LOCKED, at most concurrency_cap − running per tenant (the tenant row is locked while counting), each tenant''s highest priority then earliest due first, shared across tenants in proportion to their plans'' fairness_weight (internal.outbox_fair_share). First reclaims expired leases: reads and unsent writes go back to retry, writes that may have been sent become unknown_outcome. Returns each envelope with its lease_token and what the drain''s plan needs: the current catalog row (version, content_hash, toolkit, required_scopes, deprecated), the account it would run with (status, scopes, external id, row id, and whether Composio confirmed that external id is the tenant''s), whether it was approved, and the tenant''s guardrails as JSON.';
