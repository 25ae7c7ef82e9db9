-- Reverts 20261201100000_catalog_synced_comments.sql.
comment on column public.tool_catalog.synced_version is 'The toolkit version Composio reported as latest when this row was last synced.';
comment on column public.tool_catalog.synced_at is 'Last time catalog-sync saw this row.';

delete from supabase_migrations.schema_migrations where version = '20261201100000';
