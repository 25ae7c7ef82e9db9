-- Publishes the queue depth of each given tenant on outbox:<tenant_id> (event queue_depth),
-- at most once a second per tenant: the drain changes envelopes many times a second, and a
-- count per statement would cost its hot path. Nothing waits: the throttle row is taken
-- with SKIP LOCKED, so while one transaction publishes a tenant's depth the others skip it
-- (the minute flush catches a change nobody published).
create function internal.realtime_publish_queue_depth(p_tenant_ids uuid[]) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_due uuid[];
  v_depth jsonb;
  v_tenant uuid;
begin
  -- A tenant's first event makes its row. Only missing rows are inserted: an INSERT … ON
  -- CONFLICT meeting a row that another transaction is updating would wait for it. A tenant
  -- being deleted (its envelopes go with it) has no depth to publish.
  insert into internal.realtime_queue_depth (tenant_id)
  select t.id from unnest(p_tenant_ids) as t (id)
   where not exists (select 1 from internal.realtime_queue_depth s where s.tenant_id = t.id)
     and exists (select 1 from public.tenants x where x.id = t.id)
  on conflict (tenant_id) do nothing;
  select array_agg(x.tenant_id) into v_due
    from (select s.tenant_id from internal.realtime_queue_depth s
           where s.tenant_id = any (p_tenant_ids)
             and s.published_at <= pg_catalog.clock_timestamp() - interval '1 second'
           order by s.tenant_id
           for update skip locked) x;
  if v_due is null then
    return;
  end if;
  foreach v_tenant in array v_due loop
    v_depth := internal.realtime_queue_depth_of(v_tenant);
    perform realtime.send(jsonb_build_object('tenant_id', v_tenant, 'depth', v_depth),
                          'queue_depth', 'outbox:' || v_tenant, true);
    update internal.realtime_queue_depth
       set published_at = pg_catalog.clock_timestamp(), depth = v_depth
     where tenant_id = v_tenant;
  end loop;
end
$$;
revoke execute on function internal.realtime_publish_queue_depth(uuid[]) from public;
comment on function internal.realtime_publish_queue_depth(uuid[]) is
  'Publishes queue_depth {tenant_id, depth} on outbox:<tenant_id> for each tenant whose depth was not published in the last second (internal.realtime_queue_depth, SKIP LOCKED: never waits). SECURITY DEFINER: callers need no access to the throttle or realtime.messages.';
