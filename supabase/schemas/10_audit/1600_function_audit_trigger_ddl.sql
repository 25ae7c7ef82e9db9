-- DDL that could switch off audit_log's protection writes an audit_log row, category
-- auth_policy, in the system chain, with the state of audit_log's triggers after the
-- statement: any ALTER TABLE of audit_log (ENABLE / DISABLE [ALWAYS | REPLICA] TRIGGER among
-- them), CREATE / ALTER TRIGGER on it, DROP TRIGGER (sql_drop), and CREATE OR REPLACE / ALTER
-- / DROP of the functions its triggers run, of retention and of the retention window.
--
-- What no event trigger sees (docs/audit.md): ALTER / DROP EVENT TRIGGER (so the owner can
-- switch these off first), GRANT / REVOKE of a role, SET ROLE, a superuser's direct catalog
-- updates, and superuser sessions on hosted at all (supautils skips event triggers that
-- postgres owns for superusers and its reserved roles). The audit exports record the triggers' states and
-- audit_retention's members, and the verifier compares the chains with them: what this
-- misses shows as a divergence.
--
-- The row is chained by audit_log_chain; when the statement disabled or dropped that
-- trigger, the row cannot be chained and the statement is refused.
create function internal.audit_trigger_ddl() returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_log constant oid := pg_catalog.to_regclass('public.audit_log');
  r record;
  a record;
  v_events jsonb := '[]';
  v_triggers jsonb;
begin
  if v_log is null then
    return;
  end if;
  if tg_event = 'sql_drop' then
    select coalesce(jsonb_agg(jsonb_build_object('command', tg_tag,
                                                 'object_type', d.object_type,
                                                 'object', d.object_identity)
                              order by d.object_identity), '[]')
      into v_events
      from pg_catalog.pg_event_trigger_dropped_objects() d
     where (d.object_type = 'trigger' and d.address_names[1:2] = array['public', 'audit_log'])
        or (d.object_type = 'function' and d.object_identity in (
              'internal.audit_log_chain()', 'internal.audit_log_chain_heads()',
              'internal.audit_log_immutable()', 'internal.audit_log_retain(interval)',
              'internal.audit_retention_window()', 'internal.audit_trigger_ddl()'));
  else
    for r in select * from pg_catalog.pg_event_trigger_ddl_commands() loop
      if (r.command_tag = 'ALTER TABLE' and r.objid = v_log)
         or (r.command_tag in ('CREATE TRIGGER', 'ALTER TRIGGER')
             and exists (select 1 from pg_catalog.pg_trigger t
                          where t.oid = r.objid and t.tgrelid = v_log))
         or (r.command_tag in ('CREATE FUNCTION', 'ALTER FUNCTION')
             and (r.objid in (select t.tgfoid from pg_catalog.pg_trigger t where t.tgrelid = v_log)
                  or r.object_identity in ('internal.audit_log_retain(interval)',
                                           'internal.audit_retention_window()',
                                           'internal.audit_trigger_ddl()')))
      then
        v_events := v_events || jsonb_build_object('command', r.command_tag,
                                                   'object_type', r.object_type,
                                                   'object', r.object_identity);
      end if;
    end loop;
  end if;
  if jsonb_array_length(v_events) = 0 then
    return;
  end if;
  select coalesce(jsonb_object_agg(t.tgname, case t.tgenabled when 'A' then 'always'
                                                               when 'O' then 'origin'
                                                               when 'R' then 'replica'
                                                               else 'disabled' end), '{}')
    into v_triggers
    from pg_catalog.pg_trigger t
   where t.tgrelid = v_log and not t.tgisinternal;
  select * into a from internal.audit_actor();
  begin
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    select null, a.actor_type, a.actor_id, 'auth_policy',
           e || jsonb_build_object('audit_log_triggers', v_triggers)
      from jsonb_array_elements(v_events) e;
  exception when not_null_violation then
    raise exception 'audit_log''s chain trigger must stay enabled: the audit row recording % could not be chained', tg_tag
      using errcode = 'PT405',
            hint = 'Change the trigger''s function with CREATE OR REPLACE FUNCTION instead.';
  end;
end
$$;
comment on function internal.audit_trigger_ddl() is
  'Event trigger function: writes an auth_policy audit row (system chain) with audit_log''s trigger states for ALTER TABLE of audit_log, CREATE/ALTER/DROP TRIGGER on it, and CREATE/ALTER/DROP of the audit trigger, retention and retention-window functions. Refuses a statement that leaves the chain trigger unable to chain that row.';
revoke all on function internal.audit_trigger_ddl() from public;
