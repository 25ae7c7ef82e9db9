-- Memberships. A row is an accepted membership: it is made when a user accepts an
-- invitation (public.accept_invitation) or by the service, never by an owner directly, so an
-- owner cannot put another user into their tenant (and into that user's next token). Its
-- timestamps are the server's; owners may change a member's role and remove members.
create table public.tenant_members (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'member')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  accepted_at timestamptz not null default now(),
  invited_by uuid references auth.users (id) on delete set null,
  primary key (tenant_id, user_id)
);
-- The access-token hook looks memberships up by user, earliest accepted first.
create index tenant_members_user_idx on public.tenant_members (user_id, accepted_at);
create index tenant_members_invited_by_idx on public.tenant_members (invited_by)
  where invited_by is not null;
create trigger touch_updated_at before update on public.tenant_members
  for each row execute function internal.touch_updated_at();
create trigger audit_change after insert or update or delete on public.tenant_members
  for each row execute function internal.audit_row_change();

comment on table public.tenant_members is
  'Accepted memberships: which users belong to which tenant and as what. Made by accepting an invitation (or by the service); read by the access-token hook and, at query time, by internal.active_tenant_id / active_tenant_role.';
comment on column public.tenant_members.tenant_id is 'The tenant.';
comment on column public.tenant_members.user_id is 'The user (auth.users); removing the user removes the membership.';
comment on column public.tenant_members.role is 'owner (changes tenant configuration, decides approvals, invites) or member (reads).';
comment on column public.tenant_members.created_at is 'When the row was made (server time).';
comment on column public.tenant_members.updated_at is 'Last change, maintained by trigger.';
comment on column public.tenant_members.accepted_at is 'When the user accepted (server time); a user in several tenants defaults to the earliest accepted.';
comment on column public.tenant_members.invited_by is 'The owner whose invitation the user accepted (NULL when the service added them).';

revoke truncate, references, trigger on public.tenant_members from anon, authenticated;
-- Owners change a member's role, nothing else: not the tenant, the user or a timestamp.
revoke insert, update on public.tenant_members from anon, authenticated;
grant update (role) on public.tenant_members to authenticated;
alter table public.tenant_members enable row level security;
-- The access-token hook (custom_access_token_hook) reads memberships as supabase_auth_admin.
grant select on public.tenant_members to supabase_auth_admin;
-- Members see their tenant's members and their own memberships elsewhere (a tenant switcher);
-- owners change roles and remove members; anyone may leave a tenant.
create policy tenant_members_select_member on public.tenant_members for select to authenticated
  using (tenant_id = (select internal.active_tenant_id())
         or user_id = (select auth.uid()));
create policy tenant_members_update_owner on public.tenant_members for update to authenticated
  using (tenant_id = (select internal.active_tenant_id())
         and (select internal.active_tenant_role()) = 'owner')
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner');
create policy tenant_members_delete_owner_or_self on public.tenant_members for delete
  to authenticated
  using ((tenant_id = (select internal.active_tenant_id())
          and (select internal.active_tenant_role()) = 'owner')
         or user_id = (select auth.uid()));
-- The access-token hook runs as supabase_auth_admin, which does not bypass RLS.
create policy tenant_members_select_auth_admin on public.tenant_members for select
  to supabase_auth_admin using (true);

-- A tenant keeps an owner: end users cannot demote or remove its last one (the service can,
-- and removing the tenant or the user removes memberships as it must).
create function internal.tenant_keeps_an_owner() returns trigger
language plpgsql
-- Definer: it must see every owner of the tenant, whatever the caller's RLS shows. The caller
-- is then the role setting (PostgREST's set local role), not current_user.
security definer
set search_path = ''
as $$
begin
  if pg_catalog.current_setting('role', true) is distinct from 'authenticated'
     or old.role <> 'owner'
     or (tg_op = 'UPDATE' and new.role = 'owner') then
    return case tg_op when 'DELETE' then old else new end;
  end if;
  if not exists (select 1 from public.tenant_members m
                  where m.tenant_id = old.tenant_id and m.role = 'owner'
                    and m.user_id <> old.user_id) then
    raise exception 'tenant % would be left without an owner', old.tenant_id
      using errcode = 'PT409', hint = 'make another member an owner first';
  end if;
  return case tg_op when 'DELETE' then old else new end;
end
$$;
revoke execute on function internal.tenant_keeps_an_owner() from public;
comment on function internal.tenant_keeps_an_owner() is
  'BEFORE UPDATE/DELETE trigger on tenant_members: an end user (authenticated) cannot demote or remove the last owner of a tenant (PT409).';
create trigger tenant_keeps_an_owner before update of role or delete on public.tenant_members
  for each row execute function internal.tenant_keeps_an_owner();
