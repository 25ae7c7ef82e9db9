-- Scheduling plumbing: jobs.register, jobs.invoke (Vault secrets, pg_net request),
-- jobs.schedule / unschedule (idempotent by name), jobs.pause / resume, jobs.health, and
-- the housekeeping schedules. Runs as postgres; everything is rolled back, so no request
-- is ever sent (pg_net sends after commit). The real pg_cron tick: stack/jobs_cron_test.ts.
begin;
select plan(36);

select lives_ok($$select jobs.register('t-alpha', 20000, 60)$$, 'register a job');
select lives_ok($$select jobs.register('t-alpha', 30000, 120)$$, 'register again: an update');
select results_eq($$select budget_ms, interval_seconds from jobs.registry where slug = 't-alpha'$$,
                  $$values (30000, 120)$$, 'register is idempotent by slug and updates');

-- --- jobs.invoke ------------------------------------------------------------------------
select throws_ok($$select jobs.invoke('t-unknown')$$, 'P0002',
                 'jobs.invoke: unknown job t-unknown', 'invoking an unregistered job fails');

create temporary table invoked as select jobs.invoke('t-alpha', '{"tenant": "x"}') as id;
select results_eq(
  $$select q.method, q.url, q.headers ->> 'Authorization', q.headers ->> 'Content-Type',
           convert_from(q.body, 'UTF8')::jsonb, q.timeout_milliseconds
      from net.http_request_queue q join invoked i on i.id = q.id$$,
  $$select 'POST'::text,
           (select decrypted_secret from vault.decrypted_secrets where name = 'project_url')
             || '/functions/v1/t-alpha',
           'Bearer ' || (select decrypted_secret from vault.decrypted_secrets
                          where name = 'service_role_key'),
           'application/json'::text, '{"tenant": "x"}'::jsonb, 45000$$,
  'invoke POSTs the body to <project_url>/functions/v1/<slug> with the service key, timeout = budget + 15 s');
select is((select slug from jobs.invocations i join invoked v on v.id = i.request_id), 't-alpha',
          'the request is mapped to its job for health');

-- Missing secrets: nothing is sent, the job is recorded as not configured once (the deletes
-- are rolled back).
delete from vault.secrets where name = 'service_role_key';
select is(jobs.invoke('t-alpha'), null, 'without service_role_key, invoke sends nothing');
delete from vault.secrets where name = 'project_url';
select is(jobs.invoke('t-alpha'), null, 'without both, invoke sends nothing');
select is((select count(*)::int from net.http_request_queue q
            where q.url like '%/functions/v1/t-alpha' and q.id > (select id from invoked)),
          0, 'nothing was queued without the secrets');
select results_eq($$select missing, skipped from jobs.not_configured where slug = 't-alpha'$$,
                  $$values (array['project_url', 'service_role_key'], 2)$$,
                  'one not_configured row for the job, naming what is missing, counting skips');
select results_eq(
  $$select not_configured, failing, silent, invocation_errors from jobs.health where job = 't-alpha'$$,
  $$values ('missing Vault secrets: project_url, service_role_key'::text, false, false, 0)$$,
  'health shows it once as not configured, not as failures');
select vault.create_secret('http://127.0.0.1:1', 'project_url');
select vault.create_secret('a-key', 'service_role_key');
select isnt(jobs.invoke('t-alpha'), null, 'with the secrets back, invoke sends again');
select is((select count(*)::int from jobs.not_configured where slug = 't-alpha'), 0,
          '... and the not-configured state is cleared');

-- --- schedules --------------------------------------------------------------------------
create temporary table sched as
select jobs.schedule('t-alpha-every-5', '*/5 * * * *', 't-alpha', '{"a": 1}') as first,
       jobs.schedule('t-alpha-every-5', '*/10 * * * *', 't-alpha', '{"a": 2}') as second;
select is((select first = second from sched), true, 'scheduling twice keeps the same pg_cron job');
select results_eq(
  $$select schedule, command, active from cron.job where jobname = 't-alpha-every-5'$$,
  $$values ('*/10 * * * *'::text, 'select jobs.invoke(''t-alpha'', ''{"a": 2}''::jsonb)'::text, true)$$,
  'the second call updated schedule and body');
select is((select count(*)::int from jobs.schedules where job_name = 't-alpha-every-5'), 1,
          'one schedule row per name');
select lives_ok($$select jobs.schedule('t-alpha-hourly', '0 * * * *', 't-alpha')$$,
                'a second schedule of the same job');
