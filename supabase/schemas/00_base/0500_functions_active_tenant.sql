-- The tenant a request acts in, decided at query time: the token's tenant_id, but only while
-- the user is still a member of it, and the role from the membership, not from the token.
-- A member removed (or demoted) loses access at once, not when their token expires. Every
-- tenant policy is written `tenant_id = (select internal.active_tenant_id())`, so Postgres
-- runs the lookup once per statement (an InitPlan), not once per row.
--
-- SECURITY DEFINER: they read tenant_members whatever its RLS lets the caller see, and the
-- API roles need EXECUTE only (a policy's expression is resolved when it is created, so no
-- USAGE on schema internal). plpgsql: created before the tables it reads (here in 00_base, as
-- every domain's policies use them). A claim that is not a uuid is no tenant, never an error.
create function internal.active_tenant_id() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_claims jsonb := coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''),
                             '{}')::jsonb;
  v_uuid constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  v_tenant uuid;
begin
  if coalesce(v_claims ->> 'tenant_id', '') !~* v_uuid or coalesce(v_claims ->> 'sub', '') !~* v_uuid
  then
    return null;
  end if;
  select m.tenant_id into v_tenant
    from public.tenant_members m
   where m.tenant_id = (v_claims ->> 'tenant_id')::uuid and m.user_id = (v_claims ->> 'sub')::uuid;
  return v_tenant;
end
$$;
revoke execute on function internal.active_tenant_id() from public;
grant execute on function internal.active_tenant_id() to authenticated;
comment on function internal.active_tenant_id() is
  'The tenant of the caller''s token (claim tenant_id) while the caller (claim sub) is a member of it, else NULL. Tenant policies compare tenant_id with it, once per statement.';

create function internal.active_tenant_role() returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_claims jsonb := coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''),
                             '{}')::jsonb;
  v_uuid constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  v_role text;
begin
  if coalesce(v_claims ->> 'tenant_id', '') !~* v_uuid or coalesce(v_claims ->> 'sub', '') !~* v_uuid
  then
    return null;
  end if;
  select m.role into v_role
    from public.tenant_members m
   where m.tenant_id = (v_claims ->> 'tenant_id')::uuid and m.user_id = (v_claims ->> 'sub')::uuid;
  return v_role;
end
$$;
revoke execute on function internal.active_tenant_role() from public;
grant execute on function internal.active_tenant_role() to authenticated;
comment on function internal.active_tenant_role() is
  'The caller''s role (owner or member) in the tenant of their token, from tenant_members at query time, else NULL. Owner policies compare it with owner.';
