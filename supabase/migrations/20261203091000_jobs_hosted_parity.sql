-- Scheduling that runs on hosted Supabase as it does locally.
--
-- * Pause and resume through cron.alter_job: on hosted, postgres may only SELECT cron.job
--   (supabase/postgres revokes its writes), so the UPDATE jobs.set_active did fails there.
-- * One definition of "paused": jobs.is_paused(slug), a job whose schedules are all inactive.
--   The enqueue kick, the runner's chaining and jobs.health all ask it.
-- * Missing Vault secrets are a state, not a stream of errors: after `db push` on a new
--   project the schedules tick before project_url and service_role_key are stored. While a
--   secret is missing, jobs.invoke sends nothing and records the job as not configured once
--   (jobs.not_configured, shown by jobs.health); the first invocation with both secrets
--   clears it.

create function jobs.is_paused(p_slug text) returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(bool_and(not c.active), false)
    from jobs.schedules s
    join cron.job c on c.jobname = s.job_name
   where s.slug = p_slug
$$;
revoke all on function jobs.is_paused(text) from public;
comment on function jobs.is_paused(text) is
  'True when the job has schedules and every one is inactive (jobs.pause). The one definition of paused: the enqueue kick, chaining and jobs.health use it.';

create or replace function jobs.set_active(p_slug text, p_active boolean) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_job bigint;
  v_count integer := 0;
begin
  -- cron.alter_job, not an UPDATE of cron.job: hosted grants postgres SELECT only there.
  for v_job in
    select c.jobid from cron.job c join jobs.schedules s on s.job_name = c.jobname
     where s.slug = p_slug order by c.jobid
  loop
    perform cron.alter_job(v_job, active := p_active);
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;
comment on function jobs.set_active(text, boolean) is
  'Activates or deactivates every pg_cron job of a slug through cron.alter_job; returns how many.';

create table jobs.not_configured (
  slug text primary key references jobs.registry (slug) on delete cascade,
  missing text[] not null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  skipped integer not null default 1 check (skipped > 0)
);
comment on table jobs.not_configured is
  'Jobs whose last invocation was skipped because Vault secrets are missing: one row per job, kept until an invocation finds them. jobs.health shows it.';
comment on column jobs.not_configured.slug is 'The job.';
comment on column jobs.not_configured.missing is 'Names of the missing Vault secrets.';
comment on column jobs.not_configured.first_seen_at is 'First skipped invocation.';
comment on column jobs.not_configured.last_seen_at is 'Latest skipped invocation.';
comment on column jobs.not_configured.skipped is 'How many invocations were skipped.';
revoke all on jobs.not_configured from public, anon, authenticated;

create or replace function jobs.invoke(p_slug text, p_body jsonb default '{}') returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
  v_budget integer;
  v_missing text[];
  v_request bigint;
begin
  select budget_ms into v_budget from jobs.registry where slug = p_slug;
  if v_budget is null then
    raise exception 'jobs.invoke: unknown job %', p_slug
      using errcode = 'P0002', hint = 'register it with jobs.register(slug, budget_ms, interval_seconds)';
  end if;
  select decrypted_secret into v_url from vault.decrypted_secrets where name = 'project_url';
  select decrypted_secret into v_key from vault.decrypted_secrets where name = 'service_role_key';
  v_missing := array_remove(array[case when v_url is null then 'project_url' end,
                                  case when v_key is null then 'service_role_key' end], null);
  -- pg_net silently drops NULL headers, so a missing key would send an unauthenticated
  -- request: send nothing, and record the state once instead of failing every tick.
  if cardinality(v_missing) > 0 then
    insert into jobs.not_configured as n (slug, missing) values (p_slug, v_missing)
    on conflict (slug) do update
      set missing = excluded.missing, last_seen_at = now(), skipped = n.skipped + 1;
    raise notice 'jobs.invoke(%): not configured, missing Vault secret%: %', p_slug,
      case when cardinality(v_missing) > 1 then 's' else '' end, array_to_string(v_missing, ', ');
    return null;
  end if;
  delete from jobs.not_configured where slug = p_slug;
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
  'POSTs p_body to the job function through pg_net with the service key from Vault; returns the pg_net request id (sent after commit). With a Vault secret missing it sends nothing, records the job in jobs.not_configured and returns NULL.';
revoke all on function jobs.invoke(text, jsonb) from public;

-- jobs.health: paused from jobs.is_paused; not_configured names what is missing. A job that
-- is not configured is not failing and not silent: it is waiting for its secrets.
create or replace view jobs.health with (security_invoker = true) as
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

-- The enqueue kick asks the one definition of paused, and jobs.invoke no longer raises for
-- missing secrets (it records them).
create or replace function internal.outbox_kick_drain() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from new_rows where status in ('pending', 'retry')) then
    return null;
  end if;
  if jobs.is_paused('outbox-drain') then
    return null;
  end if;
  -- SKIP LOCKED: a transaction that is kicking right now is enough for this burst too.
  perform 1 from internal.outbox_kick k
   where k.last_kick_at < now() - make_interval(secs => k.debounce_ms / 1000.0)
   for update skip locked;
  if not found then
    return null;
  end if;
  update internal.outbox_kick set last_kick_at = now();
  perform jobs.invoke('outbox-drain', '{"trigger": "enqueue"}'::jsonb);
  return null;
end
$$;
comment on function internal.outbox_kick_drain() is
  'AFTER INSERT statement trigger on outbox: invokes outbox-drain through pg_net, debounced by internal.outbox_kick, unless the drain is paused (jobs.is_paused). Without Vault secrets jobs.invoke records the job as not configured and sends nothing. SECURITY DEFINER: the inserting role needs no access to jobs or Vault.';

create or replace function internal.catalog_warm_scan() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status <> 'active'
     or (tg_op = 'UPDATE' and old.status = 'active' and old.toolkit = new.toolkit) then
    return null;
  end if;
  begin
    perform jobs.invoke('catalog-sync', jsonb_build_object(
      'tenant_id', new.tenant_id, 'toolkit', new.toolkit, 'warm', true));
  exception when others then
    -- Never fail the account change: the nightly sync catches up.
    raise warning 'warm scan of % for tenant % not invoked: %', new.toolkit, new.tenant_id,
      sqlerrm;
  end;
  return null;
end
$$;
comment on function internal.catalog_warm_scan() is
  'AFTER UPDATE trigger on connected_accounts: when an account becomes active, invokes catalog-sync for its tenant and toolkit with warm: true (which then runs an immediate trickle refresh). SECURITY DEFINER to read Vault for jobs.invoke; without Vault secrets jobs.invoke records the job as not configured.';
