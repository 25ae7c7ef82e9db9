-- Audited writes: every INSERT, UPDATE and DELETE on the configuration and decision tables
-- (tenants, tenant_members, guardrails, objectives, connected_accounts, approvals, grades,
-- edits, internal.tool_readbacks; each table's file attaches it as trigger audit_change)
-- writes an audit_log row, category config_change. Payloads name the table, operation, id and changed column names,
-- never values: no secret can reach the log this way.
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
revoke all on function internal.audit_row_change() from public;
