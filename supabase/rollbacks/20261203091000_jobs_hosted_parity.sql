-- Reverts 20261203091000_jobs_hosted_parity.sql: the earlier bodies of jobs.set_active,
-- jobs.invoke, jobs.health, the enqueue kick and the warm scan.
create or replace function jobs.set_active(p_slug text, p_active boolean) returns integer
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

create or replace function jobs.invoke(p_slug text, p_body jsonb default '{}') returns bigint
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

drop view jobs.health;
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
revoke all on jobs.health from public, anon, authenticated;

create or replace function internal.outbox_kick_drain() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from new_rows where status in ('pending', 'retry')) then
    return null;
  end if;
  if not exists (select 1 from cron.job j
                  where j.jobname = 'outbox-drain-every-minute' and j.active) then
    return null; -- paused
  end if;
  -- SKIP LOCKED: a transaction that is kicking right now is enough for this burst too.
  perform 1 from internal.outbox_kick k
   where k.last_kick_at < now() - make_interval(secs => k.debounce_ms / 1000.0)
   for update skip locked;
  if not found then
    return null;
  end if;
  update internal.outbox_kick set last_kick_at = now();
  begin
    perform jobs.invoke('outbox-drain', '{"trigger": "enqueue"}'::jsonb);
  exception when others then
    -- No Vault secrets yet (seeding, a fresh project): the schedule will drain.
    raise notice 'outbox kick skipped: %', sqlerrm;
  end;
  return null;
end
$$;
comment on function internal.outbox_kick_drain() is
  'AFTER INSERT statement trigger on outbox: invokes outbox-drain through pg_net, debounced by internal.outbox_kick, unless the drain is paused; skips with a NOTICE when jobs.invoke cannot (missing Vault secrets). SECURITY DEFINER: the inserting role needs no access to jobs or Vault.';

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
  -- Seeding runs before the stack stores the secrets; jobs.invoke would raise.
  if (select count(distinct name) from vault.decrypted_secrets
       where name in ('project_url', 'service_role_key')) < 2 then
    raise notice 'warm scan of % for tenant % skipped: Vault secrets project_url and service_role_key are not set',
      new.toolkit, new.tenant_id;
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
  'AFTER UPDATE trigger on connected_accounts: when an account becomes active, invokes catalog-sync for its tenant and toolkit with warm: true (which then runs an immediate trickle refresh). SECURITY DEFINER to read Vault for jobs.invoke; skips with a NOTICE when the secrets are missing.';

drop table jobs.not_configured;
drop function jobs.is_paused(text);

delete from supabase_migrations.schema_migrations where version = '20261203091000';
