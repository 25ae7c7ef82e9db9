-- connected_accounts_service_owned: a tenant's owner wrote another tenant's Composio
-- connected-account id into connected_accounts and the drain executed the tenant's envelopes
-- with it. Now only the service writes what the provider owns (external id, status, scopes,
-- link time, metadata): rows come from the connection flow (the connected-accounts
-- function, which initiates with the project's per-toolkit auth config for the tenant's
-- Composio user), owners may only revoke or delete. And before an account's first
-- execution the drain asks Composio whose account the external id is, recording the answer
-- (verified_*) so each account is checked once: the claim returns it with the account.
-- A new claim return type needs DROP and CREATE (grants and comment re-applied).

alter table public.connected_accounts
  add column verified_external_account_id text,
  add column verified_owned boolean,
  add column verified_at timestamptz,
  add constraint connected_accounts_verified_whole check (
    num_nulls(verified_external_account_id, verified_owned, verified_at) in (0, 3));
create index connected_accounts_initiated_idx on public.connected_accounts (tenant_id, created_at)
  where status = 'initiated';
comment on table public.connected_accounts is 'A tenant''s linked accounts at a tool provider (Composio connected accounts). The service writes them (the connected-accounts function, the drain''s ownership check); owners revoke or delete them, members read.';
comment on column public.connected_accounts.external_account_id is 'The provider''s connected account id, passed on execution. Written by the service only: the id Composio answered when the service initiated the connection for the tenant''s Composio user.';
comment on column public.connected_accounts.status is 'initiated, active, inactive, expired, failed or revoked; only active accounts execute. The service sets what Composio reports; owners may only set revoked.';
comment on column public.connected_accounts.scopes is 'Scopes granted to the connection (as Composio reports them).';
comment on column public.connected_accounts.linked_at is 'When the connection became active (set by the service).';
comment on column public.connected_accounts.metadata is 'Provider details (auth scheme, auth config, account label, …), written by the service.';
comment on column public.connected_accounts.verified_external_account_id is 'The external id whose owner was last checked with Composio (GET connected_accounts/{id}); the check holds only while it equals external_account_id. Service only.';
comment on column public.connected_accounts.verified_owned is 'The check''s answer: Composio''s user_id for that id was the tenant''s Composio user (the tenant id). false: another user''s account, never executed. Service only.';
comment on column public.connected_accounts.verified_at is 'When the check was made. Service only.';

-- What an API caller may change, on top of the column grant below: a status, and only to
-- revoked. The service (service_role, postgres) sets what Composio reports.
create function internal.connected_accounts_owner_update() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user in ('anon', 'authenticated')
     and new.status is distinct from old.status and new.status <> 'revoked' then
    raise exception 'connected_accounts.status: an owner may only set revoked; % is set by the service from Composio', new.status
      using errcode = '42501';
  end if;
  return new;
end
$$;
revoke execute on function internal.connected_accounts_owner_update() from public;
comment on function internal.connected_accounts_owner_update() is
  'BEFORE UPDATE trigger on connected_accounts: an API caller (anon, authenticated) may change status only to revoked; every other value is the service''s, from Composio.';
create trigger connected_accounts_owner_update before update of status on public.connected_accounts
  for each row execute function internal.connected_accounts_owner_update();

drop policy connected_accounts_insert_owner on public.connected_accounts;
revoke insert, update on public.connected_accounts from anon, authenticated;
grant update (status) on public.connected_accounts to authenticated;

