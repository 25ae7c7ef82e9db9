-- Reverts 20261203090000_catalog_due_when_never_synced.sql. Due marks it added stay: they
-- are work, and the tick drains them either way.
drop trigger catalog_sync_due_imported_account on public.connected_accounts;
drop function internal.catalog_mark_imported_accounts_due();
drop trigger catalog_sync_due_new_tenant on public.tenants;
drop function internal.catalog_mark_new_tenants_due();

delete from supabase_migrations.schema_migrations where version = '20261203090000';
