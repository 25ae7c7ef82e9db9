-- The role audit_log retention runs as. NOLOGIN, no attributes: nobody connects as it; it
-- is reached only through internal.audit_log_retain (SECURITY DEFINER, owned by it), and
-- the immutability trigger lets a DELETE through only when executing as it. The role is
-- cluster-wide, so it may exist already (another database of the cluster).
-- postgres (CREATEROLE) becomes a member so that it may hand the function to it.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'audit_retention') then
    create role audit_retention nologin noinherit;
  end if;
end
$$;
comment on role audit_retention is
  'Owns internal.audit_log_retain: the only role whose DELETE on public.audit_log the immutability trigger lets through. NOLOGIN.';
grant audit_retention to postgres;
