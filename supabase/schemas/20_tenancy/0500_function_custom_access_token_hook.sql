-- Custom Access Token Hook (Supabase Auth calls it as supabase_auth_admin before issuing
-- a token). Adds tenant_id and tenant_role from an accepted membership: the tenant the user
-- chose (user_settings.active_tenant_id) while they are a member of it, else the one the
-- service named in app_metadata.tenant_id while a member, else the earliest accepted
-- membership. Invitations are not memberships: an open one changes no token. A user without
-- a tenant gets neither claim, so every tenant policy denies them.
create function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  claims jsonb := coalesce(event -> 'claims', '{}') - 'tenant_id' - 'tenant_role';
  v_uuid constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  v_user uuid;
  v_chosen uuid;
  v_named uuid;
  m record;
begin
  if coalesce(event ->> 'user_id', '') !~* v_uuid then
    return jsonb_build_object('claims', claims);
  end if;
  v_user := (event ->> 'user_id')::uuid;
  select s.active_tenant_id into v_chosen from public.user_settings s where s.user_id = v_user;
  select case when u.raw_app_meta_data ->> 'tenant_id' ~* v_uuid
              then (u.raw_app_meta_data ->> 'tenant_id')::uuid end
    into v_named
    from auth.users u
   where u.id = v_user;

  select tm.tenant_id, tm.role into m
    from public.tenant_members tm
   where tm.user_id = v_user
   order by tm.tenant_id = v_chosen desc nulls last, tm.tenant_id = v_named desc nulls last,
            tm.accepted_at, tm.tenant_id
   limit 1;

  if found then
    claims := claims || jsonb_build_object('tenant_id', m.tenant_id, 'tenant_role', m.role);
  end if;
  return jsonb_build_object('claims', claims);
end
$$;
revoke execute on function public.custom_access_token_hook(jsonb) from public, anon, authenticated, service_role;
-- Auth runs the hook as supabase_auth_admin: USAGE on public and EXECUTE, nothing more.
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
comment on function public.custom_access_token_hook(jsonb) is
  'Supabase Custom Access Token Hook: returns {claims} with tenant_id and tenant_role from an accepted membership (the user''s user_settings.active_tenant_id, else app_metadata.tenant_id, while a member there; else the earliest accepted). Executable by supabase_auth_admin only.';
