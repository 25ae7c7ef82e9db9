-- The role audit_log retention runs as. NOLOGIN, no attributes: nobody connects as it; it
-- is reached only through internal.audit_log_retain (SECURITY DEFINER, owned by it), and
-- the immutability trigger lets a DELETE through only when executing as it, and only of
-- rows older than the retention window. The role is cluster-wide, so it may exist already
-- (another database of the cluster).
-- postgres (CREATEROLE) becomes a member only so that it may hand the function to it:
-- 1100_function_audit_log_retain.sql revokes the membership once the function is handed
-- over. postgres can grant it to itself again at any time (PG15 CREATEROLE), and no event
-- trigger sees GRANT ROLE: the audit exports record the role's members instead.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'audit_retention') then
    create role audit_retention nologin noinherit;
  end if;
end
$$;
comment on role audit_retention is
  'Owns internal.audit_log_retain: the only role whose DELETE on public.audit_log the immutability trigger lets through, and only of rows older than internal.audit_retention_window(). NOLOGIN, no members.';
grant audit_retention to postgres;
