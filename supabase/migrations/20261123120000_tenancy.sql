-- Tenancy: tenants, their members and the access-token hook that puts the tenant into the
-- JWT, per-tenant guardrails, objectives and connected accounts. Also creates the schema
-- `internal` (machinery the Data API must not expose) and the shared updated_at trigger.
--
-- Conventions used by every migration of this project:
-- * Tenancy in policies: tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid, owners
--   by ((select auth.jwt()) ->> 'tenant_role') = 'owner'. `(select …)` makes Postgres
--   evaluate the claim once per statement instead of once per row.
-- * Policies are per operation and `to authenticated`; anon gets none (sees nothing);
--   service_role and postgres bypass RLS (jobs connect as postgres).
-- * TRUNCATE, REFERENCES and TRIGGER are revoked from the API roles: TRUNCATE ignores RLS.
-- * Every function has a fixed search_path and names objects with their schema.

-- ---------------------------------------------------------------------------------------
-- Schema internal: not exposed by the Data API (which serves `public` only) and closed to
-- the API roles, so nothing here is reachable by anon or authenticated.
create schema internal;
revoke all on schema internal from public, anon, authenticated;
comment on schema internal is
  'Machinery that is not part of the Data API: trigger functions, validators, queues and leases. Closed to anon and authenticated.';

create function internal.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
-- Trigger functions need no EXECUTE grant to fire.
revoke execute on function internal.touch_updated_at() from public;
comment on function internal.touch_updated_at() is
  'BEFORE UPDATE trigger shared by every table with an updated_at column: sets it to now().';

-- The guardrail validators run inside CHECK constraints, and Postgres checks EXECUTE on
-- functions in a constraint as the writing role: owners (authenticated) write guardrails,
-- so they may execute these pure functions (without USAGE on internal they cannot call
-- them by name). They are immutable-ish: the time zone database changes only with a
-- Postgres upgrade.
create function internal.is_valid_quiet_hours(q jsonb) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  w jsonb;
  d jsonb;
  hhmm constant text := '^([01][0-9]|2[0-3]):[0-5][0-9]$';
begin
  if q is null then
    return null;
  end if;
  if jsonb_typeof(q) <> 'object'
     or jsonb_typeof(q -> 'timezone') is distinct from 'string'
     or jsonb_typeof(q -> 'windows') is distinct from 'array'
     or not exists (select 1 from pg_catalog.pg_timezone_names where name = q ->> 'timezone')
  then
    return false;
  end if;
  for w in select * from jsonb_array_elements(q -> 'windows') loop
    if jsonb_typeof(w) <> 'object'
       or coalesce(w ->> 'start', '') !~ hhmm
       or coalesce(w ->> 'end', '') !~ hhmm
       or (w ? 'days' and jsonb_typeof(w -> 'days') <> 'array')
    then
      return false;
    end if;
    for d in select * from jsonb_array_elements(coalesce(w -> 'days', '[]')) loop
      if jsonb_typeof(d) <> 'number' or d::text !~ '^[1-7]$' then
        return false;
      end if;
    end loop;
  end loop;
  return true;
end
$$;
revoke execute on function internal.is_valid_quiet_hours(jsonb) from public;
grant execute on function internal.is_valid_quiet_hours(jsonb) to authenticated, service_role;
comment on function internal.is_valid_quiet_hours(jsonb) is
  'CHECK for guardrails.quiet_hours: an object with an IANA "timezone" (a name in pg_timezone_names) and a "windows" array of {start, end: "HH:MM", days?: [1..7]}.';

create function internal.is_valid_max_attempts(m jsonb) returns boolean
language sql
immutable
set search_path = ''
as $$
  select jsonb_typeof(m) = 'object'
     and (select array_agg(k order by k) from jsonb_object_keys(m) k) = array['high', 'low', 'medium']
     and (select bool_and(jsonb_typeof(v) = 'number' and v::text ~ '^[1-9][0-9]{0,5}$')
            from jsonb_each(m) as e(k, v))
