-- Plans: what a tenant may choose within, owned by the service. Owners set their guardrails
-- inside their plan's limits (guardrails_within_plan); outbox fairness weighs tenants by
-- fairness_weight; the tasks gateway counts task_quota_per_day; evidence search spends
-- search_per_minute.
create table public.plans (
  slug text primary key check (slug ~ '^[a-z][a-z0-9_]*$'),
  name text not null check (btrim(name) <> ''),
  concurrency_cap_max int not null check (concurrency_cap_max >= 1),
  max_attempts_max int not null check (max_attempts_max >= 1),
  trust_threshold_min numeric not null check (trust_threshold_min between 0 and 1),
  fairness_weight int not null check (fairness_weight between 1 and 1000),
  task_quota_per_day int not null check (task_quota_per_day >= 0),
  search_per_minute int not null check (search_per_minute >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger touch_updated_at before update on public.plans
  for each row execute function internal.touch_updated_at();
create trigger audit_change after insert or update or delete on public.plans
  for each row execute function internal.audit_row_change();

comment on table public.plans is
  'Service-owned plans a tenant is on (tenants.plan): the limits its owners choose guardrails within, its fairness weight, quotas. Every user may read them; only the service writes.';
comment on column public.plans.slug is 'Plan id, referenced by tenants.plan.';
comment on column public.plans.name is 'Display name.';
comment on column public.plans.concurrency_cap_max is 'Highest guardrails.concurrency_cap a tenant on this plan may set.';
comment on column public.plans.max_attempts_max is 'Highest value of any tier in guardrails.max_attempts.';
comment on column public.plans.trust_threshold_min is 'Lowest guardrails.trust_threshold: below it, envelopes would skip approval too easily.';
comment on column public.plans.fairness_weight is 'Share of a busy drain a tenant gets relative to others (1 = one share).';
comment on column public.plans.task_quota_per_day is 'Tasks a tenant may start per day (the tasks gateway).';
comment on column public.plans.search_per_minute is 'Evidence searches each user of the tenant may run per minute.';
comment on column public.plans.created_at is 'When the plan was created.';
comment on column public.plans.updated_at is 'Last change, maintained by trigger.';

revoke truncate, references, trigger on public.plans from anon, authenticated;
revoke insert, update, delete on public.plans from anon, authenticated;
alter table public.plans enable row level security;
-- Plans are price-list information, not tenant data: every signed-in user may read them.
create policy plans_select_authenticated on public.plans for select to authenticated
  using (true);

insert into public.plans (slug, name, concurrency_cap_max, max_attempts_max,
                          trust_threshold_min, fairness_weight, task_quota_per_day,
                          search_per_minute) values
  ('free', 'Free', 2, 5, 0.5, 1, 100, 30),
  ('pro', 'Pro', 16, 10, 0.3, 2, 5000, 120),
  ('enterprise', 'Enterprise', 1000, 100, 0, 4, 1000000, 600);
