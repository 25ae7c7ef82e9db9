-- A tenant that has never been synced is due for catalog-sync at once, not at the next
-- nightly mark: a new tenant gets its due mark when it is created. The frequent tick
-- drains the marks.
create function internal.catalog_mark_new_tenants_due() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into internal.catalog_sync_due (tenant_id, due_at)
  select n.id, now() from new_rows n
  on conflict (tenant_id) do update
    set due_at = least(internal.catalog_sync_due.due_at, excluded.due_at);
  return null;
end
$$;
revoke execute on function internal.catalog_mark_new_tenants_due() from public;
comment on function internal.catalog_mark_new_tenants_due() is
  'AFTER INSERT statement trigger on tenants: marks every new tenant due for catalog-sync now. SECURITY DEFINER: tenants are created by the service, which has no rights on schema internal.';

create trigger catalog_sync_due_new_tenant after insert on public.tenants
  referencing new table as new_rows for each statement
  execute function internal.catalog_mark_new_tenants_due();
