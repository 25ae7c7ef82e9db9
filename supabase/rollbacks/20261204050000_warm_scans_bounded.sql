-- Reverts 20261204050000_warm_scans_bounded.sql: the warm scan as it was (every activation
-- invokes), no debounce table, no slug check.
create or replace function internal.catalog_warm_scan() returns trigger
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
drop function internal.catalog_warm_scan_interval();
drop table internal.catalog_warm_scans;
alter table public.connected_accounts drop constraint connected_accounts_toolkit_check;
delete from supabase_migrations.schema_migrations where version = '20261204050000';
