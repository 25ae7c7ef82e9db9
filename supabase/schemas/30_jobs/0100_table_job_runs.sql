-- One row per job invocation. Written by the service (the job runner, _shared/job.ts).
create table public.job_runs (
  id bigint generated always as identity primary key,
  job text not null check (btrim(job) <> ''),
  -- NULL for runs over every tenant; those rows are visible to the service only.
  tenant_id uuid references public.tenants (id) on delete cascade,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  status text not null default 'running'
    check (status in ('running', 'succeeded', 'partial', 'failed', 'skipped')),
  counts jsonb not null default '{}' check (jsonb_typeof(counts) = 'object'),
  error text,
  invocation jsonb,
  constraint job_runs_finished_when_done check ((status = 'running') = (finished_at is null)),
  constraint job_runs_finished_after_start check (finished_at >= started_at)
);
create index job_runs_job_started_idx on public.job_runs (job, started_at desc);
create index job_runs_tenant_started_idx on public.job_runs (tenant_id, started_at desc)
  where tenant_id is not null;

comment on table public.job_runs is
  'One row per job invocation: start, end, status, counts, error. Members read their tenant''s runs; runs over all tenants are service-only.';
comment on column public.job_runs.id is 'Run id (logged as run_id).';
comment on column public.job_runs.job is 'Job slug (catalog-sync, outbox-drain, …).';
comment on column public.job_runs.tenant_id is 'The tenant the run was limited to; NULL for runs over all tenants.';
comment on column public.job_runs.started_at is 'When the run started.';
comment on column public.job_runs.finished_at is 'When it ended; NULL exactly while running.';
comment on column public.job_runs.status is 'running, succeeded, partial (budget ran out, work left), failed or skipped.';
comment on column public.job_runs.counts is 'What the run did, e.g. {"claimed": 10, "succeeded": 9}.';
comment on column public.job_runs.error is 'Error message of a failed run.';
comment on column public.job_runs.invocation is 'How it was invoked (trigger, request body without secrets).';

revoke truncate, references, trigger on public.job_runs from anon, authenticated;
alter table public.job_runs enable row level security;
-- tenant_id = claim is never true for NULL tenants: all-tenant runs stay service-only.
create policy job_runs_select_member on public.job_runs for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
