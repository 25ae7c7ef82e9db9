-- Pause and resume go through cron.alter_job: on hosted, postgres may only SELECT cron.job
-- (supabase/postgres revokes its writes), so an UPDATE of cron.job fails there.
create function jobs.set_active(p_slug text, p_active boolean) returns integer
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
revoke all on function jobs.set_active(text, boolean) from public;
