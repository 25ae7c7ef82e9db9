-- Tool catalog: each tenant's copy of the Composio tools it may call, versioned, and the
-- drift snapshots drift-monitor takes of it. Written by the service (catalog-sync,
-- drift-monitor); tenant members read.

create table public.tool_catalog (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_slug text not null check (btrim(tool_slug) <> ''),
  toolkit text not null check (btrim(toolkit) <> ''),
  display_name text,
  description text,
  version text not null check (btrim(version) <> ''),
  input_schema jsonb not null default '{}' check (jsonb_typeof(input_schema) = 'object'),
  output_schema jsonb not null default '{}' check (jsonb_typeof(output_schema) = 'object'),
  required_scopes text[] not null default '{}',
  tags text[] not null default '{}',
  risk text not null check (risk in ('low', 'medium', 'high')),
  read_only boolean not null default false,
  content_hash text not null check (content_hash <> ''),
  synced_version text,
  is_current boolean not null default true,
  deprecated_at timestamptz,
  synced_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, tool_slug, version)
);
-- Exactly one current row per (tenant, slug): the version enqueue and drain use.
create unique index tool_catalog_current_uidx on public.tool_catalog (tenant_id, tool_slug)
  where is_current;
-- Listing a tenant's current tools by toolkit (trickle-refresh, dashboards).
create index tool_catalog_tenant_toolkit_idx on public.tool_catalog (tenant_id, toolkit)
  where is_current;
create trigger touch_updated_at before update on public.tool_catalog
  for each row execute function internal.touch_updated_at();

comment on table public.tool_catalog is
  'Each tenant''s cached Composio tools, one row per (tenant, slug, version); is_current marks the version in use. Vanished tools are deprecated (deprecated_at), never deleted.';
comment on column public.tool_catalog.id is 'Row id.';
comment on column public.tool_catalog.tenant_id is 'The tenant.';
comment on column public.tool_catalog.tool_slug is 'Composio tool slug (GITHUB_LIST_ISSUES).';
comment on column public.tool_catalog.toolkit is 'Toolkit slug (github).';
comment on column public.tool_catalog.display_name is 'Human name of the tool.';
comment on column public.tool_catalog.description is 'What the tool does, as Composio describes it.';
comment on column public.tool_catalog.version is 'Toolkit version this row describes (20250909_00).';
comment on column public.tool_catalog.input_schema is 'JSON Schema of the tool arguments (Composio input_parameters).';
comment on column public.tool_catalog.output_schema is 'JSON Schema of the tool result (Composio output_parameters).';
comment on column public.tool_catalog.required_scopes is 'Scopes the connected account needs to run the tool.';
comment on column public.tool_catalog.tags is 'Composio tags (readOnlyHint, destructiveHint, …).';
comment on column public.tool_catalog.risk is 'low, medium or high: readOnlyHint → low, destructiveHint → high, else medium. Copied to outbox.risk at enqueue.';
comment on column public.tool_catalog.read_only is 'The tool only reads (Composio tag readOnlyHint). Copied to outbox.read_only at enqueue.';
comment on column public.tool_catalog.content_hash is 'Hash of the normalised tool definition; an unchanged hash means no write on sync.';
comment on column public.tool_catalog.synced_version is 'The toolkit version Composio reported as latest when this row was last synced.';
comment on column public.tool_catalog.is_current is 'The version in use for (tenant, slug); at most one per pair (partial unique index).';
comment on column public.tool_catalog.deprecated_at is 'When the tool vanished from Composio; a deprecated current row makes enqueue refuse the tool.';
comment on column public.tool_catalog.synced_at is 'Last time catalog-sync saw this row.';
comment on column public.tool_catalog.updated_at is 'Last change, maintained by trigger.';

-- ---------------------------------------------------------------------------------------
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

-- ---------------------------------------------------------------------------------------
revoke truncate, references, trigger on public.tool_catalog, public.catalog_audit
  from anon, authenticated;

alter table public.tool_catalog enable row level security;
alter table public.catalog_audit enable row level security;

create policy tool_catalog_select_member on public.tool_catalog for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy catalog_audit_select_member on public.catalog_audit for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
