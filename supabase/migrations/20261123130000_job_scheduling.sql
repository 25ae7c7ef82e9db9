-- Job machinery shared by every Edge Function job: lease rows for exclusion across HTTP
-- invocations, and the scheduling plumbing that lets pg_cron call the functions through
-- pg_net (jobs.invoke), pause and resume them, and read their health.
--
-- Exclusion uses lease rows (holder, expires_at), never advisory locks: session locks break
-- behind a transaction pooler and transaction locks cannot span an HTTP call.

create extension if not exists pg_net with schema extensions;
create extension if not exists pg_cron with schema pg_catalog;
create extension if not exists supabase_vault with schema vault;

-- ---------------------------------------------------------------------------------------
-- Leases
create table internal.job_leases (
  job text not null,
  key text not null,
  holder text not null,
  acquired_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (job, key)
);
comment on table internal.job_leases is
  'One row per unit of work a job invocation holds (e.g. a tenant being synced). A lease past expires_at may be taken over.';
comment on column internal.job_leases.job is 'Job slug (the Edge Function name).';
comment on column internal.job_leases.key is 'The unit of work within the job, e.g. a tenant id.';
comment on column internal.job_leases.holder is 'The holding invocation (its job_runs id).';
comment on column internal.job_leases.acquired_at is 'When the current holder took the lease.';
comment on column internal.job_leases.expires_at is 'After this instant another invocation may take the lease.';

create function internal.lease_acquire(p_job text, p_key text, p_holder text, p_ttl_ms integer)
returns boolean
language sql
set search_path = ''
as $$
  -- One statement: inserts a free lease or takes over an expired one; a live lease of
  -- another holder makes the update's WHERE false, so nothing is returned.
  insert into internal.job_leases as l (job, key, holder, expires_at)
  values (p_job, p_key, p_holder, now() + make_interval(secs => p_ttl_ms / 1000.0))
  on conflict (job, key) do update
    set holder = excluded.holder, acquired_at = now(), expires_at = excluded.expires_at
    where l.expires_at < now() or l.holder = excluded.holder
  returning true
$$;
comment on function internal.lease_acquire(text, text, text, integer) is
  'Takes the lease (job, key) for p_holder for p_ttl_ms when it is free, expired or already held by p_holder; true when taken.';

create function internal.lease_release(p_job text, p_key text, p_holder text) returns boolean
language sql
set search_path = ''
as $$
  with gone as (
    delete from internal.job_leases where job = p_job and key = p_key and holder = p_holder
    returning 1
  )
  select exists (select 1 from gone)
$$;
comment on function internal.lease_release(text, text, text) is
  'Releases the lease if p_holder still holds it; true when released.';

revoke all on all functions in schema internal from public;

-- ---------------------------------------------------------------------------------------
-- Scheduling
create schema jobs;
revoke all on schema jobs from public, anon, authenticated;
comment on schema jobs is
  'Scheduling plumbing: which jobs exist, their schedules, invocations through pg_net, health. Not exposed by the Data API.';

create table jobs.registry (
  slug text primary key check (slug ~ '^[a-z][a-z0-9-]*$'),
  budget_ms integer not null check (budget_ms between 1000 and 400000),
  interval_seconds integer check (interval_seconds > 0),
  registered_at timestamptz not null default now()
);
comment on table jobs.registry is 'Every job function: its time budget and expected cadence.';
comment on column jobs.registry.slug is 'Edge Function name, called at <project_url>/functions/v1/<slug>.';
comment on column jobs.registry.budget_ms is
  'Time budget of one invocation; jobs.invoke waits this plus a margin before pg_net records a timeout.';
comment on column jobs.registry.interval_seconds is
  'How often the job should run; jobs.health flags it as silent after twice this without a run.';
comment on column jobs.registry.registered_at is 'When the job was registered.';

create table jobs.schedules (
  job_name text primary key,
  slug text not null references jobs.registry (slug) on delete cascade,
  cron text not null,
  body jsonb not null default '{}'
);
comment on table jobs.schedules is 'pg_cron schedules that invoke a job; job_name is the cron job name.';
comment on column jobs.schedules.job_name is 'Name of the pg_cron job (unique).';
comment on column jobs.schedules.slug is 'The job it invokes.';
comment on column jobs.schedules.cron is 'Cron expression (pg_cron 1.4: no seconds syntax).';
comment on column jobs.schedules.body is 'JSON body sent to the function.';

create table jobs.invocations (
  request_id bigint primary key,
  slug text not null,
  created_at timestamptz not null default now()
);
create index invocations_slug_created_idx on jobs.invocations (slug, created_at desc);
comment on table jobs.invocations is
  'Which job each pg_net request invoked, so health can join net._http_response errors to jobs.';
comment on column jobs.invocations.request_id is 'pg_net request id (net._http_response.id).';
comment on column jobs.invocations.slug is 'The job invoked.';
comment on column jobs.invocations.created_at is 'When the request was queued.';

create function jobs.register(p_slug text, p_budget_ms integer, p_interval_seconds integer)
returns void
language sql
set search_path = ''
as $$
  insert into jobs.registry (slug, budget_ms, interval_seconds)
  values (p_slug, p_budget_ms, p_interval_seconds)
  on conflict (slug) do update
    set budget_ms = excluded.budget_ms, interval_seconds = excluded.interval_seconds
$$;
comment on function jobs.register(text, integer, integer) is
  'Registers (or updates) a job with its budget and expected interval; idempotent.';

create function jobs.invoke(p_slug text, p_body jsonb default '{}') returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
  v_budget integer;
  v_request bigint;
