-- Reverts 20261123140100_housekeeping_schedules.sql.
select cron.unschedule(jobid) from cron.job
 where jobname in ('trim-cron-history', 'audit-retention');
delete from supabase_migrations.schema_migrations where version = '20261123140100';