select is(jobs.pause('t-alpha'), 2, 'pause reports both schedules');
select is(array(select active from cron.job where jobname like 't-alpha-%'), array[false, false],
          'paused: both pg_cron jobs inactive');
select is((select paused from jobs.health where job = 't-alpha'), true, 'health shows it paused');
select is(jobs.is_paused('t-alpha'), true, 'jobs.is_paused agrees');
select is(jobs.resume('t-alpha'), 2, 'resume reports both schedules');
select is(array(select active from cron.job where jobname like 't-alpha-%'), array[true, true],
          'resumed: both active');
select is(jobs.is_paused('t-alpha'), false, 'resumed: not paused');
select is(jobs.is_paused('t-no-schedules'), false, 'a job without schedules is not paused');

-- As on hosted, postgres may read cron.job but not write it: pause and resume go through
-- cron.alter_job.
select throws_ok($$update cron.job set active = false where jobname = 't-alpha-every-5'$$,
                 '42501', null, 'postgres cannot UPDATE cron.job (SELECT only, as on hosted)');
select throws_ok($$delete from cron.job where jobname = 't-alpha-every-5'$$,
                 '42501', null, 'postgres cannot DELETE from cron.job');
select throws_ok($$insert into cron.job (schedule, command) values ('* * * * *', 'select 1')$$,
                 '42501', null, 'postgres cannot INSERT into cron.job');
select lives_ok($$select jobs.unschedule('t-alpha-hourly')$$, 'unschedule by name');
select is(array(select jobname::text from cron.job where jobname like 't-alpha-%'),
          array['t-alpha-every-5'], 'the pg_cron job is gone, the other stays');

-- --- health -----------------------------------------------------------------------------
select jobs.register('t-silent', 10000, 60);
select jobs.register('t-failing', 10000, 60);
select jobs.register('t-callerr', 10000, 60);
select jobs.register('t-fine', 10000, 60);
insert into public.job_runs (job, started_at, finished_at, status) values
  ('t-silent', now() - interval '10 minutes', now() - interval '10 minutes', 'succeeded'),
  ('t-failing', now() - interval '3 minutes', now() - interval '3 minutes', 'succeeded'),
  ('t-failing', now() - interval '2 minutes', now() - interval '2 minutes', 'failed'),
  ('t-failing', now() - interval '1 minutes', now() - interval '1 minutes', 'failed'),
  ('t-callerr', now() - interval '2 minutes', now() - interval '2 minutes', 'succeeded'),
  ('t-fine', now() - interval '2 minutes', now() - interval '2 minutes', 'failed'),
  ('t-fine', now() - interval '1 minutes', now() - interval '1 minutes', 'succeeded');
-- An invocation of t-callerr after its last success that the function answered with 500.
insert into jobs.invocations (request_id, slug, created_at)
values (-4242, 't-callerr', now() - interval '30 seconds');
insert into net._http_response (id, status_code, content, timed_out)
values (-4242, 500, 'boom', false);

select results_eq(
  $$select job, consecutive_failures, invocation_errors, silent, failing
      from jobs.health where job in ('t-silent', 't-failing', 't-callerr', 't-fine') order by job$$,
  $$values ('t-callerr'::text, 0, 1, false, true),
           ('t-failing', 2, 0, false, true),
           ('t-fine', 0, 0, false, false),
           ('t-silent', 0, 0, true, false)$$,
  'health flags the silent job (no run in twice its interval) and the failing ones');
select is((select last_success_at = last_run_at - interval '2 minutes' from jobs.health
            where job = 't-failing'), true, 'last success is the run before the failures');
update net._http_response set status_code = null, timed_out = true where id = -4242;
select is((select failing from jobs.health where job = 't-callerr'), true,
          'a timed-out invocation counts as an error too');

-- --- housekeeping -----------------------------------------------------------------------
select results_eq(
  $$select jobname::text collate "default", username::text collate "default", active from cron.job
     where jobname in ('trim-cron-history', 'audit-retention') order by jobname$$,
  $$values ('audit-retention'::text, 'postgres'::text, true),
           ('trim-cron-history'::text, 'postgres'::text, true)$$,
  'housekeeping schedules exist, run as postgres');
select matches((select command from cron.job where jobname = 'trim-cron-history'),
               'delete from cron.job_run_details where end_time < now\(\) - interval ''7 days''',
               'trim-cron-history deletes run details older than 7 days');
select is((select command from cron.job where jobname = 'audit-retention'),
          'select internal.audit_log_retain()', 'audit-retention runs the retention function');

select * from finish();
rollback;