begin
  select decrypted_secret into v_url from vault.decrypted_secrets where name = 'project_url';
  select decrypted_secret into v_key from vault.decrypted_secrets where name = 'service_role_key';
  -- pg_net silently drops NULL headers, so a missing secret would send an unauthenticated
  -- request; fail here instead, naming what is missing.
  if v_url is null or v_key is null then
    raise exception 'jobs.invoke(%): missing Vault secret%: %', p_slug,
      case when v_url is null and v_key is null then 's' else '' end,
      concat_ws(', ', case when v_url is null then 'project_url' end,
                      case when v_key is null then 'service_role_key' end)
      using errcode = 'P0001',
            hint = 'select vault.create_secret(<value>, ''project_url'') and ''service_role_key''';
  end if;
  select budget_ms into v_budget from jobs.registry where slug = p_slug;
  if v_budget is null then
    raise exception 'jobs.invoke: unknown job %', p_slug
      using errcode = 'P0002', hint = 'register it with jobs.register(slug, budget_ms, interval_seconds)';
  end if;
  -- pg_net's 5 s default would record every long run as timed out: wait the budget + 15 s.
  v_request := net.http_post(
    url := rtrim(v_url, '/') || '/functions/v1/' || p_slug,
    body := coalesce(p_body, '{}'::jsonb),
    headers := jsonb_build_object('Content-Type', 'application/json',
                                  'Authorization', 'Bearer ' || v_key),
    timeout_milliseconds := v_budget + 15000
  );
  insert into jobs.invocations (request_id, slug) values (v_request, p_slug);
  return v_request;
end
$$;
comment on function jobs.invoke(text, jsonb) is
  'POSTs p_body to the job function through pg_net with the service key from Vault; returns the pg_net request id. Sent after commit.';

create function jobs.schedule(p_job_name text, p_cron text, p_slug text, p_body jsonb default '{}')
returns bigint
language plpgsql
set search_path = ''
as $$
begin
  insert into jobs.schedules (job_name, slug, cron, body)
  values (p_job_name, p_slug, p_cron, coalesce(p_body, '{}'))
  on conflict (job_name) do update
    set slug = excluded.slug, cron = excluded.cron, body = excluded.body;
  -- cron.schedule with a name updates the existing job of that name: idempotent.
  return cron.schedule(p_job_name, p_cron,
    format('select jobs.invoke(%L, %L::jsonb)', p_slug, coalesce(p_body, '{}')::text));
end
$$;
comment on function jobs.schedule(text, text, text, jsonb) is
  'Creates or updates the pg_cron job p_job_name that invokes p_slug on p_cron; idempotent by name.';

create function jobs.unschedule(p_job_name text) returns void
language plpgsql
set search_path = ''
as $$
begin
  delete from jobs.schedules where job_name = p_job_name;
  perform cron.unschedule(jobid) from cron.job where jobname = p_job_name;
end
$$;
comment on function jobs.unschedule(text) is 'Removes a schedule and its pg_cron job.';

create function jobs.set_active(p_slug text, p_active boolean) returns integer
language sql
set search_path = ''
as $$
  -- An UPDATE of cron.job (pg_cron's trigger on it reloads the scheduler), rather than
  -- cron.alter_job, which pg_cron 1.4 does not grant to PUBLIC.
  with changed as (
    update cron.job c set active = p_active
      from jobs.schedules s
     where s.job_name = c.jobname and s.slug = p_slug
    returning 1
  )
  select count(*)::int from changed
$$;
comment on function jobs.set_active(text, boolean) is
  'Activates or deactivates every pg_cron job of a slug; returns how many.';

create function jobs.pause(p_slug text) returns integer
language sql
set search_path = ''
as $$ select jobs.set_active(p_slug, false) $$;
comment on function jobs.pause(text) is 'Pauses every schedule of a job (pg_cron active = false).';

create function jobs.resume(p_slug text) returns integer
language sql
set search_path = ''
as $$ select jobs.set_active(p_slug, true) $$;
comment on function jobs.resume(text) is 'Resumes every schedule of a job.';

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
),
paused as (
  -- A job whose schedules are all inactive (jobs.pause) is not expected to run.
  select s.slug, bool_and(not c.active) as paused
  from jobs.schedules s
  join cron.job c on c.jobname = s.job_name
  group by s.slug
)
select g.slug as job,
       g.interval_seconds,
       l.last_run_at,
       l.last_success_at,
       coalesce(s.consecutive_failures, 0) as consecutive_failures,
       coalesce(e.errors, 0) as invocation_errors,
       e.last_error_at as last_invocation_error_at,
       (g.interval_seconds is not null
        and not coalesce(p.paused, false)
        and coalesce(l.last_run_at, g.registered_at)
            < now() - make_interval(secs => 2 * g.interval_seconds)) as silent,
       (coalesce(s.consecutive_failures, 0) > 0
        or (e.last_error_at is not null
            and e.last_error_at > coalesce(l.last_success_at, '-infinity'))) as failing,
       coalesce(p.paused, false) as paused
from jobs.registry g
left join latest l on l.job = g.slug
left join streak s on s.job = g.slug
left join call_errors e on e.slug = g.slug
left join paused p on p.slug = g.slug;
comment on view jobs.health is
  'Per job: last run, last success, consecutive failed runs, invocation errors from pg_net, and silent (no run in twice its interval, unless paused) / failing / paused flags. pg_cron reports success whatever the function did; this is what alerts read.';

revoke all on all tables in schema jobs from public, anon, authenticated;
revoke all on all functions in schema jobs from public;
