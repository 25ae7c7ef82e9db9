create function internal.embeddings_store(p_model text, p_rows jsonb, p_sources jsonb)
returns integer
language sql
set search_path = ''
as $$
  -- p_rows: the chunks that were (re-)embedded. p_sources: every processed source with its
  -- chunk count under p_model; chunks beyond it (the text got shorter or vanished) go.
  with rows as (
    select r.*
    from jsonb_to_recordset(p_rows) as r (tenant_id uuid, source_type text, source_id text,
      chunk integer, content_hash text, content text, embedding text, metadata jsonb,
      source_created_at timestamptz)
  ),
  upserted as (
    insert into public.evidence_embeddings as e (tenant_id, source_type, source_id, chunk, model,
      content_hash, content, embedding, metadata, source_created_at, created_at)
    select r.tenant_id, r.source_type, r.source_id, r.chunk, p_model, r.content_hash, r.content,
           r.embedding::extensions.vector, coalesce(r.metadata, '{}'),
           coalesce(r.source_created_at, now()), now()
    from rows r
    on conflict (source_type, source_id, chunk, model) do update
      set tenant_id = excluded.tenant_id, content_hash = excluded.content_hash,
          content = excluded.content, embedding = excluded.embedding,
          metadata = excluded.metadata, source_created_at = excluded.source_created_at,
          created_at = excluded.created_at
    returning 1
  ),
  trimmed as (
    delete from public.evidence_embeddings e
    using jsonb_to_recordset(p_sources) as s (source_type text, source_id text, chunks integer)
    where e.source_type = s.source_type and e.source_id = s.source_id
      and e.model = p_model and e.chunk >= s.chunks
    returning 1
  )
  select (select count(*)::int from upserted)
$$;
comment on function internal.embeddings_store(text, jsonb, jsonb) is
  'Upserts embedded chunks of p_model in one statement and deletes each processed source''s chunks beyond its new chunk count. Returns the rows upserted.';
revoke all on function internal.embeddings_store(text, jsonb, jsonb) from public;
