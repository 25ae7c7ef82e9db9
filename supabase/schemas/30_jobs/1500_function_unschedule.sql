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
revoke all on function jobs.unschedule(text) from public;
