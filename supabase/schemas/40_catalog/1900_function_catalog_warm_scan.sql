-- Warm scan: an account that becomes active gets its toolkit synced at once.
create function internal.catalog_warm_scan() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status <> 'active'
     or (tg_op = 'UPDATE' and old.status = 'active' and old.toolkit = new.toolkit) then
    return null;
  end if;
  begin
    perform jobs.invoke('catalog-sync', jsonb_build_object(
      'tenant_id', new.tenant_id, 'toolkit', new.toolkit, 'warm', true));
  exception when others then
    -- Never fail the account change: the nightly sync catches up.
    raise warning 'warm scan of % for tenant % not invoked: %', new.toolkit, new.tenant_id,
      sqlerrm;
  end;
  return null;
end
$$;
comment on function internal.catalog_warm_scan() is
  'AFTER UPDATE trigger on connected_accounts: when an account becomes active, invokes catalog-sync for its tenant and toolkit with warm: true (which then runs an immediate trickle refresh). SECURITY DEFINER to read Vault for jobs.invoke; without Vault secrets jobs.invoke records the job as not configured.';
revoke all on function internal.catalog_warm_scan() from public;

-- On UPDATE only: accounts are created 'initiated' and become active when the connection
-- completes. Rows inserted already active (imports, seeds) get a due mark instead
-- (catalog_sync_due_imported_account).
create trigger catalog_warm_scan after update of status, toolkit on public.connected_accounts
  for each row when (new.status = 'active')
  execute function internal.catalog_warm_scan();
