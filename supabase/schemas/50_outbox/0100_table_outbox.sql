-- The outbox: envelopes (approved tool calls) awaiting execution by outbox-drain. Envelopes
-- enter through public.enqueue_envelope (service_role) and are executed and settled through
-- the outbox_* functions; owners decide needs_approval envelopes through approve_envelope /
-- reject_envelope. The queue is written by the service; members read.
create table public.outbox (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_slug text not null,
  toolkit text not null,
  arguments jsonb not null default '{}' check (jsonb_typeof(arguments) = 'object'),
  connected_account_id text,
  risk text not null check (risk in ('low', 'medium', 'high')),
  read_only boolean not null default false,
  external_id text,
  trust_context jsonb not null default '{}' check (jsonb_typeof(trust_context) = 'object'),
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  status text not null default 'pending'
    check (status in ('pending', 'running', 'succeeded', 'retry', 'deferred', 'needs_approval',
                      'conflict', 'unknown_outcome', 'rejected')),
  attempts int not null default 0 check (attempts >= 0),
  next_run_at timestamptz not null default now(),
  last_error text,
  lease_token uuid,
  lease_expires_at timestamptz,
  claimed_by text,
  result jsonb,
  outcome text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  -- 0 (last) to 9 (first); claimed by priority, then due time, within the tenant's share.
  priority smallint not null default 5 check (priority between 0 and 9),
  -- Idempotency key per tenant. Not global: a global unique index would tell one tenant
  -- that another already used an id.
  constraint outbox_tenant_external_id_key unique (tenant_id, external_id),
  -- What references an envelope names its tenant too, so it cannot point across tenants.
  constraint outbox_tenant_id_id_key unique (tenant_id, id),
  -- A running envelope is always under a lease, so an expired lease can be reclaimed.
  constraint outbox_running_has_lease
    check (status <> 'running' or (lease_token is not null and lease_expires_at is not null))
);
-- Due polling: only the statuses drain picks up, ordered by when they are due.
create index outbox_due_idx on public.outbox (next_run_at) where internal.outbox_waiting(status);
-- Reclaiming envelopes whose lease expired.
create index outbox_lease_expiry_idx on public.outbox (lease_expires_at) where status = 'running';
-- Tenant dashboards and per-tenant counts (queue depth, running vs concurrency cap).
create index outbox_tenant_created_idx on public.outbox (tenant_id, created_at desc);
create index outbox_tenant_status_idx on public.outbox (tenant_id, status);
-- Per-tenant due scan for the claim: a tenant's due envelopes in claim order (priority, then
-- due time), without scanning other tenants' backlog.
create index outbox_tenant_due_idx on public.outbox (tenant_id, priority desc, next_run_at)
  where internal.outbox_waiting(status);
-- Live leases per tenant (the concurrency cap counts them).
create index outbox_tenant_running_idx on public.outbox (tenant_id) where status = 'running';
-- Unknown outcomes, oldest first: reconciliation reads back only these
-- (outbox_reconcile_claim), without scanning the rest of the queue.
create index outbox_unknown_outcome_idx on public.outbox (completed_at)
  where status = 'unknown_outcome';
create trigger touch_updated_at before update on public.outbox
  for each row execute function internal.touch_updated_at();

comment on table public.outbox is
  'Envelopes: tool calls accepted for execution, one row each, executed by outbox-drain under guardrails. Enqueued with enqueue_envelope; written by the service; members read.';
comment on column public.outbox.id is 'Envelope id (kept when moved to outbox_dlq).';
comment on column public.outbox.tenant_id is 'The tenant.';
comment on column public.outbox.tool_slug is 'Composio tool to execute.';
comment on column public.outbox.toolkit is 'Toolkit of the tool, copied from the catalog at enqueue (rate buckets, allowed toolkits).';
comment on column public.outbox.arguments is 'Tool arguments (a JSON object). Never logged.';
comment on column public.outbox.connected_account_id is 'Composio connected account to execute with.';
comment on column public.outbox.risk is 'low, medium or high, copied from the catalog at enqueue; selects max attempts and approval.';
comment on column public.outbox.read_only is 'The tool only reads (catalog read_only at enqueue).';
comment on column public.outbox.external_id is 'Caller''s idempotency key, unique per tenant; enqueueing it again returns the existing envelope.';
comment on column public.outbox.trust_context is 'Why the agent trusts the call: score in [0, 1] at ->score, evidence ids at ->evidence.';
comment on column public.outbox.metadata is 'Free-form details from the proposer (objective, task, proposal summary).';
comment on column public.outbox.status is 'pending, running, succeeded, retry, deferred, needs_approval, conflict, unknown_outcome or rejected.';
comment on column public.outbox.attempts is 'Execution attempts so far (>= 0).';
comment on column public.outbox.next_run_at is 'Not executed before this time (backoff, quiet hours).';
comment on column public.outbox.last_error is 'Error of the last failed attempt.';
comment on column public.outbox.lease_token is 'Token of the current claim; completing requires it, so a stale worker cannot overwrite.';
comment on column public.outbox.lease_expires_at is 'When the current claim lapses and the envelope may be reclaimed.';
comment on column public.outbox.claimed_by is 'Which worker invocation holds the claim (for operators).';
comment on column public.outbox.result is 'Tool output of the successful execution.';
comment on column public.outbox.outcome is 'How the last execution ended, in the executor''s words (e.g. success, http_409, timeout).';
comment on column public.outbox.created_at is 'When the envelope was enqueued.';
comment on column public.outbox.updated_at is 'Last change, maintained by trigger.';
comment on column public.outbox.completed_at is 'When the envelope reached a final status.';
comment on column public.outbox.priority is '0 to 9, default 5: within a tenant''s share of the drain, higher priorities are claimed first, then the earliest due.';

revoke truncate, references, trigger on public.outbox from anon, authenticated;
alter table public.outbox enable row level security;
create policy outbox_select_member on public.outbox for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
