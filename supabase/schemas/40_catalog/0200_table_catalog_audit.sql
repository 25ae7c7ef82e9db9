-- Drift snapshots drift-monitor takes of each tenant's catalog. Written by the service;
-- tenant members read.
create table public.catalog_audit (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- No foreign key: job_runs is a log that retention prunes; snapshots outlive it.
  run_id bigint,
  snapshot jsonb not null default '{}' check (jsonb_typeof(snapshot) = 'object'),
  breaking_count int not null default 0 check (breaking_count >= 0),
  non_breaking_count int not null default 0 check (non_breaking_count >= 0),
  created_at timestamptz not null default now()
);
create index catalog_audit_tenant_created_idx on public.catalog_audit (tenant_id, created_at desc);

comment on table public.catalog_audit is
  'Drift snapshots: what changed between the stored catalog and Composio''s latest, per tenant and drift-monitor run. Append-only.';
comment on column public.catalog_audit.id is 'Snapshot id.';
comment on column public.catalog_audit.tenant_id is 'The tenant.';
comment on column public.catalog_audit.run_id is 'job_runs.id of the drift-monitor run that took it (no foreign key: runs are pruned first).';
comment on column public.catalog_audit.snapshot is 'Drift summary: changed tools and how (added, removed, breaking and non-breaking schema changes).';
comment on column public.catalog_audit.breaking_count is 'Number of breaking changes in the snapshot.';
comment on column public.catalog_audit.non_breaking_count is 'Number of non-breaking changes in the snapshot.';
comment on column public.catalog_audit.created_at is 'When the snapshot was taken.';

revoke truncate, references, trigger on public.catalog_audit from anon, authenticated;
alter table public.catalog_audit enable row level security;
create policy catalog_audit_select_member on public.catalog_audit for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
