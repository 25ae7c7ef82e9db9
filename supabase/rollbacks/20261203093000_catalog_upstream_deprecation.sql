-- Reverts 20261203093000_catalog_upstream_deprecation.sql.
comment on table public.tool_catalog is
  'Each tenant''s cached Composio tools, one row per (tenant, slug, version); is_current marks the version in use. Vanished tools are deprecated (deprecated_at), never deleted.';
comment on column public.tool_catalog.deprecated_at is 'When the tool vanished from Composio; a deprecated current row makes enqueue refuse the tool.';
comment on function internal.catalog_deprecate_missing(uuid, text, text[]) is
  'Marks the tenant''s current tools of a toolkit that Composio no longer lists (not in p_seen) as deprecated; never deletes. Returns how many.';

delete from supabase_migrations.schema_migrations where version = '20261203093000';