$$;
revoke execute on function internal.is_valid_max_attempts(jsonb) from public;
grant execute on function internal.is_valid_max_attempts(jsonb) to authenticated, service_role;
comment on function internal.is_valid_max_attempts(jsonb) is
  'CHECK for guardrails.max_attempts: exactly the keys low, medium and high, each a positive integer.';

-- ---------------------------------------------------------------------------------------
create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (btrim(name) <> ''),
  plan text not null default 'free' check (plan ~ '^[a-z][a-z0-9_]*$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index tenants_plan_idx on public.tenants (plan);
create trigger touch_updated_at before update on public.tenants
  for each row execute function internal.touch_updated_at();

comment on table public.tenants is
  'A customer of the control plane. Every other table belongs to one tenant; created by the service, read by its members.';
comment on column public.tenants.id is 'Tenant id; the tenant_id JWT claim names it.';
comment on column public.tenants.name is 'Display name.';
comment on column public.tenants.plan is 'Billing plan slug (free, pro, …); indexed for plan-wide jobs.';
comment on column public.tenants.created_at is 'When the tenant was created.';
comment on column public.tenants.updated_at is 'Last change, maintained by trigger.';

-- ---------------------------------------------------------------------------------------
create table public.tenant_members (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'member')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);
-- The access-token hook looks memberships up by user.
create index tenant_members_user_idx on public.tenant_members (user_id, created_at);
create trigger touch_updated_at before update on public.tenant_members
  for each row execute function internal.touch_updated_at();

comment on table public.tenant_members is
  'Which users belong to which tenant and as what. Read by the access-token hook to put tenant_id and tenant_role into the JWT.';
comment on column public.tenant_members.tenant_id is 'The tenant.';
comment on column public.tenant_members.user_id is 'The user (auth.users); removing the user removes the membership.';
comment on column public.tenant_members.role is 'owner (changes tenant configuration, decides approvals) or member (reads).';
comment on column public.tenant_members.created_at is 'When the user joined; a user in several tenants defaults to the earliest.';
comment on column public.tenant_members.updated_at is 'Last change, maintained by trigger.';

-- ---------------------------------------------------------------------------------------
-- Custom Access Token Hook (Supabase Auth calls it as supabase_auth_admin before issuing
-- a token). Adds tenant_id and tenant_role; a user in several tenants gets the one named
-- by app_metadata.tenant_id when a member of it, else the earliest membership. A user
-- without a tenant gets neither claim, so every tenant policy denies them.
create function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  claims jsonb := coalesce(event -> 'claims', '{}') - 'tenant_id' - 'tenant_role';
  v_user uuid := (event ->> 'user_id')::uuid;
  v_wanted uuid;
  m record;
begin
  select case when u.raw_app_meta_data ->> 'tenant_id'
                   ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              then (u.raw_app_meta_data ->> 'tenant_id')::uuid end
    into v_wanted
    from auth.users u
   where u.id = v_user;

  select tm.tenant_id, tm.role into m
    from public.tenant_members tm
   where tm.user_id = v_user
   order by tm.tenant_id = v_wanted desc nulls last, tm.created_at, tm.tenant_id
   limit 1;

  if found then
    claims := claims || jsonb_build_object('tenant_id', m.tenant_id, 'tenant_role', m.role);
  end if;
  return jsonb_build_object('claims', claims);
end
$$;
revoke execute on function public.custom_access_token_hook(jsonb) from public, anon, authenticated, service_role;
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
grant select on public.tenant_members to supabase_auth_admin;
comment on function public.custom_access_token_hook(jsonb) is
  'Supabase Custom Access Token Hook: returns {claims} with tenant_id and tenant_role from tenant_members (app_metadata.tenant_id picks among several tenants, else the earliest membership). Executable by supabase_auth_admin only.';

