create function internal.catalog_clear_due(p_tenant_id uuid, p_sync_started_at timestamptz)
returns boolean
language sql
set search_path = ''
as $$
  with gone as (
    delete from internal.catalog_sync_due
     where tenant_id = p_tenant_id and due_at <= p_sync_started_at
    returning 1
  )
  select exists (select 1 from gone)
$$;
comment on function internal.catalog_clear_due(uuid, timestamptz) is
  'Removes the tenant''s due mark after a successful sync, unless it was marked again after the sync started.';
revoke all on function internal.catalog_clear_due(uuid, timestamptz) from public;
