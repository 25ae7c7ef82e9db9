-- A tenant's Composio connected accounts. The service writes every fact the provider owns:
-- the connection flow (supabase/functions/connected-accounts) creates the row with the id
-- Composio answered for the tenant's Composio user, and marks it active when Composio says
-- so; the drain records which external id it checked belongs to the tenant. An owner
-- naming an account id would otherwise run their envelopes with another tenant's account.
-- Owners may revoke (status → revoked) or delete an account; members read.
create table public.connected_accounts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  provider text not null default 'composio',
  -- The pattern of _shared/toolkit_slug.ts: a stored slug can always be sent to a job.
  toolkit text not null check (toolkit ~ '^[a-z][a-z0-9_]{0,63}$'),
  external_account_id text,
  status text not null default 'initiated'
    check (status in ('initiated', 'active', 'inactive', 'expired', 'failed', 'revoked')),
  scopes text[] not null default '{}',
  linked_at timestamptz,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  verified_external_account_id text,
  verified_owned boolean,
  verified_at timestamptz,
  -- A check is an (id, answer, time) triple, or not made.
  constraint connected_accounts_verified_whole check (
    num_nulls(verified_external_account_id, verified_owned, verified_at) in (0, 3))
);
create index connected_accounts_tenant_toolkit_idx on public.connected_accounts (tenant_id, toolkit);
-- The connection flow's refresh: a tenant's (and the schedule's) initiated accounts.
create index connected_accounts_initiated_idx on public.connected_accounts (tenant_id, created_at)
  where status = 'initiated';
create trigger touch_updated_at before update on public.connected_accounts
  for each row execute function internal.touch_updated_at();
create trigger audit_change after insert or update or delete on public.connected_accounts
  for each row execute function internal.audit_row_change();

comment on table public.connected_accounts is 'A tenant''s linked accounts at a tool provider (Composio connected accounts). The service writes them (the connected-accounts function, the drain''s ownership check); owners revoke or delete them, members read.';
comment on column public.connected_accounts.id is 'Row id.';
comment on column public.connected_accounts.tenant_id is 'The tenant.';
comment on column public.connected_accounts.provider is 'Who brokers the connection (composio).';
comment on column public.connected_accounts.toolkit is 'Toolkit slug (github, gmail, slack, …).';
comment on column public.connected_accounts.external_account_id is 'The provider''s connected account id, passed on execution. Written by the service only: the id Composio answered when the service initiated the connection for the tenant''s Composio user.';
comment on column public.connected_accounts.status is 'initiated, active, inactive, expired, failed or revoked; only active accounts execute. The service sets what Composio reports; owners may only set revoked.';
comment on column public.connected_accounts.scopes is 'Scopes granted to the connection (as Composio reports them).';
comment on column public.connected_accounts.linked_at is 'When the connection became active (set by the service).';
comment on column public.connected_accounts.metadata is 'Provider details (auth scheme, auth config, account label, …), written by the service.';
comment on column public.connected_accounts.created_at is 'When the row was created.';
comment on column public.connected_accounts.updated_at is 'Last change, maintained by trigger.';
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

revoke truncate, references, trigger on public.connected_accounts from anon, authenticated;
-- Rows come from the connection flow; owners may only revoke (status) or delete.
revoke insert, update on public.connected_accounts from anon, authenticated;
grant update (status) on public.connected_accounts to authenticated;
alter table public.connected_accounts enable row level security;
create policy connected_accounts_select_member on public.connected_accounts for select
  to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
create policy connected_accounts_update_owner on public.connected_accounts for update
  to authenticated
  using (tenant_id = (select internal.active_tenant_id())
         and (select internal.active_tenant_role()) = 'owner')
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner');
create policy connected_accounts_delete_owner on public.connected_accounts for delete
  to authenticated
  using (tenant_id = (select internal.active_tenant_id())
         and (select internal.active_tenant_role()) = 'owner');
