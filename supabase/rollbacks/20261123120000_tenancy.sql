-- Reverts 20261123120000_tenancy.sql. Drops without CASCADE, so an object a later
-- migration left behind stops the rollback instead of vanishing silently.
drop table public.connected_accounts;
drop table public.objectives;
drop table public.guardrails;
drop function public.custom_access_token_hook(jsonb);
drop table public.tenant_members;
drop table public.tenants;
revoke usage on schema public from supabase_auth_admin;
drop function internal.is_valid_max_attempts(jsonb);
drop function internal.is_valid_quiet_hours(jsonb);
drop function internal.touch_updated_at();
drop schema internal;

delete from supabase_migrations.schema_migrations where version = '20261123120000';
