-- Missing Vault secrets are a state, not a stream of errors: after `db push` on a new
-- project the schedules tick before project_url and service_role_key are stored. While a
-- secret is missing, jobs.invoke sends nothing and records the job here once (shown by
-- jobs.health); the first invocation with both secrets clears it.
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
