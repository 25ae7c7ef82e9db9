-- Weighted fairness of the drain: each tenant's pass, the virtual time its share has reached
-- (stride scheduling). A claim serves the tenants with the lowest pass and adds 1/weight per
-- envelope it gives one (plans.fairness_weight), so backlogged tenants share a busy drain in
-- proportion to their weights and none waits forever: every claim raises the pass of whom it
-- served. A tenant returning after a pause starts at the pass of those recently served, not
-- at its old one, so it does not take the drain over.
create table internal.outbox_fair_share (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  pass double precision not null default 0 check (pass >= 0),
  claimed_at timestamptz not null default now()
);
create index outbox_fair_share_claimed_idx on internal.outbox_fair_share (claimed_at);
alter table internal.outbox_fair_share enable row level security;
comment on table internal.outbox_fair_share is
  'Per tenant, how far its weighted share of the drain has come (pass) and when it last got envelopes; written by outbox_claim under the tenant''s row lock. Service only.';
comment on column internal.outbox_fair_share.tenant_id is 'The tenant.';
comment on column internal.outbox_fair_share.pass is 'Envelopes claimed for the tenant divided by its plan''s fairness_weight, from the pass it started at.';
comment on column internal.outbox_fair_share.claimed_at is 'When a claim last gave the tenant envelopes.';
