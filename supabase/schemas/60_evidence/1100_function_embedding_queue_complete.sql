create function internal.embedding_queue_complete(p_holder text, p_items jsonb)
returns integer
language sql
set search_path = ''
as $$
  -- Done: delete the rows still at the claimed generation. A row re-enqueued meanwhile
  -- (newer generation) is released and due now, to embed the newer content.
  with items as (
    select i.source_type, i.source_id, i.generation
    from jsonb_to_recordset(p_items) as i (source_type text, source_id text, generation bigint)
  ),
  done as (
    delete from internal.embedding_queue q using items i
    where q.source_type = i.source_type and q.source_id = i.source_id
      and q.generation = i.generation and q.claimed_by = p_holder
    returning 1
  ),
  released as (
    update internal.embedding_queue q set claimed_by = null, next_attempt_at = now()
    from items i
    where q.source_type = i.source_type and q.source_id = i.source_id
      and q.generation <> i.generation and q.claimed_by = p_holder
    returning 1
  )
  select (select count(*)::int from done)
$$;
comment on function internal.embedding_queue_complete(text, jsonb) is
  'Deletes the claimed [{source_type, source_id, generation}] still at that generation; releases the others (changed meanwhile) as due now. Returns the rows deleted.';
revoke all on function internal.embedding_queue_complete(text, jsonb) from public;
