-- Warm scans bounded: toolkit slugs are checked on write (the pattern of
-- _shared/toolkit_slug.ts), one warm scan per (tenant, toolkit) per interval however often an
-- account flips, and none while catalog-sync is paused.
--
-- Rows stored before the check are not rewritten (an update would itself fire the warm
-- scan): the constraint is validated only when none fails it, and until then such a row
-- cannot be updated without a valid slug; catalog-sync counts its toolkit as that tenant's
-- error.
alter table public.connected_accounts
  add constraint connected_accounts_toolkit_check
  check (toolkit ~ '^[a-z][a-z0-9_]{0,63}$') not valid;
do $$
declare
  v_bad int;
begin
  select count(*) into v_bad from public.connected_accounts
   where toolkit !~ '^[a-z][a-z0-9_]{0,63}$';
  if v_bad = 0 then
    alter table public.connected_accounts validate constraint connected_accounts_toolkit_check;
  else
    raise notice '% connected account(s) have a toolkit that is no slug; fix them, then: alter table public.connected_accounts validate constraint connected_accounts_toolkit_check', v_bad;
  end if;
end
$$;

-- When each (tenant, toolkit) last had a warm scan invoked: the debounce of
-- internal.catalog_warm_scan. An account flipped inactive → active ten times asks for one
-- scan, not ten (each would also invoke trickle-refresh, with the service key).
create table internal.catalog_warm_scans (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  toolkit text not null,
  invoked_at timestamptz not null,
  primary key (tenant_id, toolkit)
);
alter table internal.catalog_warm_scans enable row level security;
comment on table internal.catalog_warm_scans is
  'The last warm scan invoked per tenant and toolkit; internal.catalog_warm_scan invokes another only after internal.catalog_warm_scan_interval(). Service only.';
comment on column internal.catalog_warm_scans.tenant_id is 'The tenant.';
comment on column internal.catalog_warm_scans.toolkit is 'The toolkit scanned.';
comment on column internal.catalog_warm_scans.invoked_at is 'When the last warm scan of it was invoked.';

create function internal.catalog_warm_scan_interval() returns interval
language sql
immutable
set search_path = ''
as $$ select interval '10 minutes' $$;
comment on function internal.catalog_warm_scan_interval() is
  'How long after a warm scan of a tenant''s toolkit another activation of it asks for none: the toolkit''s catalog was just synced.';
revoke all on function internal.catalog_warm_scan_interval() from public;

-- Warm scan: an account that becomes active gets its toolkit synced at once — once per
-- (tenant, toolkit) per internal.catalog_warm_scan_interval(), however often it flips, and
-- never while catalog-sync is paused (the tenant is marked due instead, so the first run
-- after resume syncs it).
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

