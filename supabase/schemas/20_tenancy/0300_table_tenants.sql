create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (btrim(name) <> ''),
  plan text not null default 'free' references public.plans (slug),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index tenants_plan_idx on public.tenants (plan);
create trigger touch_updated_at before update on public.tenants
  for each row execute function internal.touch_updated_at();
create trigger audit_change after insert or update or delete on public.tenants
  for each row execute function internal.audit_row_change();

comment on table public.tenants is
  'A customer of the control plane. Every other table belongs to one tenant; created by the service, read by its members.';
comment on column public.tenants.id is 'Tenant id; the tenant_id JWT claim names it.';
comment on column public.tenants.name is 'Display name.';
comment on column public.tenants.plan is 'The plan (public.plans) whose limits the tenant''s owners choose guardrails within; set by the service; indexed for plan-wide jobs.';
comment on column public.tenants.created_at is 'When the tenant was created.';
comment on column public.tenants.updated_at is 'Last change, maintained by trigger.';

revoke truncate, references, trigger on public.tenants from anon, authenticated;
alter table public.tenants enable row level security;
-- tenants: members read their tenant; the service creates and changes tenants (the plan
-- is billing, not configuration).
create policy tenants_select_member on public.tenants for select to authenticated
  using (id = (select internal.active_tenant_id()));
