-- A tenant that has never been synced is due for catalog-sync at once, not at the next
-- nightly mark: a new tenant gets its due mark when it is created, and so does a tenant
-- whose connected account arrives already active (an import), which the warm scan (a
-- trigger on status changes) never sees. The frequent tick drains the marks.

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

create function internal.catalog_mark_imported_accounts_due() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into internal.catalog_sync_due (tenant_id, due_at)
  select distinct n.tenant_id, now() from new_rows n where n.status = 'active'
  on conflict (tenant_id) do update
    set due_at = least(internal.catalog_sync_due.due_at, excluded.due_at);
  return null;
end
$$;
revoke execute on function internal.catalog_mark_imported_accounts_due() from public;
comment on function internal.catalog_mark_imported_accounts_due() is
  'AFTER INSERT statement trigger on connected_accounts: a tenant given an account that is already active (an import) is marked due for catalog-sync now; accounts that become active later get the warm scan instead.';

create trigger catalog_sync_due_imported_account after insert on public.connected_accounts
  referencing new table as new_rows for each statement
  execute function internal.catalog_mark_imported_accounts_due();

-- Tenants that exist and were never synced (no catalog_sync audit row) are due now.
insert into internal.catalog_sync_due (tenant_id, due_at)
select t.id, now() from public.tenants t
 where not exists (select 1 from public.audit_log a
                    where a.tenant_id = t.id and a.category = 'catalog_sync')
on conflict (tenant_id) do nothing;
