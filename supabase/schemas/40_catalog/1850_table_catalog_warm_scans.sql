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
