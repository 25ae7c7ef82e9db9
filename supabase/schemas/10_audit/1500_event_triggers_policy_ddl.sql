-- Creating an event trigger needs a superuser. On hosted, supautils lets postgres create
-- it (run as the superuser, then owned by postgres); the local runner (stack/migrate.ts,
-- also for these files) does the same for `create event trigger` statements only.
--
-- From here on, the policy DDL of the schema files that follow is audited too: audit_log
-- rows record what happened, they are not part of the schema.
create event trigger audit_policy_ddl on ddl_command_end
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'ALTER TABLE')
  execute function internal.audit_policy_ddl();
create event trigger audit_policy_drop on sql_drop
  when tag in ('DROP POLICY')
  execute function internal.audit_policy_ddl();
comment on event trigger audit_policy_ddl is
  'Audits CREATE/ALTER POLICY and row level security switches (category auth_policy).';
comment on event trigger audit_policy_drop is 'Audits DROP POLICY (category auth_policy).';
