-- Invitations: how a user joins a tenant. An owner invites by email or user id; nothing
-- changes for the invited user (no membership, no claim in their token) until they accept
-- (public.accept_invitation), which makes the membership with the server's timestamps.
create table public.tenant_invitations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  email text check (email = lower(btrim(email)) and email ~ '^[^@\s]+@[^@\s]+$'),
  user_id uuid references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'member')),
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  constraint tenant_invitations_one_invitee check (num_nonnulls(email, user_id) = 1),
  constraint tenant_invitations_accepted_with_user
    check ((accepted_at is null) = (accepted_by is null))
);
-- One open invitation per invitee and tenant.
create unique index tenant_invitations_open_email_uidx on public.tenant_invitations
  (tenant_id, email) where accepted_at is null and email is not null;
create unique index tenant_invitations_open_user_uidx on public.tenant_invitations
  (tenant_id, user_id) where accepted_at is null and user_id is not null;
-- The invitee's view: open invitations by user or email.
create index tenant_invitations_user_idx on public.tenant_invitations (user_id)
  where user_id is not null;
create index tenant_invitations_email_idx on public.tenant_invitations (email)
  where email is not null;
create index tenant_invitations_invited_by_idx on public.tenant_invitations (invited_by)
  where invited_by is not null;
create index tenant_invitations_accepted_by_idx on public.tenant_invitations (accepted_by)
  where accepted_by is not null;
create trigger audit_change after insert or update or delete on public.tenant_invitations
  for each row execute function internal.audit_row_change();

comment on table public.tenant_invitations is
  'Invitations to join a tenant, by email or user id. Owners create and withdraw them; the invitee sees theirs and accepts with accept_invitation. Nothing changes for the invitee before acceptance.';
comment on column public.tenant_invitations.id is 'Invitation id (accept_invitation takes it).';
comment on column public.tenant_invitations.tenant_id is 'The tenant invited to.';
comment on column public.tenant_invitations.email is 'The invitee''s email, lower case; or NULL when invited by user id.';
comment on column public.tenant_invitations.user_id is 'The invitee''s user id; or NULL when invited by email.';
comment on column public.tenant_invitations.role is 'The role the membership gets: owner or member.';
comment on column public.tenant_invitations.invited_by is 'The owner who invited (set by the server).';
comment on column public.tenant_invitations.created_at is 'When the invitation was made (server time).';
comment on column public.tenant_invitations.expires_at is 'Past this, it can no longer be accepted (server time).';
comment on column public.tenant_invitations.accepted_at is 'When the invitee accepted (server time); NULL while open.';
comment on column public.tenant_invitations.accepted_by is 'The user who accepted.';

-- Owners write the invitee and the role; the server writes who invited and every timestamp.
create function internal.tenant_invitation_defaults() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.invited_by := coalesce(auth.uid(), new.invited_by);
  new.created_at := now();
  new.expires_at := now() + interval '7 days';
  new.accepted_at := null;
  new.accepted_by := null;
  return new;
end
$$;
revoke execute on function internal.tenant_invitation_defaults() from public;
comment on function internal.tenant_invitation_defaults() is
  'BEFORE INSERT trigger on tenant_invitations: the inviter is the caller, created_at and expires_at the server''s, and a new invitation is open.';
create trigger tenant_invitation_defaults before insert on public.tenant_invitations
  for each row execute function internal.tenant_invitation_defaults();

revoke truncate, references, trigger on public.tenant_invitations from anon, authenticated;
revoke insert, update on public.tenant_invitations from anon, authenticated;
grant insert (tenant_id, email, user_id, role) on public.tenant_invitations to authenticated;
alter table public.tenant_invitations enable row level security;
create policy tenant_invitations_select_owner_or_invitee on public.tenant_invitations
  for select to authenticated
  using ((tenant_id = (select internal.active_tenant_id())
          and (select internal.active_tenant_role()) = 'owner')
         or user_id = (select auth.uid())
         or email = lower((select auth.email())));
create policy tenant_invitations_insert_owner on public.tenant_invitations for insert
  to authenticated
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner');
-- Withdrawing an open invitation, or declining one's own.
create policy tenant_invitations_delete_owner_or_invitee on public.tenant_invitations
  for delete to authenticated
  using (accepted_at is null
         and ((tenant_id = (select internal.active_tenant_id())
               and (select internal.active_tenant_role()) = 'owner')
              or user_id = (select auth.uid())
              or email = lower((select auth.email()))));
