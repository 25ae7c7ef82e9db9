-- audit_log: the append-only, tamper-evident record of what jobs, agents and people did,
-- per tenant. Hash-chained per tenant (internal.audit_log_chain) and immutable for every
-- role (internal.audit_log_immutable), except retention (internal.audit_log_retain).
-- The table owner can still disable triggers or become audit_retention (postgres has
-- CREATEROLE): against the database owner the log is tamper-evident, not tamper-proof.
-- internal.audit_log_verify(tenant) names the first row that does not fit its chain.
create table public.audit_log (
  id bigint generated always as identity primary key,
  -- No foreign key: the log outlives what it records (a deleted tenant's history stays,
  -- and the deletion itself is audited under the tenant's id).
  tenant_id uuid,
  actor_type text not null check (actor_type in ('user', 'agent', 'job', 'system', 'operator')),
  actor_id text,
  category text not null check (category ~ '^[a-z][a-z0-9_]*$'),
  envelope_id uuid,
  payload jsonb not null default '{}',
  created_at timestamptz not null default now(),
  seq bigint not null,
  prev_hash text not null,
  hash text not null,
  constraint audit_log_tenant_seq_key unique nulls not distinct (tenant_id, seq)
);
create index audit_log_tenant_created_idx on public.audit_log (tenant_id, created_at desc);
create index audit_log_envelope_idx on public.audit_log (envelope_id) where envelope_id is not null;

comment on table public.audit_log is
  'Append-only log of what jobs, agents, operators and users did, per tenant; never holds tool arguments or secrets. Hash-chained per tenant (seq, prev_hash, hash) and immutable for every role by ENABLE ALWAYS triggers, except retention (internal.audit_log_retain). Against the database owner (who can disable triggers) it is tamper-evident, not tamper-proof: internal.audit_log_verify names the first altered row.';
comment on column public.audit_log.id is 'Identity; insertion order across tenants.';
comment on column public.audit_log.tenant_id is 'Tenant the event belongs to; NULL for system-wide events. No foreign key: the log outlives deleted tenants.';
comment on column public.audit_log.actor_type is 'Who acted: user, agent, job, system or operator.';
comment on column public.audit_log.actor_id is 'The actor: a user id, a job name with its run id, an operator name, a database role.';
comment on column public.audit_log.category is 'Event kind, e.g. outbox_succeeded, catalog_sync, catalog_drift, auth_policy, config_change, audit_retention.';
comment on column public.audit_log.envelope_id is 'The outbox envelope the event concerns, when there is one (no foreign key: envelopes move to the DLQ).';
comment on column public.audit_log.payload is 'Event details: counts, statuses, reasons, changed column names. No tool arguments, no secrets.';
comment on column public.audit_log.created_at is 'When the event was recorded.';
comment on column public.audit_log.seq is 'Position in the tenant''s chain (1, 2, …; unique per tenant), set by trigger.';
comment on column public.audit_log.prev_hash is 'hash of the previous row of the chain (64 zeros before the first), set by trigger.';
comment on column public.audit_log.hash is 'sha256 hex of prev_hash || internal.audit_canonical(row), set by trigger.';

alter table public.audit_log enable row level security;
revoke truncate, references, trigger on public.audit_log from anon, authenticated;
-- Members read their tenant's log; nobody writes through the Data API (jobs connect as
-- postgres, which bypasses RLS).
create policy audit_log_select_member on public.audit_log
  for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));

-- Retention: the only way rows leave. RLS lets the retention role read, delete and add
-- its own rows; the immutability trigger lets its DELETE through.
create policy audit_log_select_retention on public.audit_log
  for select to audit_retention using (true);
create policy audit_log_delete_retention on public.audit_log
  for delete to audit_retention using (true);
create policy audit_log_insert_retention on public.audit_log
  for insert to audit_retention with check (category = 'audit_retention');
grant select, insert, delete on public.audit_log to audit_retention;

create trigger audit_log_chain before insert on public.audit_log
  for each row execute function internal.audit_log_chain();
create trigger audit_log_chain_heads after insert on public.audit_log
  referencing new table as new_rows
  for each statement execute function internal.audit_log_chain_heads();
alter table public.audit_log enable always trigger audit_log_chain;
alter table public.audit_log enable always trigger audit_log_chain_heads;
create trigger audit_log_immutable_row before update or delete on public.audit_log
  for each row execute function internal.audit_log_immutable();
create trigger audit_log_immutable_truncate before truncate on public.audit_log
  for each statement execute function internal.audit_log_immutable();
alter table public.audit_log enable always trigger audit_log_immutable_row;
alter table public.audit_log enable always trigger audit_log_immutable_truncate;
