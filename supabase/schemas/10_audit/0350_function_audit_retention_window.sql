-- How long audit_log rows are kept at least. One definition, read by the immutability
-- trigger (retention may delete only older rows), by retention itself and by the audit
-- export (each export records it; the verifier compares it with its own). Changing it is a
-- CREATE FUNCTION, which the trigger-DDL event trigger audits.
create function internal.audit_retention_window() returns interval
language sql
immutable
parallel safe
set search_path = ''
as $$ select interval '90 days' $$;
comment on function internal.audit_retention_window() is
  'The audit_log retention window: rows younger than this are never deleted, whoever calls (enforced by internal.audit_log_immutable).';
revoke all on function internal.audit_retention_window() from public;
grant execute on function internal.audit_retention_window() to audit_retention;
