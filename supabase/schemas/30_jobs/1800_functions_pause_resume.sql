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
revoke all on function jobs.pause(text) from public;
revoke all on function jobs.resume(text) from public;
