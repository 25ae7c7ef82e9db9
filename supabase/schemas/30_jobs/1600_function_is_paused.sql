-- One definition of "paused": a job whose schedules are all inactive (jobs.pause). The
-- enqueue kick, the runner's chaining and jobs.health all ask it.
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
