-- Reverts 20261204020000_connected_accounts_service_owned.sql: owners write connected accounts again,
-- the claim returns no ownership facts, no auth configs, no connected-accounts job.
select jobs.unschedule('connected-accounts-refresh');
delete from jobs.registry where slug = 'connected-accounts';

drop function public.outbox_claim(text, integer, integer, uuid);
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
  approved boolean,
  guardrails jsonb
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
         a.status, a.scopes, a.external_account_id,
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
      select x.status, x.scopes, x.external_account_id
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
$$;
revoke execute on function public.outbox_claim(text, integer, integer, uuid)
  from public, anon, authenticated;
grant execute on function public.outbox_claim(text, integer, integer, uuid) to service_role;
comment on function public.outbox_claim(text, integer, integer, uuid) is
  'Leases up to p_limit due envelopes (pending, retry, deferred with next_run_at <= now) for p_lease_ms to p_worker: SKIP LOCKED, at most concurrency_cap − running per tenant (the tenant row is locked while counting), round-robin across tenants. First reclaims expired leases: reads and unsent writes go back to retry, writes that may have been sent become unknown_outcome. Returns each envelope with its lease_token and what the drain''s plan needs: the current catalog row (version, content_hash, toolkit, required_scopes, deprecated), the account it would run with (status, scopes, external id), whether it was approved, and the tenant''s guardrails as JSON.';

drop function internal.connected_accounts_record_ownership(jsonb);
drop table internal.composio_auth_configs;

drop trigger connected_accounts_owner_update on public.connected_accounts;
drop function internal.connected_accounts_owner_update();
revoke update (status) on public.connected_accounts from authenticated;
grant insert, update on public.connected_accounts to anon, authenticated;
create policy connected_accounts_insert_owner on public.connected_accounts for insert
  to authenticated
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner');

drop index public.connected_accounts_initiated_idx;
alter table public.connected_accounts
  drop constraint connected_accounts_verified_whole,
  drop column verified_external_account_id,
  drop column verified_owned,
  drop column verified_at;
comment on table public.connected_accounts is 'A tenant''s linked accounts at a tool provider (Composio connected accounts). Owners change them, members read.';
comment on column public.connected_accounts.external_account_id is 'The provider''s connected account id, passed on execution.';
comment on column public.connected_accounts.status is 'initiated, active, inactive, expired, failed or revoked; only active accounts execute.';
comment on column public.connected_accounts.scopes is 'Scopes granted to the connection.';
comment on column public.connected_accounts.linked_at is 'When the connection became active.';
comment on column public.connected_accounts.metadata is 'Provider details (auth scheme, account label, …).';
comment on column public.outbox_dlq.reason is
  'Why it was dead-lettered, as a code: non_retryable, max_attempts, invalid_arguments or a guardrail deny code. The message is in last_error.';

delete from supabase_migrations.schema_migrations where version = '20261204020000';
