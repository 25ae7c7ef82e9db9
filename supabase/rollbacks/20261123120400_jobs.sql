-- Reverts 20261123120400_jobs.sql.
drop function public.rate_bucket_take(uuid, text, int);
drop table public.rate_buckets;
drop table public.job_runs;

delete from supabase_migrations.schema_migrations where version = '20261123120400';
