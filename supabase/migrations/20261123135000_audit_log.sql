-- audit_log: the append-only record of what jobs, agents and people did, per tenant.
-- (Hash chain, immutability triggers, retention and audited writes come with the
-- tamper-evidence migration that follows.)

create table public.audit_log (
  id bigint generated always as identity primary key,
  tenant_id uuid references public.tenants (id) on delete restrict,
  actor_type text not null check (actor_type in ('user', 'agent', 'job', 'system', 'operator')),
  actor_id text,
  category text not null check (category ~ '^[a-z][a-z0-9_]*$'),
  envelope_id uuid,
  payload jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index audit_log_tenant_created_idx on public.audit_log (tenant_id, created_at desc);
create index audit_log_envelope_idx on public.audit_log (envelope_id) where envelope_id is not null;

comment on table public.audit_log is
  'Append-only log of what jobs, agents, operators and users did, per tenant. Never holds tool arguments or secrets.';
comment on column public.audit_log.id is 'Identity; insertion order across tenants.';
comment on column public.audit_log.tenant_id is 'Tenant the event belongs to; NULL for system-wide events.';
comment on column public.audit_log.actor_type is 'Who acted: user, agent, job, system or operator.';
comment on column public.audit_log.actor_id is 'The actor: a user id, a job name with its run id, an operator name.';
comment on column public.audit_log.category is 'Event kind, e.g. outbox_succeeded, catalog_sync, catalog_drift, auth_policy, config_change.';
comment on column public.audit_log.envelope_id is 'The outbox envelope the event concerns, when there is one (no foreign key: envelopes move to the DLQ).';
comment on column public.audit_log.payload is 'Event details: counts, statuses, reasons, changed column names. No tool arguments, no secrets.';
comment on column public.audit_log.created_at is 'When the event was recorded.';

alter table public.audit_log enable row level security;
revoke truncate, references, trigger on public.audit_log from anon, authenticated;
-- Members read their tenant's log; nobody writes through the Data API (jobs connect as
-- postgres, which bypasses RLS).
create policy audit_log_select_member on public.audit_log
  for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
