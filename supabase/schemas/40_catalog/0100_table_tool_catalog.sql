-- Tool catalog: each tenant's copy of the Composio tools it may call, versioned. Written by
-- the service (catalog-sync); tenant members read.
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
  'Each tenant''s cached Composio tools, one row per (tenant, slug, version); is_current marks the version in use. Tools that vanish from Composio or that Composio marks deprecated are deprecated (deprecated_at), never deleted.';
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
-- An unchanged tool is never written (catalog_upsert compares hashes first), so
-- synced_version and synced_at date the row's last write, not the last sync.
comment on column public.tool_catalog.synced_version is
  'The toolkit version Composio reported when catalog-sync last wrote this row (added, changed or restored it); a sync that finds the tool unchanged leaves it as it was.';
comment on column public.tool_catalog.synced_at is
  'When catalog-sync last wrote this row (added, changed or restored it); a sync that finds the tool unchanged does not touch it. Each sync itself is in job_runs and its catalog_sync audit row.';
comment on column public.tool_catalog.is_current is 'The version in use for (tenant, slug); at most one per pair (partial unique index).';
comment on column public.tool_catalog.deprecated_at is
  'When the tool vanished from Composio''s listing or Composio listed it as deprecated (is_deprecated); cleared when it is listed live again. A deprecated current row makes enqueue refuse the tool.';
comment on column public.tool_catalog.updated_at is 'Last change, maintained by trigger.';

revoke truncate, references, trigger on public.tool_catalog from anon, authenticated;
alter table public.tool_catalog enable row level security;
create policy tool_catalog_select_member on public.tool_catalog for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
