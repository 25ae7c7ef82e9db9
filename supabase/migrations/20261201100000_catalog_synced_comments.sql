-- tool_catalog.synced_at and synced_version described every sync's visit; since an unchanged
-- tool is never written (catalog_upsert compares hashes first), they date the row's last write.
comment on column public.tool_catalog.synced_version is
  'The toolkit version Composio reported when catalog-sync last wrote this row (added, changed or restored it); a sync that finds the tool unchanged leaves it as it was.';
comment on column public.tool_catalog.synced_at is
  'When catalog-sync last wrote this row (added, changed or restored it); a sync that finds the tool unchanged does not touch it. Each sync itself is in job_runs and its catalog_sync audit row.';
