-- catalog-sync: per-tenant due marks. The nightly schedule marks every tenant, a frequent
-- tick drains them, one tenant per lease.
create table internal.catalog_sync_due (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  due_at timestamptz not null default now(),
  attempts int not null default 0 check (attempts >= 0),
  last_error text
);
create index catalog_sync_due_due_at_idx on internal.catalog_sync_due (due_at);
alter table internal.catalog_sync_due enable row level security;
comment on table internal.catalog_sync_due is
  'Tenants whose catalog needs a full catalog-sync: marked nightly (or on demand), drained by the frequent tick, one tenant per lease. A row is removed when a sync that started after due_at succeeds.';
comment on column internal.catalog_sync_due.tenant_id is 'The tenant to sync.';
comment on column internal.catalog_sync_due.due_at is 'Not synced before this time (a failed sync pushes it back).';
comment on column internal.catalog_sync_due.attempts is 'Failed syncs since the tenant was marked due.';
comment on column internal.catalog_sync_due.last_error is 'Error of the last failed sync.';
revoke all on internal.catalog_sync_due from public, anon, authenticated;
