-- Statement triggers on outbox: after each statement that inserts envelopes, changes their
-- status or removes them (a move to the DLQ), one `envelopes` message per tenant touched
-- (internal.realtime_publish_envelopes), then those tenants' queue depth, throttled
-- (internal.realtime_publish_queue_depth). A statement that changes no status (the drain's
-- outbox_mark_sending) publishes nothing. Statement-level with transition tables: one
-- message per statement and tenant, however many envelopes it moved. Messages go out after
-- commit; a rolled-back statement publishes nothing.
--
-- SECURITY DEFINER (owned by postgres, fixed search_path): the writing role needs no access
-- to realtime.messages, and members cannot write these channels themselves.
create function internal.realtime_outbox_publish() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  v_tenants uuid[] := '{}';
begin
  if tg_op = 'INSERT' then
    for r in
      select n.tenant_id, count(*)::int as n,
             to_jsonb((array_agg(jsonb_build_object('id', n.id, 'status', n.status,
                                                    'previous_status', null,
                                                    'tool_slug', n.tool_slug,
                                                    'attempts', n.attempts)
                                 order by n.id))[1:100]) as listed,
             coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'tool_slug', n.tool_slug)
                                order by n.id) filter (where n.status = 'needs_approval'),
                      '[]') as requested
        from new_rows n
       group by n.tenant_id
    loop
      perform internal.realtime_publish_envelopes(r.tenant_id, 'insert', r.n, r.listed,
                                                  r.requested);
      v_tenants := v_tenants || r.tenant_id;
    end loop;
  elsif tg_op = 'UPDATE' then
    for r in
      select n.tenant_id, count(*)::int as n,
             to_jsonb((array_agg(jsonb_build_object('id', n.id, 'status', n.status,
                                                    'previous_status', o.status,
                                                    'tool_slug', n.tool_slug,
                                                    'attempts', n.attempts)
                                 order by n.id))[1:100]) as listed,
             coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'tool_slug', n.tool_slug)
                                order by n.id) filter (where n.status = 'needs_approval'),
                      '[]') as requested
        from new_rows n
        join old_rows o on o.id = n.id
       where n.status is distinct from o.status
       group by n.tenant_id
    loop
      perform internal.realtime_publish_envelopes(r.tenant_id, 'update', r.n, r.listed,
                                                  r.requested);
      v_tenants := v_tenants || r.tenant_id;
    end loop;
  else
    for r in
      select o.tenant_id, count(*)::int as n,
             to_jsonb((array_agg(jsonb_build_object(
                        'id', o.id,
                        'status', case when exists (select 1 from public.outbox_dlq d
                                                     where d.id = o.id)
                                       then 'dead_lettered' else 'deleted' end,
                        'previous_status', o.status, 'tool_slug', o.tool_slug,
                        'attempts', o.attempts)
                                 order by o.id))[1:100]) as listed
        from old_rows o
       -- Envelopes that go with their tenant are no event of that tenant's.
       where exists (select 1 from public.tenants t where t.id = o.tenant_id)
       group by o.tenant_id
    loop
      perform internal.realtime_publish_envelopes(r.tenant_id, 'delete', r.n, r.listed,
                                                  '[]'::jsonb);
      v_tenants := v_tenants || r.tenant_id;
    end loop;
  end if;
  if cardinality(v_tenants) > 0 then
    perform internal.realtime_publish_queue_depth(v_tenants);
  end if;
  return null;
end
$$;
revoke execute on function internal.realtime_outbox_publish() from public;
comment on function internal.realtime_outbox_publish() is
  'AFTER INSERT/UPDATE/DELETE statement trigger on outbox: per tenant touched, an envelopes message on outbox:<tenant_id> for the inserted, status-changed or removed envelopes (and approval_requested on approvals:<tenant_id>), then the throttled queue_depth. Ids, statuses, counts, tool slugs only.';

create trigger realtime_publish_insert after insert on public.outbox
  referencing new table as new_rows
  for each statement execute function internal.realtime_outbox_publish();
create trigger realtime_publish_update after update on public.outbox
  referencing old table as old_rows new table as new_rows
  for each statement execute function internal.realtime_outbox_publish();
create trigger realtime_publish_delete after delete on public.outbox
  referencing old table as old_rows
  for each statement execute function internal.realtime_outbox_publish();
