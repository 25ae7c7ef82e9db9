-- A tenant whose connected account arrives already active (an import) is due at once too:
-- the warm scan (a trigger on status changes) never sees such an account.
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
