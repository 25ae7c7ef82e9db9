-- Reverts 20261123120500_tasks.sql.
drop table public.tasks;

delete from supabase_migrations.schema_migrations where version = '20261123120500';
