-- A user's own settings: which of their tenants their tokens name (the access-token hook
-- honours it while they are a member there). Each user reads and writes their own row only.
create table public.user_settings (
  user_id uuid primary key default auth.uid() references auth.users (id) on delete cascade,
  -- No foreign key: a user could otherwise learn which tenant ids exist.
  active_tenant_id uuid,
  updated_at timestamptz not null default now()
);
create trigger touch_updated_at before update on public.user_settings
  for each row execute function internal.touch_updated_at();

comment on table public.user_settings is
  'Per-user settings the user owns: active_tenant_id picks the tenant their next token names (among their memberships). Read by the access-token hook.';
comment on column public.user_settings.user_id is 'The user (auth.users).';
comment on column public.user_settings.active_tenant_id is 'The tenant the user wants their tokens to name; ignored unless they are a member of it.';
comment on column public.user_settings.updated_at is 'Last change, maintained by trigger.';

revoke truncate, references, trigger on public.user_settings from anon, authenticated;
alter table public.user_settings enable row level security;
grant select on public.user_settings to supabase_auth_admin;
create policy user_settings_select_self on public.user_settings for select to authenticated
  using (user_id = (select auth.uid()));
create policy user_settings_insert_self on public.user_settings for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy user_settings_update_self on public.user_settings for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy user_settings_delete_self on public.user_settings for delete to authenticated
  using (user_id = (select auth.uid()));
create policy user_settings_select_auth_admin on public.user_settings for select
  to supabase_auth_admin using (true);
