-- Scheduling plumbing: pg_cron calls the job functions through pg_net (jobs.invoke), and
-- jobs can be paused, resumed and watched (jobs.health). Closed to the API roles.
create schema jobs;
revoke all on schema jobs from public, anon, authenticated;
comment on schema jobs is
  'Scheduling plumbing: which jobs exist, their schedules, invocations through pg_net, health. Not exposed by the Data API.';
