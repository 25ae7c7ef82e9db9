-- The trailing edge of the queue-depth throttle: a change made within a second of the last
-- publish, with no statement after it, would leave listeners with a stale depth. Every
-- minute (schedule below) this publishes the depth of each recently active tenant whose
-- depth is not the one last published. Skips rows a publishing transaction holds.
create function internal.realtime_flush_queue_depth() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  v_depth jsonb;
  v_sent integer := 0;
begin
  for r in
    select s.tenant_id, s.depth from internal.realtime_queue_depth s
     where s.published_at > now() - interval '10 minutes'
       and s.published_at <= pg_catalog.clock_timestamp() - interval '1 second'
     order by s.tenant_id
     for update skip locked
  loop
    v_depth := internal.realtime_queue_depth_of(r.tenant_id);
    if v_depth is distinct from r.depth then
      perform realtime.send(jsonb_build_object('tenant_id', r.tenant_id, 'depth', v_depth),
                            'queue_depth', 'outbox:' || r.tenant_id, true);
      update internal.realtime_queue_depth
         set published_at = pg_catalog.clock_timestamp(), depth = v_depth
       where tenant_id = r.tenant_id;
      v_sent := v_sent + 1;
    end if;
  end loop;
  return v_sent;
end
$$;
revoke execute on function internal.realtime_flush_queue_depth() from public;
comment on function internal.realtime_flush_queue_depth() is
  'Every minute: publishes queue_depth for tenants active in the last 10 minutes whose depth differs from the one last published (the throttle''s trailing edge). Returns how many it sent.';
