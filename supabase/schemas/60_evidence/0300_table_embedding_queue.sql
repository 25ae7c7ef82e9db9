-- The work queue of the embedding-reindexer, fed by triggers on the sources. Why a queue
-- and not a time watermark: a row whose transaction commits late carries an older
-- created_at than rows already processed, so "everything after the last run" skips it. A
-- queue row becomes visible when its source commits, whenever that is.
create table internal.embedding_queue (
  source_type text not null check (source_type in ('evidence', 'audit', 'approval')),
  source_id text not null,
  tenant_id uuid not null,
  generation bigint not null default 1,
  force boolean not null default false,
  enqueued_at timestamptz not null default now(),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  claimed_by text,
  last_error text,
  primary key (source_type, source_id)
);
create index embedding_queue_due_idx on internal.embedding_queue (next_attempt_at);
create index embedding_queue_tenant_idx on internal.embedding_queue (tenant_id);
alter table internal.embedding_queue enable row level security;

comment on table internal.embedding_queue is
  'Sources whose embeddings are due: one row per source, fed by triggers on evidence, approvals and audit_log, claimed with FOR UPDATE SKIP LOCKED, deleted when embedded.';
comment on column internal.embedding_queue.source_type is 'evidence, audit or approval.';
comment on column internal.embedding_queue.source_id is 'Id of the source row, as text.';
comment on column internal.embedding_queue.tenant_id is 'The source''s tenant (no foreign key: a deleted tenant''s rows are dropped when claimed).';
comment on column internal.embedding_queue.generation is
  'Bumped on every re-enqueue; completion deletes the row only if it still has the claimed generation, so a change made while a worker embedded is not lost.';
comment on column internal.embedding_queue.force is 'Re-embed even chunks whose content hash is unchanged (nightly refresh, model change).';
comment on column internal.embedding_queue.enqueued_at is 'When the source last changed (or was re-enqueued).';
comment on column internal.embedding_queue.attempts is 'Failed attempts since the last change.';
comment on column internal.embedding_queue.next_attempt_at is
  'Due from this instant. A claim moves it to the end of the lease, so a crashed worker''s rows become due again by themselves.';
comment on column internal.embedding_queue.claimed_by is 'The job run holding it (NULL when not claimed).';
comment on column internal.embedding_queue.last_error is 'Error of the last failed attempt.';
