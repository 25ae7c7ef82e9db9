-- What the audit export sent to its sink, one row per export. The sink is the evidence; this
-- is the project's own record of it: the exporter takes the previous export's name from here
-- (checking it against the sink), and the verifier compares the sink's newest export with
-- it, so an export deleted at the sink's end is named even when it was the newest.
create table internal.audit_exports (
  seq bigint primary key check (seq > 0),
  name text not null unique,
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
  exported_at timestamptz not null,
  chains integer not null check (chains >= 0),
  bytes integer not null check (bytes >= 0),
  recorded_at timestamptz not null default now()
);
alter table internal.audit_exports enable row level security;
comment on table internal.audit_exports is
  'Audit exports sent to the sink outside the project (supabase/functions/audit-export), one row each. RLS on, no policies: the job connects as postgres.';
comment on column internal.audit_exports.seq is 'The export''s sequence number (1, 2, …), as in its JSON.';
comment on column internal.audit_exports.name is 'Its object name at the sink.';
comment on column internal.audit_exports.hash is 'sha256 of its canonical JSON (without the hash field): what the next export carries as prev_hash.';
comment on column internal.audit_exports.prev_hash is 'The previous export''s hash (64 zeros for the first).';
comment on column internal.audit_exports.exported_at is 'The database time of its snapshot.';
comment on column internal.audit_exports.chains is 'How many chains it holds.';
comment on column internal.audit_exports.bytes is 'Its size in bytes.';
comment on column internal.audit_exports.recorded_at is 'When the sink accepted it.';
