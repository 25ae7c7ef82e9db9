-- Guardrail and plan changes on activity:<tenant_id>, after each statement: a tenant's
-- guardrails row changed (`guardrails_changed` {tenant_id, changed_columns}: names only, as
-- the audit log records them; values such as the drift webhook URL are not sent), or its
-- plan, which bounds what owners may choose (`plan_changed` {tenant_id, plan,
-- previous_plan}). One message per statement and tenant; a statement that changes nothing
-- publishes nothing.
create function internal.realtime_activity_publish() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
begin
  if tg_table_name = 'guardrails' then
    for r in
      select n.tenant_id,
             (select coalesce(jsonb_agg(k.key order by k.key), '[]')
                from jsonb_each(to_jsonb(n)) k
               where k.value is distinct from to_jsonb(o) -> k.key
                 and k.key <> 'updated_at') as changed
        from new_rows n
        join old_rows o on o.id = n.id
    loop
      if jsonb_array_length(r.changed) > 0 then
        perform realtime.send(
          jsonb_build_object('tenant_id', r.tenant_id, 'changed_columns', r.changed),
          'guardrails_changed', 'activity:' || r.tenant_id, true);
      end if;
    end loop;
  else
    for r in
      select n.id as tenant_id, n.plan, o.plan as previous_plan
        from new_rows n
        join old_rows o on o.id = n.id
       where n.plan is distinct from o.plan
    loop
      perform realtime.send(
        jsonb_build_object('tenant_id', r.tenant_id, 'plan', r.plan,
                           'previous_plan', r.previous_plan),
        'plan_changed', 'activity:' || r.tenant_id, true);
    end loop;
  end if;
  return null;
end
$$;
revoke execute on function internal.realtime_activity_publish() from public;
comment on function internal.realtime_activity_publish() is
  'AFTER UPDATE statement trigger on guardrails and tenants: guardrails_changed {tenant_id, changed_columns} (names only) and plan_changed {tenant_id, plan, previous_plan} on activity:<tenant_id>.';

create trigger realtime_publish after update on public.guardrails
  referencing old table as old_rows new table as new_rows
  for each statement execute function internal.realtime_activity_publish();
create trigger realtime_publish after update on public.tenants
  referencing old table as old_rows new table as new_rows
  for each statement execute function internal.realtime_activity_publish();
