-- Policy DDL (CREATE / ALTER / DROP POLICY, ALTER TABLE … ENABLE / DISABLE / FORCE ROW LEVEL
-- SECURITY) writes an audit_log row, category auth_policy, in the system chain.
-- ddl_command_end sees CREATE/ALTER POLICY and ALTER TABLE; sql_drop sees the
-- policies a DROP POLICY removed. ALTER TABLE is audited only when the statement text
-- touches row level security (the command's subcommands are not visible from SQL), with
-- the table's RLS state after the statement.
create function internal.audit_policy_ddl() returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  a record;
  v_rls boolean;
  v_force boolean;
begin
  select * into a from internal.audit_actor();
  if tg_event = 'sql_drop' then
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    select null, a.actor_type, a.actor_id, 'auth_policy',
           jsonb_build_object('command', tg_tag, 'object_type', d.object_type,
                              'object', d.object_identity)
      from pg_catalog.pg_event_trigger_dropped_objects() d
     where d.object_type = 'policy';
    return;
  end if;
  for r in select * from pg_catalog.pg_event_trigger_ddl_commands() loop
    if r.command_tag in ('CREATE POLICY', 'ALTER POLICY') then
      insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
      values (null, a.actor_type, a.actor_id, 'auth_policy',
              jsonb_build_object('command', r.command_tag, 'object_type', r.object_type,
                                 'object', r.object_identity));
    elsif r.command_tag = 'ALTER TABLE' and r.object_type = 'table'
          and pg_catalog.current_query() ~* '(enable|disable|force)\s+row\s+level\s+security'
    then
      select c.relrowsecurity, c.relforcerowsecurity into v_rls, v_force
        from pg_catalog.pg_class c where c.oid = r.objid;
      insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
      values (null, a.actor_type, a.actor_id, 'auth_policy',
              jsonb_build_object('command', r.command_tag, 'object_type', r.object_type,
                                 'object', r.object_identity, 'row_security', v_rls,
                                 'force_row_security', v_force));
    end if;
  end loop;
end
$$;
comment on function internal.audit_policy_ddl() is
  'Event trigger function: writes an auth_policy audit row (system chain) for CREATE/ALTER/DROP POLICY and for ALTER TABLE statements that enable, disable or force row level security.';
revoke all on function internal.audit_policy_ddl() from public;