-- Which Composio auth config connects each toolkit: a project setting the operator makes
-- once per toolkit the project offers (in Composio's dashboard, then here). The connection
-- flow initiates with it; a toolkit without a row cannot be connected. Not secret (Composio
-- needs the project's API key to use it), but the service's: closed to the API roles.
create table internal.composio_auth_configs (
  toolkit text primary key check (toolkit ~ '^[a-z][a-z0-9_]{0,63}$'),
  auth_config_id text not null check (auth_config_id ~ '^[A-Za-z0-9_-]{1,128}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger touch_updated_at before update on internal.composio_auth_configs
  for each row execute function internal.touch_updated_at();
alter table internal.composio_auth_configs enable row level security;
comment on table internal.composio_auth_configs is
  'Per toolkit, the Composio auth config (ac_…) the connected-accounts function initiates connections with. Set by the operator: insert into internal.composio_auth_configs (toolkit, auth_config_id) values (''github'', ''ac_…'').';
comment on column internal.composio_auth_configs.toolkit is 'Toolkit slug, lower case (github, gmail, …).';
comment on column internal.composio_auth_configs.auth_config_id is 'Composio''s auth config id for the toolkit.';
comment on column internal.composio_auth_configs.created_at is 'When the row was created.';
comment on column internal.composio_auth_configs.updated_at is 'Last change, maintained by trigger.';
revoke all on internal.composio_auth_configs from public, anon, authenticated;

-- The drain's ownership check, recorded: for each account it asked Composio about, which
-- external id it checked and whether Composio's user_id for it was the tenant's. Recorded
-- once per account and external id, so the drain asks once, not per envelope. A check is
-- written only while the account still has that external id (the service may have changed
-- it meanwhile). An account found to be another user's also gets an audit row of its own
-- (connected_account_not_owned); the other user's id is never recorded, it is not the
-- tenant's to read.
create function internal.connected_accounts_record_ownership(p_checks jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  c record;
  n integer := 0;
  v_hit boolean;
begin
  if jsonb_typeof(p_checks) is distinct from 'array' then
    raise exception 'connected_accounts_record_ownership: p_checks must be a JSON array'
      using errcode = '22023';
  end if;
  -- Tenant order: audit_log's per-tenant chain heads are locked in the order rows arrive.
  for c in
    select x.account_id, x.external_account_id, x.owned, a.tenant_id, a.toolkit
      from jsonb_to_recordset(p_checks) as x (account_id uuid, external_account_id text,
                                               owned boolean)
      join public.connected_accounts a
        on a.id = x.account_id and a.external_account_id = x.external_account_id
     where x.owned is not null
     order by a.tenant_id, a.id
  loop
    update public.connected_accounts
       set verified_external_account_id = c.external_account_id,
           verified_owned = c.owned,
           verified_at = now()
     where id = c.account_id and external_account_id = c.external_account_id
       and (verified_external_account_id, verified_owned)
           is distinct from (c.external_account_id, c.owned)
    returning true into v_hit;
    if v_hit then
      n := n + 1;
      if not c.owned then
        insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
        values (c.tenant_id, 'job', 'outbox-drain', 'connected_account_not_owned',
                jsonb_build_object('account_id', c.account_id, 'toolkit', c.toolkit,
                                   'external_account_id', c.external_account_id));
      end if;
    end if;
    v_hit := false;
  end loop;
  return n;
end
$$;
revoke execute on function internal.connected_accounts_record_ownership(jsonb) from public;
comment on function internal.connected_accounts_record_ownership(jsonb) is
  'Records the drain''s ownership checks [{account_id, external_account_id, owned}]: sets verified_external_account_id, verified_owned, verified_at where the account still has that external id and the answer is new; an account found not owned (another Composio user''s) also gets a connected_account_not_owned audit row. Returns how many accounts changed.';

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
$$;
revoke execute on function public.outbox_claim(text, integer, integer, uuid)
  from public, anon, authenticated;
grant execute on function public.outbox_claim(text, integer, integer, uuid) to service_role;
comment on function public.outbox_claim(text, integer, integer, uuid) is
  'Leases up to p_limit due envelopes (pending, retry, deferred with next_run_at <= now) for p_lease_ms to p_worker: SKIP LOCKED, at most concurrency_cap − running per tenant (the tenant row is locked while counting), round-robin across tenants. First reclaims expired leases: reads and unsent writes go back to retry, writes that may have been sent become unknown_outcome. Returns each envelope with its lease_token and what the drain''s plan needs: the current catalog row (version, content_hash, toolkit, required_scopes, deprecated), the account it would run with (status, scopes, external id, row id, and whether Composio confirmed that external id is the tenant''s), whether it was approved, and the tenant''s guardrails as JSON.';

comment on column public.outbox_dlq.reason is
  'Why it was dead-lettered, as a code: non_retryable, max_attempts, invalid_arguments, version_unpinned, account_not_owned (the account is not the tenant''s at Composio) or a guardrail deny code. The message is in last_error.';

select jobs.register('connected-accounts', 30000, 300);
select jobs.schedule('connected-accounts-refresh', '*/5 * * * *', 'connected-accounts', '{}');
