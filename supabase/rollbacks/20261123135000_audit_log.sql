-- Reverts 20261123135000_audit_log.sql.
drop table public.audit_log;
delete from supabase_migrations.schema_migrations where version = '20261123135000';
