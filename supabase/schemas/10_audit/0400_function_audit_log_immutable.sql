-- Append-only for every role, postgres and the superuser included: UPDATE, DELETE and
-- TRUNCATE on audit_log are rejected by triggers set ENABLE ALWAYS (session_replication_role
-- = replica does not skip them). The one exception is DELETE executed as the NOLOGIN role
-- audit_retention, which only the retention function runs as, and only of a row older than
-- the retention window: whoever becomes audit_retention still cannot erase the recent past.
-- No setting turns this off.
-- SECURITY INVOKER on purpose: current_user is then the role executing the statement.
create function internal.audit_log_immutable() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and current_user = 'audit_retention' then
    if old.created_at < now() - internal.audit_retention_window() then
      return old;
    end if;
    raise exception 'audit_log row % (seq % of its chain) is inside the retention window of %',
      old.id, old.seq, internal.audit_retention_window()
      using errcode = 'PT405',
            hint = 'Retention deletes only rows older than internal.audit_retention_window().';
  end if;
  raise exception 'audit_log is append-only: % is not allowed', tg_op
    using errcode = 'PT405',
          hint = 'Old rows leave only through internal.audit_log_retain(keep interval).';
end
$$;
comment on function internal.audit_log_immutable() is
  'BEFORE UPDATE/DELETE (row) and TRUNCATE (statement) on audit_log: rejects them (PT405) for every role; lets DELETE through only when executing as audit_retention and only of rows older than internal.audit_retention_window().';
revoke all on function internal.audit_log_immutable() from public;
