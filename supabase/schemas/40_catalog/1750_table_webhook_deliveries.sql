-- Breaking-drift webhooks to send, and what came of each attempt. catalog_drift_record
-- queues a row in the snapshot's own transaction (pg_net cannot check where a name
-- resolves before it connects); drift-monitor sends due rows once the snapshot has
-- committed, through _shared/webhook_send.ts, which checks the URL and every address the
-- host resolves to and connects only to a checked address. Failures are retried on later
-- runs with backoff (webhook_record_attempt). Written by the service only; owners read
-- their tenant's rows: they set the URL and act on its failures.
create table public.webhook_deliveries (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  event text not null check (event ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
  -- No foreign key: the body names the snapshot; deliveries are a log of their own.
  catalog_audit_id bigint,
  url text not null,
  body jsonb not null check (jsonb_typeof(body) = 'object'),
  status text not null default 'pending'
    check (status in ('pending', 'delivered', 'failed', 'refused')),
  attempts int not null default 0 check (attempts >= 0),
  max_attempts int not null default 5 check (max_attempts between 1 and 20),
  next_attempt_at timestamptz not null default now(),
  last_error text,
  last_http_status int,
  attempt_log jsonb not null default '[]' check (jsonb_typeof(attempt_log) = 'array'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
create index webhook_deliveries_due_idx on public.webhook_deliveries (next_attempt_at)
  where status = 'pending';
create index webhook_deliveries_tenant_created_idx
  on public.webhook_deliveries (tenant_id, created_at desc);
create trigger touch_updated_at before update on public.webhook_deliveries
  for each row execute function internal.touch_updated_at();

comment on table public.webhook_deliveries is
  'Webhooks to send (drift-monitor''s catalog_drift.breaking), one row per event, with the outcome of every attempt. Queued by catalog_drift_record, sent by drift-monitor to a checked public address, retried with backoff. Written by the service; owners read their tenant''s rows.';
comment on column public.webhook_deliveries.id is 'Delivery id, sent as the x-webhook-delivery header (receivers can tell a retry from a new event).';
comment on column public.webhook_deliveries.tenant_id is 'The tenant whose webhook it is.';
comment on column public.webhook_deliveries.event is 'Event name, the body''s event field (catalog_drift.breaking).';
comment on column public.webhook_deliveries.catalog_audit_id is 'The drift snapshot (catalog_audit.id) the event reports.';
comment on column public.webhook_deliveries.url is 'guardrails.drift_webhook_url when the event was queued; checked again at every attempt.';
comment on column public.webhook_deliveries.body is 'The JSON body POSTed.';
comment on column public.webhook_deliveries.status is 'pending (due at next_attempt_at), delivered (a 2xx), failed (the receiver refused, a redirect, or max_attempts reached), refused (the URL or an address its host resolves to is not allowed; never sent).';
comment on column public.webhook_deliveries.attempts is 'Attempts made (counted when a run claims the row).';
comment on column public.webhook_deliveries.max_attempts is 'Attempts before a retryable failure becomes failed.';
comment on column public.webhook_deliveries.next_attempt_at is 'When the next attempt is due (pending rows), or when the claiming run''s lease ends.';
comment on column public.webhook_deliveries.last_error is 'Why the last attempt did not deliver; names the host and address, never the URL''s path or query.';
comment on column public.webhook_deliveries.last_http_status is 'HTTP status of the last answer, when there was one.';
comment on column public.webhook_deliveries.attempt_log is 'Every attempt: [{attempt, at, outcome, http_status, address, error, ms}], oldest first.';
comment on column public.webhook_deliveries.created_at is 'When the event was queued.';
comment on column public.webhook_deliveries.updated_at is 'Last change, maintained by trigger.';
comment on column public.webhook_deliveries.finished_at is 'When it was delivered, failed or refused.';

revoke truncate, references, trigger on public.webhook_deliveries from anon, authenticated;
alter table public.webhook_deliveries enable row level security;
create policy webhook_deliveries_select_owner on public.webhook_deliveries for select
  to authenticated
  using (tenant_id = (select internal.active_tenant_id())
         and (select internal.active_tenant_role()) = 'owner');
