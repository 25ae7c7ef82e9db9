-- Exclusion across HTTP invocations of a job uses lease rows (holder, expires_at), never
-- advisory locks: session locks break behind a transaction pooler and transaction locks
-- cannot span an HTTP call.
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
