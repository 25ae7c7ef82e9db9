-- Reverts 20261123140000_audited_writes.sql.
drop event trigger audit_policy_drop;
drop event trigger audit_policy_ddl;
drop trigger audit_change on public.edits;
drop trigger audit_change on public.grades;
drop trigger audit_change on public.approvals;
drop trigger audit_change on public.connected_accounts;
drop trigger audit_change on public.objectives;
drop trigger audit_change on public.guardrails;
drop trigger audit_change on public.tenant_members;
drop trigger audit_change on public.tenants;
drop function internal.audit_policy_ddl();
drop function internal.audit_row_change();
drop function internal.audit_actor();
delete from supabase_migrations.schema_migrations where version = '20261123140000';
