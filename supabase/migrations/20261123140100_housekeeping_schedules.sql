-- Housekeeping schedules (pg_cron, as postgres). cron.schedule with a job name replaces
-- the job of that name, so re-running this is idempotent. Pause one with
--   update cron.job set active = false where jobname = '<name>';
-- (hosted also allows cron.alter_job; active = true resumes).

-- pg_cron keeps a row per run forever; the invocation map is only useful while pg_net
-- still holds the responses (6 h).
select cron.schedule('trim-cron-history', '17 3 * * *',
  $$delete from cron.job_run_details where end_time < now() - interval '7 days';
    delete from jobs.invocations where created_at < now() - interval '7 days'$$);

-- Audit retention: rows older than 90 days leave through the retention function, which
-- anchors each chain and audits itself.
select cron.schedule('audit-retention', '27 3 * * *', $$select internal.audit_log_retain()$$);
