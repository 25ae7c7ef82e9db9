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
-- Auth runs the hook as supabase_auth_admin: USAGE on public and EXECUTE, nothing more.
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
comment on function public.custom_access_token_hook(jsonb) is
  'Supabase Custom Access Token Hook: returns {claims} with tenant_id and tenant_role from tenant_members (app_metadata.tenant_id picks among several tenants, else the earliest membership). Executable by supabase_auth_admin only.';