-- ---------------------------------------------------------------------------------------
create table public.guardrails (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null unique references public.tenants (id) on delete cascade,
  quiet_hours jsonb not null default '{"timezone": "UTC", "windows": []}'
    check (internal.is_valid_quiet_hours(quiet_hours)),
  trust_threshold numeric not null default 0.7 check (trust_threshold between 0 and 1),
  allowed_toolkits text[],
  allowed_scopes text[],
  require_evidence boolean not null default false,
  max_attempts jsonb not null default '{"low": 5, "medium": 3, "high": 1}'
    check (internal.is_valid_max_attempts(max_attempts)),
  approval_risk_tiers text[] not null default '{high}'
    check (approval_risk_tiers <@ array['low', 'medium', 'high']),
  concurrency_cap int not null default 1 check (concurrency_cap >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger touch_updated_at before update on public.guardrails
  for each row execute function internal.touch_updated_at();

comment on table public.guardrails is
  'One row per tenant: the rules outbox-drain applies before executing an envelope. Owners change it, members read it.';
comment on column public.guardrails.id is 'Row id.';
comment on column public.guardrails.tenant_id is 'The tenant (one guardrails row each).';
comment on column public.guardrails.quiet_hours is
  'No execution inside these windows: {"timezone": IANA name, "windows": [{"start": "22:00", "end": "07:00", "days": [1..7]}]}; times are in the timezone, days (optional) are ISO weekdays of the window start, end < start crosses midnight.';
comment on column public.guardrails.trust_threshold is 'Minimum trust score (outbox.trust_context->>score) to execute without approval, in [0, 1].';
comment on column public.guardrails.allowed_toolkits is 'Toolkits envelopes may use; NULL allows every toolkit.';
comment on column public.guardrails.allowed_scopes is 'Scopes tools may require; NULL means no tenant-level restriction.';
comment on column public.guardrails.require_evidence is 'When true, an envelope needs evidence ids in trust_context->evidence to execute.';
comment on column public.guardrails.max_attempts is 'Maximum execution attempts per risk tier: {"low": n, "medium": n, "high": n}, positive integers.';
comment on column public.guardrails.approval_risk_tiers is 'Risk tiers that always need a human approval, whatever the trust score.';
comment on column public.guardrails.concurrency_cap is 'Maximum envelopes of this tenant running at once (at least 1).';
comment on column public.guardrails.created_at is 'When the row was created.';
comment on column public.guardrails.updated_at is 'Last change, maintained by trigger.';

-- ---------------------------------------------------------------------------------------
create table public.objectives (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  title text not null check (btrim(title) <> ''),
  metric text not null,
  target text,
  horizon text,
  summary text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index objectives_tenant_metric_idx on public.objectives (tenant_id, metric);
create trigger touch_updated_at before update on public.objectives
  for each row execute function internal.touch_updated_at();

comment on table public.objectives is 'Value objectives a tenant pursues; tasks work towards them. Owners change them, members read.';
comment on column public.objectives.id is 'Objective id.';
comment on column public.objectives.tenant_id is 'The tenant.';
comment on column public.objectives.title is 'Short title.';
comment on column public.objectives.metric is 'What is measured (e.g. first_response_minutes).';
comment on column public.objectives.target is 'Target value of the metric, as stated by the tenant.';
comment on column public.objectives.horizon is 'By when (e.g. 2026-Q1, 30 days).';
comment on column public.objectives.summary is 'Free-text description.';
comment on column public.objectives.created_at is 'When the objective was created.';
comment on column public.objectives.updated_at is 'Last change, maintained by trigger.';

-- ---------------------------------------------------------------------------------------
create table public.connected_accounts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  provider text not null default 'composio',
  toolkit text not null,
  external_account_id text,
  status text not null default 'initiated'
    check (status in ('initiated', 'active', 'inactive', 'expired', 'failed', 'revoked')),
  scopes text[] not null default '{}',
  linked_at timestamptz,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index connected_accounts_tenant_toolkit_idx on public.connected_accounts (tenant_id, toolkit);
create trigger touch_updated_at before update on public.connected_accounts
  for each row execute function internal.touch_updated_at();

comment on table public.connected_accounts is 'A tenant''s linked accounts at a tool provider (Composio connected accounts). Owners change them, members read.';
comment on column public.connected_accounts.id is 'Row id.';
comment on column public.connected_accounts.tenant_id is 'The tenant.';
comment on column public.connected_accounts.provider is 'Who brokers the connection (composio).';
comment on column public.connected_accounts.toolkit is 'Toolkit slug (github, gmail, slack, …).';
comment on column public.connected_accounts.external_account_id is 'The provider''s connected account id, passed on execution.';
comment on column public.connected_accounts.status is 'initiated, active, inactive, expired, failed or revoked; only active accounts execute.';
comment on column public.connected_accounts.scopes is 'Scopes granted to the connection.';
comment on column public.connected_accounts.linked_at is 'When the connection became active.';
comment on column public.connected_accounts.metadata is 'Provider details (auth scheme, account label, …).';
comment on column public.connected_accounts.created_at is 'When the row was created.';
comment on column public.connected_accounts.updated_at is 'Last change, maintained by trigger.';

-- ---------------------------------------------------------------------------------------
-- API role grants and RLS.
revoke truncate, references, trigger on public.tenants, public.tenant_members,
  public.guardrails, public.objectives, public.connected_accounts from anon, authenticated;

alter table public.tenants enable row level security;
alter table public.tenant_members enable row level security;
alter table public.guardrails enable row level security;
alter table public.objectives enable row level security;
alter table public.connected_accounts enable row level security;

-- tenants: members read their tenant; the service creates and changes tenants (the plan
-- is billing, not configuration).
create policy tenants_select_member on public.tenants for select to authenticated
  using (id = ((select auth.jwt()) ->> 'tenant_id')::uuid);

-- tenant_members: members see their tenant's members and their own memberships elsewhere
-- (a tenant switcher); owners manage membership.
create policy tenant_members_select_member on public.tenant_members for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
         or user_id = (select auth.uid()));
create policy tenant_members_insert_owner on public.tenant_members for insert to authenticated
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'tenant_role') = 'owner');
create policy tenant_members_update_owner on public.tenant_members for update to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
         and ((select auth.jwt()) ->> 'tenant_role') = 'owner')
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'tenant_role') = 'owner');
create policy tenant_members_delete_owner on public.tenant_members for delete to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
         and ((select auth.jwt()) ->> 'tenant_role') = 'owner');
