-- Reverts 20261123120100_catalog.sql.
drop table public.catalog_audit;
drop table public.tool_catalog;

delete from supabase_migrations.schema_migrations where version = '20261123120100';
