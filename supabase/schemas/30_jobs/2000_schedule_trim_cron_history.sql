-- Housekeeping (pg_cron, as postgres). pg_cron keeps a row per run forever; the invocation
-- map is only useful while pg_net still holds the responses (6 h). cron.schedule with a
-- job name replaces the job of that name. Not a jobs.register'ed job: pause it by name
-- (select cron.alter_job(jobid, active := false) from cron.job where jobname = '…').
select cron.schedule('trim-cron-history', '17 3 * * *',
  $$delete from cron.job_run_details where end_time < now() - interval '7 days';
    delete from jobs.invocations where created_at < now() - interval '7 days'$$);
