-- Reverts 20261123135000_audit_log.sql.
drop function internal.audit_log_retain(interval);
drop function internal.audit_log_verify(uuid);
drop function internal.audit_hash(public.audit_log);
drop function internal.audit_canonical(public.audit_log);
drop table public.audit_log;
drop function internal.audit_log_immutable();
drop function internal.audit_log_chain_heads();
drop function internal.audit_log_chain();
drop table internal.audit_chain_anchors;
drop table internal.audit_chain_heads;
revoke usage on schema internal from audit_retention;
-- The role is cluster-wide: another database of the cluster may still use it.
do $$
begin
  drop role audit_retention;
exception when dependent_objects_still_exist then
  raise notice 'role audit_retention is still used elsewhere in the cluster: kept';
end
$$;
delete from supabase_migrations.schema_migrations where version = '20261123135000';
