-- One row per registered job; what alerts read, since pg_cron reports success whatever the
-- function did. paused comes from jobs.is_paused; not_configured names the Vault secrets a
-- job waits for, and such a job is neither failing nor silent.
create view jobs.health with (security_invoker = true) as
with runs as (
  select job, started_at, status,
         row_number() over (partition by job order by started_at desc, id desc) as rn
  from public.job_runs
),
latest as (
  select job,
         max(started_at) as last_run_at,
         max(started_at) filter (where status in ('succeeded', 'partial', 'skipped'))
           as last_success_at
  from runs group by job
),
streak as (
  -- Failed runs since the newest run that was not a failure.
  select r.job, count(*)::int as consecutive_failures
  from runs r
  where r.status = 'failed'
    and r.rn < coalesce((select min(r2.rn) from runs r2
                         where r2.job = r.job and r2.status <> 'failed'), 2147483647)
  group by r.job
),
call_errors as (
  -- Invocations that never produced a healthy answer (timeout, refused, 4xx/5xx).
  select i.slug, count(*)::int as errors, max(i.created_at) as last_error_at
  from jobs.invocations i
  join net._http_response r on r.id = i.request_id
  where r.timed_out or r.error_msg is not null or r.status_code >= 400
  group by i.slug
)
select g.slug as job,
       g.interval_seconds,
       l.last_run_at,
       l.last_success_at,
       coalesce(s.consecutive_failures, 0) as consecutive_failures,
       coalesce(e.errors, 0) as invocation_errors,
       e.last_error_at as last_invocation_error_at,
       (g.interval_seconds is not null
        and not jobs.is_paused(g.slug)
        and n.slug is null
        and coalesce(l.last_run_at, g.registered_at)
            < now() - make_interval(secs => 2 * g.interval_seconds)) as silent,
       (coalesce(s.consecutive_failures, 0) > 0
        or (e.last_error_at is not null
            and e.last_error_at > coalesce(l.last_success_at, '-infinity'))) as failing,
       jobs.is_paused(g.slug) as paused,
       case when n.slug is not null
            then 'missing Vault secret' || case when cardinality(n.missing) > 1 then 's' else '' end
                 || ': ' || array_to_string(n.missing, ', ')
       end as not_configured
from jobs.registry g
left join latest l on l.job = g.slug
left join streak s on s.job = g.slug
left join call_errors e on e.slug = g.slug
left join jobs.not_configured n on n.slug = g.slug;
comment on view jobs.health is
  'Per job: last run, last success, consecutive failed runs, invocation errors from pg_net, and silent (no run in twice its interval, unless paused or not configured) / failing / paused flags, and not_configured (the Vault secrets it waits for). pg_cron reports success whatever the function did; this is what alerts read.';
revoke all on jobs.health from public, anon, authenticated;
