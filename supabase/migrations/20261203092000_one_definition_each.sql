-- One definition each, where the rules were written in several places:
--
-- * An envelope is *waiting* when its status is pending, retry or deferred, and *due* when
--   it is waiting and its next_run_at has come: internal.outbox_waiting / outbox_due, used
--   by the claim, the drain's and the status route's "remaining" checks and the partial
--   indexes. Both are inlinable SQL functions (no SET clause, which would prevent inlining,
--   hence schema-qualified operators), so the planner still matches the partial indexes.
-- * The guardrail defaults are the column defaults of public.guardrails, and every tenant
--   has its row from the moment it exists (a trigger on tenants): no defaults elsewhere.
-- * A DLQ reason is a code (non_retryable, max_attempts, a guardrail deny code, …), never
--   free text: a CHECK says so. The message is last_error.
-- * A quiet-hours time zone is valid when Postgres knows it and it is a real zone, not one
--   of the names the tz database ships besides zones (posix/*, posixrules, localtime,
--   Factory), which Intl — the only time zone database of the Edge Runtime — rejects.
--   supabase/functions/_shared/guardrails.ts applies the same rule; a test feeds every
--   pg_timezone_names entry to both.

-- ---------------------------------------------------------------------------------------
-- Waiting and due
create function internal.outbox_waiting(p_status text) returns boolean
language sql
immutable
parallel safe
as $$
  select p_status operator(pg_catalog.=) any ('{pending,retry,deferred}'::text[])
$$;
revoke execute on function internal.outbox_waiting(text) from public;
-- Postgres checks EXECUTE on a partial index's predicate functions as the writing role, and
-- the service (service_role) writes the outbox.
grant execute on function internal.outbox_waiting(text) to service_role;
comment on function internal.outbox_waiting(text) is
  'An envelope in this status waits for the drain: pending, retry or deferred. Inlinable (no SET clause), so partial indexes written with it match queries written with it.';

create function internal.outbox_due(p_status text, p_next_run_at timestamptz) returns boolean
language sql
stable
parallel safe
as $$
  select internal.outbox_waiting(p_status) and p_next_run_at operator(pg_catalog.<=) pg_catalog.now()
$$;
revoke execute on function internal.outbox_due(text, timestamptz) from public;
comment on function internal.outbox_due(text, timestamptz) is
  'An envelope is due: waiting (internal.outbox_waiting) and its next_run_at has come. The one definition the claim, the drain and the status route use.';

drop index public.outbox_due_idx;
create index outbox_due_idx on public.outbox (next_run_at) where internal.outbox_waiting(status);
drop index public.outbox_tenant_due_idx;
create index outbox_tenant_due_idx on public.outbox (tenant_id, next_run_at)
  where internal.outbox_waiting(status);

create or replace function public.outbox_claim(
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
         c.lease_token, c.lease_expires_at
    from claimed c
   order by c.next_run_at, c.id;
end
$$;

-- ---------------------------------------------------------------------------------------
-- Guardrails exist with their tenant
create function internal.guardrails_for_new_tenants() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.guardrails (tenant_id)
  select n.id from new_rows n
  on conflict (tenant_id) do nothing;
  return null;
end
$$;
revoke execute on function internal.guardrails_for_new_tenants() from public;
comment on function internal.guardrails_for_new_tenants() is
  'AFTER INSERT statement trigger on tenants: gives every new tenant its guardrails row with the column defaults, the one place the defaults are written. SECURITY DEFINER: the creating role need not write guardrails.';

create trigger guardrails_for_new_tenant after insert on public.tenants
  referencing new table as new_rows for each statement
  execute function internal.guardrails_for_new_tenants();

insert into public.guardrails (tenant_id)
select t.id from public.tenants t
 where not exists (select 1 from public.guardrails g where g.tenant_id = t.id);

-- ... and keep it while the tenant exists: removing the tenant removes it (the cascade runs
-- after the tenant row is gone), nothing else does.
create function internal.guardrails_keep_while_tenant() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if exists (select 1 from public.tenants t where t.id = old.tenant_id) then
    raise exception 'the guardrails row of tenant % stays while the tenant exists', old.tenant_id
      using errcode = 'PT405',
            hint = 'update it instead; deleting the tenant removes it';
  end if;
  return old;
end
$$;
revoke execute on function internal.guardrails_keep_while_tenant() from public;
comment on function internal.guardrails_keep_while_tenant() is
  'BEFORE DELETE trigger on guardrails: refuses (PT405) to delete the row of a tenant that still exists, so every tenant always has its rules.';
create trigger guardrails_keep_while_tenant before delete on public.guardrails
  for each row execute function internal.guardrails_keep_while_tenant();

comment on table public.guardrails is
  'One row per tenant, created with the tenant (its column defaults are the guardrail defaults): the rules outbox-drain applies before executing an envelope. Owners change it, members read it.';

-- ---------------------------------------------------------------------------------------
-- DLQ reasons are codes
alter table public.outbox_dlq add constraint outbox_dlq_reason_is_code
  check (reason ~ '^[a-z][a-z0-9_]*$');
comment on column public.outbox_dlq.reason is
  'Why it was dead-lettered, as a code: non_retryable, max_attempts, invalid_arguments or a guardrail deny code. The message is in last_error.';

-- ---------------------------------------------------------------------------------------
-- Time zones
create function internal.is_valid_time_zone(p_name text) returns boolean
language sql
stable
set search_path = ''
as $$
  select p_name !~ '^(posix/|posixrules$|localtime$|Factory$)'
     and exists (select 1 from pg_catalog.pg_timezone_names z where z.name = p_name)
$$;
revoke execute on function internal.is_valid_time_zone(text) from public;
-- Postgres checks EXECUTE on functions a CHECK constraint calls as the writing role.
grant execute on function internal.is_valid_time_zone(text) to authenticated, service_role;
comment on function internal.is_valid_time_zone(text) is
  'A time zone quiet hours may name: known to Postgres (pg_timezone_names) and a real zone, not posix/*, posixrules, localtime or Factory. guardrails.ts isValidTimeZone applies the same rule.';

-- A SQL-standard body (BEGIN ATOMIC) is resolved when it is created, so owners writing
-- guardrails (authenticated, no USAGE on schema internal) can run it from the CHECK
-- constraint; they need EXECUTE only.
create or replace function internal.is_valid_quiet_hours(q jsonb) returns boolean
language sql
immutable
set search_path = ''
begin atomic
  select case
    when q is null then null
    when jsonb_typeof(q) <> 'object'
         or jsonb_typeof(q -> 'timezone') is distinct from 'string'
         or jsonb_typeof(q -> 'windows') is distinct from 'array' then false
    when not internal.is_valid_time_zone(q ->> 'timezone') then false
    else not exists (
      select 1
        from jsonb_array_elements(q -> 'windows') as w (win)
       where case
               when jsonb_typeof(w.win) <> 'object' then true
               when coalesce(w.win ->> 'start', '') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                    or coalesce(w.win ->> 'end', '') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
                 then true
               when w.win ? 'days' and jsonb_typeof(w.win -> 'days') <> 'array' then true
               else exists (select 1
                              from jsonb_array_elements(coalesce(w.win -> 'days', '[]')) as d (day)
                             where jsonb_typeof(d.day) <> 'number' or d.day::text !~ '^[1-7]$')
             end)
  end;
end;
comment on function internal.is_valid_quiet_hours(jsonb) is
  'CHECK for guardrails.quiet_hours: an object with a "timezone" quiet hours may name (internal.is_valid_time_zone) and a "windows" array of {start, end: "HH:MM", days?: [1..7]}.';
