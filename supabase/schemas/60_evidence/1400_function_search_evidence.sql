-- Search. SECURITY INVOKER: the caller's RLS (tenant_id from the JWT) filters the rows.
-- hnsw.iterative_scan lets the index scan go on until k rows pass that filter (a plain
-- HNSW scan stops after ef_search candidates, most of another tenant); relaxed_order may
-- return them slightly out of order, so the results are sorted again. JIT is off: its
-- compile time (100+ ms) dwarfs a millisecond search whenever a plan's estimated cost
-- crosses jit_above_cost (an exact scan of a large tenant does). Dynamic SQL puts
-- the model in as a literal, so the planner matches the partial index of that model.
create function public.search_evidence(
  p_query_embedding extensions.vector,
  p_model text,
  p_k integer default 10,
  p_source_types text[] default null,
  p_since timestamptz default null,
  p_until timestamptz default null
)
returns table (id uuid, source_type text, source_id text, chunk integer, content text,
               metadata jsonb, source_created_at timestamptz, similarity double precision)
language plpgsql
stable
security invoker
set search_path = ''
set hnsw.ef_search = 100
set hnsw.iterative_scan = 'relaxed_order'
set jit = off
as $$
begin
  if p_k is null or p_k < 1 or p_k > 200 then
    raise exception 'p_k must be between 1 and 200, got %', p_k using errcode = '22023';
  end if;
  return query execute format($q$
    with nearest as materialized (
      select e.id, e.source_type, e.source_id, e.chunk, e.content, e.metadata,
             e.source_created_at, e.embedding operator(extensions.<#>) $1 as distance
      from public.evidence_embeddings e
      where e.model = %L %s %s %s
      order by e.embedding operator(extensions.<#>) $1
      limit $2
    )
    select n.id, n.source_type, n.source_id, n.chunk, n.content, n.metadata,
           n.source_created_at, (-n.distance)::float8
    from nearest n
    order by n.distance, n.id
  $q$, p_model,
    case when p_source_types is not null then 'and e.source_type = any ($3)' else '' end,
    case when p_since is not null then 'and e.source_created_at >= $4' else '' end,
    case when p_until is not null then 'and e.source_created_at < $5' else '' end)
  using p_query_embedding, p_k, p_source_types, p_since, p_until;
end
$$;
comment on function public.search_evidence(extensions.vector, text, integer, text[], timestamptz, timestamptz) is
  'The p_k nearest chunks of model p_model to p_query_embedding (unit vector; similarity = inner product = cosine), optionally by source type and source time [since, until). Security invoker: RLS limits it to the caller''s tenant.';
revoke all on function public.search_evidence(extensions.vector, text, integer, text[], timestamptz, timestamptz) from public, anon;
grant execute on function public.search_evidence(extensions.vector, text, integer, text[], timestamptz, timestamptz) to authenticated, service_role;