-- The access-token hook runs as supabase_auth_admin, which does not bypass RLS.
create policy tenant_members_select_auth_admin on public.tenant_members for select
  to supabase_auth_admin using (true);

-- guardrails: one row per tenant, created with the tenant by the service; owners change it.
create policy guardrails_select_member on public.guardrails for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy guardrails_update_owner on public.guardrails for update to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
         and ((select auth.jwt()) ->> 'tenant_role') = 'owner')
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'tenant_role') = 'owner');

-- objectives and connected_accounts: tenant configuration, owners write, members read.
create policy objectives_select_member on public.objectives for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy objectives_insert_owner on public.objectives for insert to authenticated
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'tenant_role') = 'owner');
create policy objectives_update_owner on public.objectives for update to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
         and ((select auth.jwt()) ->> 'tenant_role') = 'owner')
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'tenant_role') = 'owner');
create policy objectives_delete_owner on public.objectives for delete to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
         and ((select auth.jwt()) ->> 'tenant_role') = 'owner');

create policy connected_accounts_select_member on public.connected_accounts for select
  to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy connected_accounts_insert_owner on public.connected_accounts for insert
  to authenticated
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'tenant_role') = 'owner');
create policy connected_accounts_update_owner on public.connected_accounts for update
  to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
         and ((select auth.jwt()) ->> 'tenant_role') = 'owner')
  with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
              and ((select auth.jwt()) ->> 'tenant_role') = 'owner');
create policy connected_accounts_delete_owner on public.connected_accounts for delete
  to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid
         and ((select auth.jwt()) ->> 'tenant_role') = 'owner');
