-- Append-only for every role, postgres and the superuser included: UPDATE, DELETE and
-- TRUNCATE on audit_log are rejected by triggers set ENABLE ALWAYS (session_replication_role
-- = replica does not skip them). The one exception is DELETE executed as the NOLOGIN role
-- audit_retention, which only the retention function runs as. No setting turns this off.
-- SECURITY INVOKER on purpose: current_user is then the role executing the statement.
create function internal.audit_log_immutable() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and current_user = 'audit_retention' then
    return old;
  end if;
  raise exception 'audit_log is append-only: % is not allowed', tg_op
    using errcode = 'PT405',
          hint = 'Old rows leave only through internal.audit_log_retain(keep interval).';
end
$$;
comment on function internal.audit_log_immutable() is
  'BEFORE UPDATE/DELETE (row) and TRUNCATE (statement) on audit_log: rejects them (PT405) for every role; lets DELETE through only when executing as audit_retention.';
revoke all on function internal.audit_log_immutable() from public;
