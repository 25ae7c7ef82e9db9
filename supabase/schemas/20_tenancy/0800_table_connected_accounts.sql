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
create trigger audit_change after insert or update or delete on public.connected_accounts
  for each row execute function internal.audit_row_change();

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

revoke truncate, references, trigger on public.connected_accounts from anon, authenticated;
alter table public.connected_accounts enable row level security;
-- Tenant configuration: owners write, members read.
create policy connected_accounts_select_member on public.connected_accounts for select
  to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
create policy connected_accounts_insert_owner on public.connected_accounts for insert
  to authenticated
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner');
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
