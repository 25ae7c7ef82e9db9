-- A tenant's queue depth: its envelopes in each status that is not final (succeeded and
-- rejected are not counted; dead letters live in outbox_dlq). Counts only, read from
-- outbox_tenant_status_idx.
create function internal.realtime_queue_depth_of(p_tenant_id uuid) returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
           'pending', count(*) filter (where o.status = 'pending'),
           'retry', count(*) filter (where o.status = 'retry'),
           'deferred', count(*) filter (where o.status = 'deferred'),
           'running', count(*) filter (where o.status = 'running'),
           'needs_approval', count(*) filter (where o.status = 'needs_approval'),
           'conflict', count(*) filter (where o.status = 'conflict'),
           'unknown_outcome', count(*) filter (where o.status = 'unknown_outcome'))
    from public.outbox o
   where o.tenant_id = p_tenant_id
     and o.status in ('pending', 'retry', 'deferred', 'running', 'needs_approval', 'conflict',
                      'unknown_outcome')
$$;
revoke execute on function internal.realtime_queue_depth_of(uuid) from public;
comment on function internal.realtime_queue_depth_of(uuid) is
  'The tenant''s envelopes per non-final status ({pending, retry, deferred, running, needs_approval, conflict, unknown_outcome}), as published in queue_depth events.';
