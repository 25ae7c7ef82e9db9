-- Vector and full-text search fused, with the settings and reasons of search_evidence.
create function public.search_evidence_hybrid(
  p_query_text text,
  p_query_embedding extensions.vector,
  p_model text,
  p_k integer default 10,
  p_source_types text[] default null,
  p_since timestamptz default null,
  p_until timestamptz default null,
  p_rrf_k integer default 60
)
returns table (id uuid, source_type text, source_id text, chunk integer, content text,
               metadata jsonb, source_created_at timestamptz, score double precision,
               similarity double precision, vector_rank integer, text_rank integer)
language plpgsql
stable
security invoker
set search_path = ''
set hnsw.ef_search = 100
set hnsw.iterative_scan = 'relaxed_order'
set jit = off
as $$
declare
  v_filter text;
begin
  if p_k is null or p_k < 1 or p_k > 200 then
    raise exception 'p_k must be between 1 and 200, got %', p_k using errcode = '22023';
  end if;
  v_filter := format('e.model = %L', p_model)
    || case when p_source_types is not null then ' and e.source_type = any ($3)' else '' end
    || case when p_since is not null then ' and e.source_created_at >= $4' else '' end
    || case when p_until is not null then ' and e.source_created_at < $5' else '' end;
  -- Reciprocal rank fusion: score = Σ 1 / (rrf_k + rank) over the vector ranking and the
  -- full-text ranking (websearch syntax), each cut at 4·k candidates.
  return query execute format($q$
    with vec as materialized (
      select e.id, e.embedding operator(extensions.<#>) $1 as distance
      from public.evidence_embeddings e
      where %1$s
      order by e.embedding operator(extensions.<#>) $1
      limit $2 * 4
    ),
    vec_ranked as (
      select v.id, v.distance, row_number() over (order by v.distance, v.id)::int as rank
      from vec v
    ),
    txt as (
      select e.id, row_number() over (order by ts_rank_cd(e.content_tsv, q) desc, e.id)::int as rank
      from public.evidence_embeddings e, websearch_to_tsquery('english', $6) q
      where %1$s and e.content_tsv @@ q
      order by ts_rank_cd(e.content_tsv, q) desc, e.id
      limit $2 * 4
    ),
    fused as (
      select coalesce(v.id, t.id) as id,
             coalesce(1.0 / ($7 + v.rank), 0) + coalesce(1.0 / ($7 + t.rank), 0) as score,
             v.rank as vector_rank, t.rank as text_rank
      from vec_ranked v full join txt t on t.id = v.id
    )
    select e.id, e.source_type, e.source_id, e.chunk, e.content, e.metadata,
           e.source_created_at, f.score::float8,
           (-(e.embedding operator(extensions.<#>) $1))::float8, f.vector_rank, f.text_rank
    from fused f join public.evidence_embeddings e on e.id = f.id
    order by f.score desc, f.vector_rank nulls last, e.id
    limit $2
  $q$, v_filter)
  using p_query_embedding, p_k, p_source_types, p_since, p_until, coalesce(p_query_text, ''),
        greatest(coalesce(p_rrf_k, 60), 1);
end
$$;
comment on function public.search_evidence_hybrid(text, extensions.vector, text, integer, text[], timestamptz, timestamptz, integer) is
  'Hybrid search: vector ranking (as search_evidence) and full-text ranking of p_query_text (websearch syntax) fused by reciprocal rank fusion (p_rrf_k, default 60) in one query; returns the fused score and both ranks. Security invoker: RLS limits it to the caller''s tenant.';
revoke all on function public.search_evidence_hybrid(text, extensions.vector, text, integer, text[], timestamptz, timestamptz, integer) from public, anon;
grant execute on function public.search_evidence_hybrid(text, extensions.vector, text, integer, text[], timestamptz, timestamptz, integer) to authenticated, service_role;
