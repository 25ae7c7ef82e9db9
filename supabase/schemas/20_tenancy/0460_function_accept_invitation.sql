-- Accepting an invitation is the invitee's act, so the function checks the invitee: the
-- caller's user id, or the email of their user row (auth.users, not a claim they could
-- carry from elsewhere). SECURITY DEFINER: the invitee may not write tenant_members or
-- invitations otherwise. Errors: PT404 no such open invitation for the caller (also another
-- user's), PT410 expired.
create function public.accept_invitation(p_invitation_id uuid) returns public.tenant_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
  v_email text;
  v_inv public.tenant_invitations;
  v_member public.tenant_members;
begin
  if v_user is null then
    raise exception 'accepting an invitation needs a signed-in user' using errcode = '42501';
  end if;
  select lower(u.email) into v_email from auth.users u where u.id = v_user;
  select * into v_inv from public.tenant_invitations i
   where i.id = p_invitation_id and i.accepted_at is null
     and (i.user_id = v_user or (i.email is not null and i.email = v_email))
   for update;
  if not found then
    raise exception 'invitation % not found', p_invitation_id using errcode = 'PT404';
  end if;
  if v_inv.expires_at <= now() then
    raise exception 'invitation % expired at %', p_invitation_id, v_inv.expires_at
      using errcode = 'PT410';
  end if;
  update public.tenant_invitations
     set accepted_at = now(), accepted_by = v_user
   where id = v_inv.id;
  -- Already a member: the invitation is used up, the membership stays as it is.
  insert into public.tenant_members (tenant_id, user_id, role, invited_by, accepted_at)
  values (v_inv.tenant_id, v_user, v_inv.role, v_inv.invited_by, now())
  on conflict (tenant_id, user_id) do nothing;
  select * into v_member from public.tenant_members m
   where m.tenant_id = v_inv.tenant_id and m.user_id = v_user;
  return v_member;
end
$$;
revoke execute on function public.accept_invitation(uuid) from public, anon;
grant execute on function public.accept_invitation(uuid) to authenticated, service_role;
comment on function public.accept_invitation(uuid) is
  'The caller accepts an open invitation made to their user id or to their user''s email: the membership is made with the invitation''s role and the server''s timestamps. PT404 when there is no such open invitation for the caller, PT410 when it expired. Returns the membership.';
