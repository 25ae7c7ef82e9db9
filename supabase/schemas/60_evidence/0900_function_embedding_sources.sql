create function internal.embedding_sources(p_keys jsonb, p_model text)
returns table (source_type text, source_id text, tenant_id uuid, found boolean,
               created_at timestamptz, fields jsonb, hashes jsonb)
language sql
stable
set search_path = ''
as $$
  -- Joins cast the key, never the column, so each source is one primary-key lookup; the
  -- CASE keeps the cast from seeing another type's ids.
  with k as (
    select distinct s.source_type, s.source_id
    from jsonb_to_recordset(p_keys) as s (source_type text, source_id text)
  ),
  src as (
    select k.source_type, k.source_id, e.tenant_id, e.created_at,
           jsonb_build_object('tool_slug', e.tool_slug, 'content', e.content,
                              'content_text', e.content_text) as fields
      from k join public.evidence e
        on e.id = case when k.source_type = 'evidence' then k.source_id::uuid end
    union all
    select k.source_type, k.source_id, a.tenant_id, a.created_at,
           jsonb_build_object('decision', a.decision, 'reason', a.reason,
                              'proposal_summary', a.proposal_summary)
      from k join public.approvals a
        on a.id = case when k.source_type = 'approval' then k.source_id::uuid end
    union all
    select k.source_type, k.source_id, l.tenant_id, l.created_at,
           jsonb_build_object('category', l.category, 'actor_type', l.actor_type,
                              'payload', l.payload)
      from k join public.audit_log l
        on l.id = case when k.source_type = 'audit' and k.source_id ~ '^[0-9]{1,18}$'
                       then k.source_id::bigint end
  )
  select k.source_type, k.source_id, src.tenant_id, src.source_id is not null,
         src.created_at, src.fields,
         coalesce((select jsonb_object_agg(x.chunk::text, x.content_hash)
                     from public.evidence_embeddings x
                    where x.source_type = k.source_type and x.source_id = k.source_id
                      and x.model = p_model), '{}')
  from k left join src on src.source_type = k.source_type and src.source_id = k.source_id
$$;
comment on function internal.embedding_sources(jsonb, text) is
  'For [{source_type, source_id}]: the source''s tenant, time and fields to extract text from (found = false when it is gone), and the content hash of each stored chunk of p_model.';
revoke all on function internal.embedding_sources(jsonb, text) from public;
