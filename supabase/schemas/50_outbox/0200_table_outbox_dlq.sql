-- The dead-letter queue: envelopes that failed for good. Written by the service (the drain,
-- operators requeue); members read.
-- Every envelope column (10_schema checks it), so a requeue loses nothing; the original id
-- is kept.
create table public.outbox_dlq (
  id uuid primary key,
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
  status text not null
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
  moved_at timestamptz not null default now(),
  reason text,
  priority smallint not null default 5 check (priority between 0 and 9),
  constraint outbox_dlq_tenant_external_id_key unique (tenant_id, external_id)
);
-- A DLQ reason is a code, never free text; the message is last_error.
alter table public.outbox_dlq add constraint outbox_dlq_reason_is_code
  check (reason ~ '^[a-z][a-z0-9_]*$');
create index outbox_dlq_tenant_moved_idx on public.outbox_dlq (tenant_id, moved_at desc);
create trigger touch_updated_at before update on public.outbox_dlq
  for each row execute function internal.touch_updated_at();

comment on table public.outbox_dlq is
  'Dead-letter queue: envelopes that failed for good, moved out of outbox with their id. Operators requeue them; members read.';
comment on column public.outbox_dlq.id is 'The envelope''s id in outbox.';
comment on column public.outbox_dlq.tenant_id is 'The tenant.';
comment on column public.outbox_dlq.priority is 'The envelope''s priority, kept for a requeue.';
comment on column public.outbox_dlq.tool_slug is 'Composio tool.';
comment on column public.outbox_dlq.toolkit is 'Toolkit of the tool.';
comment on column public.outbox_dlq.arguments is 'Tool arguments. Never logged.';
comment on column public.outbox_dlq.connected_account_id is 'Composio connected account.';
comment on column public.outbox_dlq.risk is 'low, medium or high.';
comment on column public.outbox_dlq.read_only is 'The tool only reads.';
comment on column public.outbox_dlq.external_id is 'Caller''s idempotency key, unique per tenant.';
comment on column public.outbox_dlq.trust_context is 'Trust score and evidence ids at enqueue.';
comment on column public.outbox_dlq.metadata is 'Proposer details.';
comment on column public.outbox_dlq.status is 'Status when the envelope was dead-lettered.';
comment on column public.outbox_dlq.attempts is 'Attempts made before it was dead-lettered.';
comment on column public.outbox_dlq.next_run_at is 'next_run_at when it was dead-lettered.';
comment on column public.outbox_dlq.last_error is 'The error that dead-lettered it.';
comment on column public.outbox_dlq.lease_token is 'Lease token when moved (normally null).';
comment on column public.outbox_dlq.lease_expires_at is 'Lease expiry when moved (normally null).';
comment on column public.outbox_dlq.claimed_by is 'Last worker that held it.';
comment on column public.outbox_dlq.result is 'Tool output, if any.';
comment on column public.outbox_dlq.outcome is 'How the last execution ended.';
comment on column public.outbox_dlq.created_at is 'When the envelope was enqueued.';
comment on column public.outbox_dlq.updated_at is 'Last change, maintained by trigger.';
comment on column public.outbox_dlq.completed_at is 'When it reached a final status, if it did.';
comment on column public.outbox_dlq.moved_at is 'When it was moved to the DLQ.';
comment on column public.outbox_dlq.reason is
  'Why it was dead-lettered, as a code: non_retryable, max_attempts, invalid_arguments, version_unpinned, account_not_owned (the account is not the tenant''s at Composio) or a guardrail deny code. The message is in last_error.';

revoke truncate, references, trigger on public.outbox_dlq from anon, authenticated;
alter table public.outbox_dlq enable row level security;
create policy outbox_dlq_select_member on public.outbox_dlq for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
