create function internal.embedding_queue_fail(p_holder text, p_items jsonb, p_error text)
returns integer
language sql
set search_path = ''
as $$
  with items as (
    select i.source_type, i.source_id, i.delay_ms
    from jsonb_to_recordset(p_items) as i (source_type text, source_id text, delay_ms bigint)
  ),
  failed as (
    update internal.embedding_queue q
       set claimed_by = null, attempts = q.attempts + 1, last_error = left(p_error, 2000),
           next_attempt_at = now() + make_interval(secs => greatest(i.delay_ms, 0) / 1000.0)
      from items i
     where q.source_type = i.source_type and q.source_id = i.source_id
       and q.claimed_by = p_holder
    returning 1
  )
  select count(*)::int from failed
$$;
comment on function internal.embedding_queue_fail(text, jsonb, text) is
  'Keeps the claimed [{source_type, source_id, delay_ms}] queued with p_error, one more attempt, due after its delay (the backoff). Returns the rows updated.';
revoke all on function internal.embedding_queue_fail(text, jsonb, text) from public;
