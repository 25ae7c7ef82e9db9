-- Warm scan: an account that becomes active gets its toolkit synced at once — once per
-- (tenant, toolkit) per internal.catalog_warm_scan_interval(), however often it flips, and
-- never while catalog-sync is paused (the tenant is marked due instead, so the first run
-- after resume syncs it).
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
  if jobs.is_paused('catalog-sync') then
    perform internal.catalog_mark_due(new.tenant_id);
    return null;
  end if;
  -- Takes the (tenant, toolkit) row's lock: of concurrent activations, one invokes.
  insert into internal.catalog_warm_scans as w (tenant_id, toolkit, invoked_at)
  values (new.tenant_id, new.toolkit, now())
  on conflict (tenant_id, toolkit) do update set invoked_at = excluded.invoked_at
    where w.invoked_at <= excluded.invoked_at - internal.catalog_warm_scan_interval();
  if not found then
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
  'AFTER UPDATE trigger on connected_accounts: when an account becomes active, invokes catalog-sync for its tenant and toolkit with warm: true (which then runs an immediate trickle refresh), at most once per tenant and toolkit per internal.catalog_warm_scan_interval(); while catalog-sync is paused it marks the tenant due instead. SECURITY DEFINER to read Vault for jobs.invoke; without Vault secrets jobs.invoke records the job as not configured.';
revoke all on function internal.catalog_warm_scan() from public;

-- On UPDATE only: accounts are created 'initiated' and become active when the connection
-- completes. Rows inserted already active (imports, seeds) get a due mark instead
-- (catalog_sync_due_imported_account).
create trigger catalog_warm_scan after update of status, toolkit on public.connected_accounts
  for each row when (new.status = 'active')
  execute function internal.catalog_warm_scan();
