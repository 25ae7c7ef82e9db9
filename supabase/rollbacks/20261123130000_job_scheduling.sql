-- Reverts 20261123130000_job_scheduling.sql. Leaves the platform extensions in place.
do $$
begin
  perform cron.unschedule(jobid) from cron.job where jobname in (select job_name from jobs.schedules);
end $$;
drop view jobs.health;
drop function jobs.resume(text);
drop function jobs.pause(text);
drop function jobs.set_active(text, boolean);
drop function jobs.unschedule(text);
drop function jobs.schedule(text, text, text, jsonb);
drop function jobs.invoke(text, jsonb);
drop function jobs.register(text, integer, integer);
drop table jobs.invocations;
drop table jobs.schedules;
drop table jobs.registry;
drop schema jobs;
drop function internal.lease_release(text, text, text);
drop function internal.lease_acquire(text, text, text, integer);
drop table internal.job_leases;
delete from supabase_migrations.schema_migrations where version = '20261123130000';
