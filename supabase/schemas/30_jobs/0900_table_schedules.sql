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
revoke all on jobs.schedules from public, anon, authenticated;
