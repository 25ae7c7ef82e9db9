-- Enqueues (or re-enqueues) sources; a claimed row stays with its worker until the lease
-- ends or the worker completes it (then the bumped generation makes it due again).
create function internal.embedding_queue_enqueue(p_sources jsonb, p_force boolean default false)
returns integer
language sql
security definer
set search_path = ''
as $$
  with ins as (
    insert into internal.embedding_queue as q (source_type, source_id, tenant_id, force)
    select distinct on (s.source_type, s.source_id) s.source_type, s.source_id, s.tenant_id, p_force
    from jsonb_to_recordset(p_sources) as s (source_type text, source_id text, tenant_id uuid)
    where s.tenant_id is not null
    on conflict (source_type, source_id) do update
      set generation = q.generation + 1,
          force = q.force or excluded.force,
          enqueued_at = now(),
          attempts = 0,
          last_error = null,
          next_attempt_at = case when q.claimed_by is null then now() else q.next_attempt_at end
    returning 1
  )
  select count(*)::int from ins
$$;
comment on function internal.embedding_queue_enqueue(jsonb, boolean) is
  'Enqueues [{source_type, source_id, tenant_id}] (sources without tenant are skipped); a queued source gets a new generation. Returns the rows touched.';
revoke all on function internal.embedding_queue_enqueue(jsonb, boolean) from public;
