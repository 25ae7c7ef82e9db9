-- Where reconciliation of an unknown_outcome envelope stands: its reads so far, when the next
-- may start, and the lease of the drain reading now. Kept apart from public.outbox so that
-- the envelope stays unknown_outcome while it is read back (nothing else claims it, the lease
-- reclaim never sees it, an operator may still resolve it) and outbox's columns stay as the
-- DLQ copies them.
--
-- One row per envelope, for its current unknown_outcome: `episode` is the envelope's attempts
-- when that began, so after a re-run parks it again the next claim starts a new count.
-- Found and absent delete the row; a row given up stays until the envelope leaves
-- unknown_outcome (the operator's resolve) and a later episode replaces it.
create table internal.outbox_reconcile (
  envelope_id uuid primary key references public.outbox (id) on delete cascade,
  episode integer not null check (episode >= 0),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  lease_token uuid,
  claimed_at timestamptz,
  claimed_by text,
  last_error text,
  gave_up_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger touch_updated_at before update on internal.outbox_reconcile
  for each row execute function internal.touch_updated_at();
alter table internal.outbox_reconcile enable row level security;

comment on table internal.outbox_reconcile is
  'Reconciliation of unknown_outcome envelopes whose tool declares a read-back: reads so far, the next one''s time, the current lease, and whether it was left for the operator. Service only.';
comment on column internal.outbox_reconcile.envelope_id is 'The envelope (unknown_outcome while the row is live).';
comment on column internal.outbox_reconcile.episode is 'outbox.attempts when this unknown_outcome began: a row of an earlier episode counts for nothing.';
comment on column internal.outbox_reconcile.attempts is 'Reads started in this episode (counted at the claim, so a drain that dies mid-read counts too).';
comment on column internal.outbox_reconcile.next_attempt_at is 'When a drain may read next; moved past the lease while one reads.';
comment on column internal.outbox_reconcile.lease_token is 'Token of the current read; the settle requires it.';
comment on column internal.outbox_reconcile.claimed_at is 'When the current (or last) read was claimed: an absence counts only if this is past the settle delay.';
comment on column internal.outbox_reconcile.claimed_by is 'Which drain invocation read last (for operators).';
comment on column internal.outbox_reconcile.last_error is 'Why the last read settled nothing.';
comment on column internal.outbox_reconcile.gave_up_at is 'When the reads were exhausted and the envelope left for the operator.';
comment on column internal.outbox_reconcile.created_at is 'When the first read of this envelope was claimed.';
comment on column internal.outbox_reconcile.updated_at is 'Last change, maintained by trigger.';
