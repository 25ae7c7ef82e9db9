create table public.objectives (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  title text not null check (btrim(title) <> ''),
  metric text not null,
  target text,
  horizon text,
  summary text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Tasks reference (tenant_id, id): an objective of another tenant cannot be named.
  constraint objectives_tenant_id_id_key unique (tenant_id, id)
);
create index objectives_tenant_metric_idx on public.objectives (tenant_id, metric);
create trigger touch_updated_at before update on public.objectives
  for each row execute function internal.touch_updated_at();
create trigger audit_change after insert or update or delete on public.objectives
  for each row execute function internal.audit_row_change();

comment on table public.objectives is 'Value objectives a tenant pursues; tasks work towards them. Owners change them, members read.';
comment on column public.objectives.id is 'Objective id.';
comment on column public.objectives.tenant_id is 'The tenant.';
comment on column public.objectives.title is 'Short title.';
comment on column public.objectives.metric is 'What is measured (e.g. first_response_minutes).';
comment on column public.objectives.target is 'Target value of the metric, as stated by the tenant.';
comment on column public.objectives.horizon is 'By when (e.g. 2026-Q1, 30 days).';
comment on column public.objectives.summary is 'Free-text description.';
comment on column public.objectives.created_at is 'When the objective was created.';
comment on column public.objectives.updated_at is 'Last change, maintained by trigger.';

revoke truncate, references, trigger on public.objectives from anon, authenticated;
alter table public.objectives enable row level security;
-- Tenant configuration: owners write, members read.
create policy objectives_select_member on public.objectives for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
create policy objectives_insert_owner on public.objectives for insert to authenticated
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner');
create policy objectives_update_owner on public.objectives for update to authenticated
  using (tenant_id = (select internal.active_tenant_id())
         and (select internal.active_tenant_role()) = 'owner')
  with check (tenant_id = (select internal.active_tenant_id())
              and (select internal.active_tenant_role()) = 'owner');
create policy objectives_delete_owner on public.objectives for delete to authenticated
  using (tenant_id = (select internal.active_tenant_id())
         and (select internal.active_tenant_role()) = 'owner');
