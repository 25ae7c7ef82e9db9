-- Evidence search runs the embedding model per query, so each user of a tenant gets a budget
-- of searches per minute from the tenant's plan (plans.search_per_minute): a token bucket
-- per (tenant, user), spent by search_budget_take before the model runs.
create table public.search_budgets (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  tokens numeric not null check (tokens >= 0),
  refilled_at timestamptz not null,
  primary key (tenant_id, user_id)
);
create index search_budgets_user_idx on public.search_budgets (user_id);

comment on table public.search_budgets is
  'Search budget per tenant and user: a token bucket holding up to the plan''s search_per_minute, refilled at that rate. Written only by search_budget_take; users read their own.';
comment on column public.search_budgets.tenant_id is 'The tenant searched.';
comment on column public.search_budgets.user_id is 'The user searching.';
comment on column public.search_budgets.tokens is 'Searches left as of refilled_at (fractional while refilling).';
comment on column public.search_budgets.refilled_at is 'The time tokens were computed for.';

revoke all on public.search_budgets from anon, authenticated;
grant select on public.search_budgets to authenticated;
alter table public.search_budgets enable row level security;
create policy search_budgets_select_own on public.search_budgets for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()) and user_id = (select auth.uid()));
