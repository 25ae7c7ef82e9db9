-- Jobs: one row per job invocation (job_runs) and the per tenant × toolkit token buckets
-- that keep tool calls within provider rate limits. Written by the service.

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

-- ---------------------------------------------------------------------------------------
create table public.rate_buckets (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  toolkit text not null,
  capacity numeric not null default 60 check (capacity > 0),
  tokens numeric not null default 60 check (tokens >= 0),
  refill_per_second numeric not null default 1 check (refill_per_second >= 0),
  refilled_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, toolkit)
);
create trigger touch_updated_at before update on public.rate_buckets
  for each row execute function internal.touch_updated_at();

comment on table public.rate_buckets is
  'Token bucket per tenant × toolkit; rate_bucket_take refills and spends it. Members read.';
comment on column public.rate_buckets.tenant_id is 'The tenant.';
comment on column public.rate_buckets.toolkit is 'Toolkit slug.';
comment on column public.rate_buckets.capacity is 'Most tokens the bucket holds (burst size).';
comment on column public.rate_buckets.tokens is 'Tokens left as of refilled_at.';
comment on column public.rate_buckets.refill_per_second is 'Tokens added per second, up to capacity.';
comment on column public.rate_buckets.refilled_at is 'The time tokens were computed for (the refill clock, wall-clock time of the last take).';
comment on column public.rate_buckets.updated_at is 'Last change, maintained by trigger.';

-- Refill by elapsed time (capped at capacity), then grant what is available up to the
-- wish, in one statement under the bucket's row lock. Uses clock_timestamp(), not the
-- transaction start, and never moves refilled_at backwards, so concurrent takes cannot
-- count the same elapsed time twice.
create function public.rate_bucket_take(p_tenant_id uuid, p_toolkit text, p_wanted int)
returns int
language plpgsql
set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_granted int;
begin
  if p_wanted is null or p_wanted < 0 then
    raise exception 'p_wanted must be a non-negative integer, got %', p_wanted
      using errcode = '22023';
  end if;

  insert into public.rate_buckets (tenant_id, toolkit, refilled_at)
  values (p_tenant_id, p_toolkit, v_now)
  on conflict (tenant_id, toolkit) do nothing;

  with bucket as (
    select tenant_id, toolkit,
           least(capacity,
                 tokens + refill_per_second
                          * greatest(0, extract(epoch from v_now - refilled_at))) as available
      from public.rate_buckets
     where tenant_id = p_tenant_id and toolkit = p_toolkit
       for update
  )
  update public.rate_buckets r
     set tokens = b.available - least(p_wanted, floor(b.available)),
         refilled_at = greatest(r.refilled_at, v_now)
    from bucket b
   where r.tenant_id = b.tenant_id and r.toolkit = b.toolkit
  returning least(p_wanted, floor(b.available))::int into v_granted;
  return v_granted;
end
$$;
revoke execute on function public.rate_bucket_take(uuid, text, int) from public, anon, authenticated;
grant execute on function public.rate_bucket_take(uuid, text, int) to service_role;
comment on function public.rate_bucket_take(uuid, text, int) is
  'Takes up to p_wanted tokens from the (tenant, toolkit) bucket and returns how many were granted (0..p_wanted), refilling first; creates the bucket (capacity 60, 1 token/s) if missing. Executable by service_role (and postgres).';

-- ---------------------------------------------------------------------------------------
revoke truncate, references, trigger on public.job_runs, public.rate_buckets
  from anon, authenticated;

alter table public.job_runs enable row level security;
alter table public.rate_buckets enable row level security;

-- tenant_id = claim is never true for NULL tenants: all-tenant runs stay service-only.
create policy job_runs_select_member on public.job_runs for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy rate_buckets_select_member on public.rate_buckets for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
