-- Where the audit export resumes its search for each chain's first young row: that row only
-- moves forward (rows age, and new rows come after it), so each export reads the rows that
-- aged since the last one instead of every old row again. A wrong mark cannot make an
-- export claim anything false: it reports the seq and created_at of a real row, and a mark
-- set too far only weakens what the export protects (see docs/audit.md).
create table internal.audit_export_marks (
  chain_key uuid primary key,
  seq bigint not null check (seq >= 0)
);
alter table internal.audit_export_marks enable row level security;
comment on table internal.audit_export_marks is
  'Per chain, the seq from which the audit export looks for the first row still inside the retention window (plus the export horizon). Bookkeeping of internal.audit_export_snapshot; RLS on, no policies.';
comment on column internal.audit_export_marks.chain_key is 'As internal.audit_chain_heads.chain_key.';
comment on column internal.audit_export_marks.seq is
  'First seq the next export examines: the last export''s young row, or the head + 1 when every row was old.';
