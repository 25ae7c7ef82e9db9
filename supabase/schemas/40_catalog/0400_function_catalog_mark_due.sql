create function internal.catalog_mark_due(p_tenant_id uuid default null) returns integer
language sql
set search_path = ''
as $$
  with marked as (
    insert into internal.catalog_sync_due (tenant_id, due_at)
    select t.id, now() from public.tenants t where p_tenant_id is null or t.id = p_tenant_id
    on conflict (tenant_id) do update
      set due_at = least(internal.catalog_sync_due.due_at, excluded.due_at), attempts = 0,
          last_error = null
    returning 1
  )
  select count(*)::int from marked
$$;
comment on function internal.catalog_mark_due(uuid) is
  'Marks every tenant (or one) due for a full catalog-sync now; returns how many were marked.';
revoke all on function internal.catalog_mark_due(uuid) from public;
