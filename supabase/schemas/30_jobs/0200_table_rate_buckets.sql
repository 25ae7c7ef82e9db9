-- Token buckets per tenant × toolkit that keep tool calls within provider rate limits.
-- Written by the service through rate_bucket_take.
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

revoke truncate, references, trigger on public.rate_buckets from anon, authenticated;
alter table public.rate_buckets enable row level security;
create policy rate_buckets_select_member on public.rate_buckets for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
