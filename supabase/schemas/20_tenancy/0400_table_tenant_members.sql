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
create trigger audit_change after insert or update or delete on public.tenant_members
  for each row execute function internal.audit_row_change();

comment on table public.tenant_members is
  'Which users belong to which tenant and as what. Read by the access-token hook to put tenant_id and tenant_role into the JWT.';
comment on column public.tenant_members.tenant_id is 'The tenant.';
comment on column public.tenant_members.user_id is 'The user (auth.users); removing the user removes the membership.';
comment on column public.tenant_members.role is 'owner (changes tenant configuration, decides approvals) or member (reads).';
comment on column public.tenant_members.created_at is 'When the user joined; a user in several tenants defaults to the earliest.';
comment on column public.tenant_members.updated_at is 'Last change, maintained by trigger.';

revoke truncate, references, trigger on public.tenant_members from anon, authenticated;
alter table public.tenant_members enable row level security;
-- The access-token hook (custom_access_token_hook) reads memberships as supabase_auth_admin.
grant select on public.tenant_members to supabase_auth_admin;
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
