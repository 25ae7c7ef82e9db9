-- Audited writes: every INSERT, UPDATE and DELETE on the configuration and decision tables
-- writes an audit_log row (category config_change) by trigger, and policy DDL (CREATE /
-- ALTER / DROP POLICY, ALTER TABLE … ENABLE / DISABLE / FORCE ROW LEVEL SECURITY) writes
-- one by event trigger (category auth_policy). Payloads name tables, operations, ids and
-- changed column names, never values: no secret can reach the log this way.
--
-- Creating an event trigger needs a superuser. On hosted, supautils lets postgres create
-- it (run as the superuser, then owned by postgres); the local migration runner
-- (stack/migrate.ts) does the same for `create event trigger` statements only.

-- Who is acting: the end user when the request carries a JWT subject, else the database
-- role (as PostgREST or a job set it; the session user otherwise).
create function internal.audit_actor() returns table (actor_type text, actor_id text)
language sql
stable
set search_path = ''
as $$
  select case when auth.uid() is not null then 'user' else 'system' end,
         coalesce(auth.uid()::text,
                  nullif(pg_catalog.current_setting('role', true), 'none'),
                  session_user::text)
$$;
comment on function internal.audit_actor() is
  'The acting user (auth.uid()) as actor_type user, else the current role (SET ROLE, or the session user) as actor_type system. Reads the role setting, so it answers the caller even inside SECURITY DEFINER code.';

create function internal.audit_row_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_new jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  v_old jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  v_row jsonb := coalesce(v_new, v_old);
  v_changed text[];
  a record;
begin
  -- Column names only, never values.
  if tg_op = 'UPDATE' then
    select coalesce(array_agg(n.key order by n.key), '{}') into v_changed
      from jsonb_each(v_new) n
     where n.value is distinct from v_old -> n.key and n.key <> 'updated_at';
  elsif tg_op = 'INSERT' then
    select coalesce(array_agg(n.key order by n.key), '{}') into v_changed
      from jsonb_each(v_new) n
     where n.value <> 'null'::jsonb;
  else
    v_changed := '{}';
  end if;
  select * into a from internal.audit_actor();
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, envelope_id, payload)
  values (
    (case when tg_table_name = 'tenants' then v_row ->> 'id' else v_row ->> 'tenant_id' end)::uuid,
    a.actor_type, a.actor_id, 'config_change', (v_row ->> 'envelope_id')::uuid,
    jsonb_build_object('table', tg_table_name, 'op', lower(tg_op),
                       'id', coalesce(v_row ->> 'id', v_row ->> 'user_id'),
                       'changed_columns', to_jsonb(v_changed)));
  return null;
end
$$;
comment on function internal.audit_row_change() is
  'AFTER INSERT/UPDATE/DELETE row trigger on configuration and decision tables: writes a config_change audit row {table, op, id, changed_columns} (names only, no values) under the row''s tenant, actor from internal.audit_actor().';

create trigger audit_change after insert or update or delete on public.tenants
  for each row execute function internal.audit_row_change();
create trigger audit_change after insert or update or delete on public.tenant_members
  for each row execute function internal.audit_row_change();
create trigger audit_change after insert or update or delete on public.guardrails
  for each row execute function internal.audit_row_change();
create trigger audit_change after insert or update or delete on public.objectives
  for each row execute function internal.audit_row_change();
create trigger audit_change after insert or update or delete on public.connected_accounts
  for each row execute function internal.audit_row_change();
create trigger audit_change after insert or update or delete on public.approvals
  for each row execute function internal.audit_row_change();
create trigger audit_change after insert or update or delete on public.grades
  for each row execute function internal.audit_row_change();
create trigger audit_change after insert or update or delete on public.edits
  for each row execute function internal.audit_row_change();

-- ---------------------------------------------------------------------------------------
-- Policy DDL. ddl_command_end sees CREATE/ALTER POLICY and ALTER TABLE; sql_drop sees the
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

revoke all on function internal.audit_actor() from public;
revoke all on function internal.audit_row_change() from public;
revoke all on function internal.audit_policy_ddl() from public;

create event trigger audit_policy_ddl on ddl_command_end
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'ALTER TABLE')
  execute function internal.audit_policy_ddl();
create event trigger audit_policy_drop on sql_drop
  when tag in ('DROP POLICY')
  execute function internal.audit_policy_ddl();
comment on event trigger audit_policy_ddl is
  'Audits CREATE/ALTER POLICY and row level security switches (category auth_policy).';
comment on event trigger audit_policy_drop is 'Audits DROP POLICY (category auth_policy).';
