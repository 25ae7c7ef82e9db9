-- Created as the superuser and handed to postgres, as 1500_event_triggers_policy_ddl.sql.
-- ENABLE ALWAYS: they fire in session_replication_role = replica sessions too, which skip
-- event triggers in the default (origin) mode.
create event trigger audit_trigger_ddl on ddl_command_end
  when tag in ('ALTER TABLE', 'CREATE TRIGGER', 'ALTER TRIGGER', 'CREATE FUNCTION',
               'ALTER FUNCTION')
  execute function internal.audit_trigger_ddl();
create event trigger audit_trigger_drop on sql_drop
  when tag in ('DROP TRIGGER', 'DROP FUNCTION')
  execute function internal.audit_trigger_ddl();
alter event trigger audit_trigger_ddl enable always;
alter event trigger audit_trigger_drop enable always;
comment on event trigger audit_trigger_ddl is
  'Audits ALTER TABLE of audit_log (trigger switches among them), CREATE/ALTER TRIGGER on it and changes of the audit functions (category auth_policy).';
comment on event trigger audit_trigger_drop is
  'Audits DROP TRIGGER on audit_log and DROP FUNCTION of the audit functions (category auth_policy).';
