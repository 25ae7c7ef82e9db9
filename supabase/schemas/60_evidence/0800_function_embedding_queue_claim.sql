-- The reindexer's steps, one SQL operation each: claim, read sources, store, complete, fail.
create function internal.embedding_queue_claim(
  p_holder text, p_limit integer, p_lease_ms integer, p_tenant_id uuid default null
)
returns table (source_type text, source_id text, tenant_id uuid, generation bigint,
               force boolean, attempts integer)
language sql
set search_path = ''
as $$
  -- SKIP LOCKED: rows another worker is claiming, or a writer is re-enqueueing, are left
  -- for the next claim instead of waited for. The lease is next_attempt_at itself.
  with due as (
    select q.source_type, q.source_id
    from internal.embedding_queue q
    where q.next_attempt_at <= now()
      and (p_tenant_id is null or q.tenant_id = p_tenant_id)
    order by q.next_attempt_at
    limit p_limit
    for update skip locked
  )
  update internal.embedding_queue q
     set claimed_by = p_holder,
         next_attempt_at = now() + make_interval(secs => p_lease_ms / 1000.0)
    from due
   where q.source_type = due.source_type and q.source_id = due.source_id
  returning q.source_type, q.source_id, q.tenant_id, q.generation, q.force, q.attempts
$$;
comment on function internal.embedding_queue_claim(text, integer, integer, uuid) is
  'Claims up to p_limit due sources (optionally of one tenant) for p_holder for p_lease_ms, skipping locked rows.';
revoke all on function internal.embedding_queue_claim(text, integer, integer, uuid) from public;
