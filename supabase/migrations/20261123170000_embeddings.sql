-- Embeddings: the work queue of the embedding-reindexer (fed by triggers on the sources),
-- its claim / complete / fail / store functions, one partial HNSW index per model, and the
-- search functions (vector, and hybrid with full text) that RLS scopes to the caller.
--
-- Why a queue and not a time watermark: a row whose transaction commits late carries an
-- older created_at than rows already processed, so "everything after the last run" skips
-- it. A queue row becomes visible when its source commits, whenever that is.

-- ---------------------------------------------------------------------------------------
-- Columns for search
alter table public.evidence_embeddings
  add column source_created_at timestamptz not null default now(),
  add column content_tsv tsvector generated always as (to_tsvector('english'::regconfig, content)) stored;
comment on column public.evidence_embeddings.source_created_at is
  'When the source (evidence, audit entry, approval) was recorded; search filters by it.';
comment on column public.evidence_embeddings.content_tsv is
  'Full-text vector of content (english), for the text half of hybrid search.';

-- Seeded or earlier rows: take the time from their source.
update public.evidence_embeddings e set source_created_at = s.created_at
  from public.evidence s where e.source_type = 'evidence' and s.id::text = e.source_id;

create index evidence_embeddings_tsv_idx on public.evidence_embeddings using gin (content_tsv);

-- One partial HNSW index per model: a search compares vectors of one model only, and an
-- index over all models would return neighbours of the wrong model first. Inner product
-- on unit vectors is cosine similarity, and the cheapest distance to compute.
create index evidence_embeddings_hnsw_gte_small on public.evidence_embeddings
  using hnsw (embedding extensions.vector_ip_ops) where model = 'gte-small';
create index evidence_embeddings_hnsw_openai_384 on public.evidence_embeddings
  using hnsw (embedding extensions.vector_ip_ops) where model = 'text-embedding-3-small-384';
create index evidence_embeddings_hnsw_use_lite on public.evidence_embeddings
  using hnsw (embedding extensions.vector_ip_ops) where model = 'use-lite-512-proj384-v1';
create index evidence_embeddings_hnsw_hash_test on public.evidence_embeddings
  using hnsw (embedding extensions.vector_ip_ops) where model = 'hash-test-v1';

-- ---------------------------------------------------------------------------------------
-- The queue
create table internal.embedding_queue (
  source_type text not null check (source_type in ('evidence', 'audit', 'approval')),
  source_id text not null,
  tenant_id uuid not null,
  generation bigint not null default 1,
  force boolean not null default false,
  enqueued_at timestamptz not null default now(),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  claimed_by text,
  last_error text,
  primary key (source_type, source_id)
);
create index embedding_queue_due_idx on internal.embedding_queue (next_attempt_at);
create index embedding_queue_tenant_idx on internal.embedding_queue (tenant_id);
alter table internal.embedding_queue enable row level security;

comment on table internal.embedding_queue is
  'Sources whose embeddings are due: one row per source, fed by triggers on evidence, approvals and audit_log, claimed with FOR UPDATE SKIP LOCKED, deleted when embedded.';
comment on column internal.embedding_queue.source_type is 'evidence, audit or approval.';
comment on column internal.embedding_queue.source_id is 'Id of the source row, as text.';
comment on column internal.embedding_queue.tenant_id is 'The source''s tenant (no foreign key: a deleted tenant''s rows are dropped when claimed).';
comment on column internal.embedding_queue.generation is
  'Bumped on every re-enqueue; completion deletes the row only if it still has the claimed generation, so a change made while a worker embedded is not lost.';
comment on column internal.embedding_queue.force is 'Re-embed even chunks whose content hash is unchanged (nightly refresh, model change).';
comment on column internal.embedding_queue.enqueued_at is 'When the source last changed (or was re-enqueued).';
comment on column internal.embedding_queue.attempts is 'Failed attempts since the last change.';
comment on column internal.embedding_queue.next_attempt_at is
  'Due from this instant. A claim moves it to the end of the lease, so a crashed worker''s rows become due again by themselves.';
comment on column internal.embedding_queue.claimed_by is 'The job run holding it (NULL when not claimed).';
comment on column internal.embedding_queue.last_error is 'Error of the last failed attempt.';

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

-- ---------------------------------------------------------------------------------------
-- Triggers on the sources: statement-level with transition tables, one insert per
-- statement however many rows it wrote. SECURITY DEFINER because the writer (a job as
-- postgres, or service_role) need not have rights on schema internal.
create function internal.embedding_enqueue_evidence() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform internal.embedding_queue_enqueue(coalesce(jsonb_agg(jsonb_build_object(
      'source_type', 'evidence', 'source_id', n.id::text, 'tenant_id', n.tenant_id)), '[]'))
    from new_rows n;
  elsif tg_op = 'UPDATE' then
    perform internal.embedding_queue_enqueue(coalesce(jsonb_agg(jsonb_build_object(
      'source_type', 'evidence', 'source_id', n.id::text, 'tenant_id', n.tenant_id)), '[]'))
    from new_rows n join old_rows o on o.id = n.id
    where (n.content, n.content_text, n.tool_slug) is distinct from (o.content, o.content_text, o.tool_slug);
  else
    delete from public.evidence_embeddings e using old_rows o
     where e.source_type = 'evidence' and e.source_id = o.id::text;
    delete from internal.embedding_queue q using old_rows o
     where q.source_type = 'evidence' and q.source_id = o.id::text;
  end if;
  return null;
end
$$;
comment on function internal.embedding_enqueue_evidence() is
  'AFTER statement trigger on evidence: enqueues inserted rows and rows whose content, content_text or tool_slug changed; removes the embeddings of deleted rows.';

create function internal.embedding_enqueue_approval() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform internal.embedding_queue_enqueue(coalesce(jsonb_agg(jsonb_build_object(
      'source_type', 'approval', 'source_id', n.id::text, 'tenant_id', n.tenant_id)), '[]'))
    from new_rows n where n.proposal_summary is not null;
  elsif tg_op = 'UPDATE' then
    perform internal.embedding_queue_enqueue(coalesce(jsonb_agg(jsonb_build_object(
      'source_type', 'approval', 'source_id', n.id::text, 'tenant_id', n.tenant_id)), '[]'))
    from new_rows n join old_rows o on o.id = n.id
    where n.proposal_summary is distinct from o.proposal_summary;
  else
    delete from public.evidence_embeddings e using old_rows o
     where e.source_type = 'approval' and e.source_id = o.id::text;
    delete from internal.embedding_queue q using old_rows o
     where q.source_type = 'approval' and q.source_id = o.id::text;
  end if;
  return null;
end
$$;
comment on function internal.embedding_enqueue_approval() is
  'AFTER statement trigger on approvals: enqueues rows with a proposal_summary when inserted or when it changed; removes the embeddings of deleted rows.';

create function internal.embedding_enqueue_audit() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform internal.embedding_queue_enqueue(coalesce(jsonb_agg(jsonb_build_object(
    'source_type', 'audit', 'source_id', n.id::text, 'tenant_id', n.tenant_id)), '[]'))
  from new_rows n where n.tenant_id is not null;
  return null;
end
$$;
comment on function internal.embedding_enqueue_audit() is
  'AFTER INSERT statement trigger on audit_log (append-only): enqueues tenant entries. Never modifies audit_log.';

create trigger evidence_embedding_enqueue_insert after insert on public.evidence
  referencing new table as new_rows for each statement
  execute function internal.embedding_enqueue_evidence();
create trigger evidence_embedding_enqueue_update after update on public.evidence
  referencing old table as old_rows new table as new_rows for each statement
  execute function internal.embedding_enqueue_evidence();
create trigger evidence_embedding_enqueue_delete after delete on public.evidence
  referencing old table as old_rows for each statement
  execute function internal.embedding_enqueue_evidence();
create trigger approvals_embedding_enqueue_insert after insert on public.approvals
  referencing new table as new_rows for each statement
  execute function internal.embedding_enqueue_approval();
create trigger approvals_embedding_enqueue_update after update on public.approvals
  referencing old table as old_rows new table as new_rows for each statement
  execute function internal.embedding_enqueue_approval();
create trigger approvals_embedding_enqueue_delete after delete on public.approvals
  referencing old table as old_rows for each statement
  execute function internal.embedding_enqueue_approval();
create trigger audit_log_embedding_enqueue after insert on public.audit_log
  referencing new table as new_rows for each statement
  execute function internal.embedding_enqueue_audit();

-- What exists now is due too.
select internal.embedding_queue_enqueue(coalesce(jsonb_agg(s), '[]'))
from (
  select 'evidence' as source_type, id::text as source_id, tenant_id from public.evidence
  union all
  select 'approval', id::text, tenant_id from public.approvals where proposal_summary is not null
  union all
  select 'audit', id::text, tenant_id from public.audit_log where tenant_id is not null
) s;

-- ---------------------------------------------------------------------------------------
-- The reindexer's steps, one SQL operation each.

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

create function internal.embedding_queue_enqueue_stale(
  p_model text, p_since timestamptz, p_tenant_id uuid default null
)
returns integer
language sql
set search_path = ''
as $$
  -- Nightly: sources recorded since p_since (re-embedded whatever their hash), and every
  -- source that has vectors of another model but none of p_model.
  select internal.embedding_queue_enqueue(coalesce(jsonb_agg(s), '[]'), true)
  from (
    select 'evidence' as source_type, id::text as source_id, tenant_id
      from public.evidence
     where created_at >= p_since and (p_tenant_id is null or tenant_id = p_tenant_id)
    union
    select 'approval', id::text, tenant_id from public.approvals
     where created_at >= p_since and proposal_summary is not null
       and (p_tenant_id is null or tenant_id = p_tenant_id)
    union
    select 'audit', id::text, tenant_id from public.audit_log
     where created_at >= p_since and tenant_id is not null
       and (p_tenant_id is null or tenant_id = p_tenant_id)
    union
    select e.source_type, e.source_id, e.tenant_id from public.evidence_embeddings e
     where e.model <> p_model and (p_tenant_id is null or e.tenant_id = p_tenant_id)
       and not exists (select 1 from public.evidence_embeddings a
                        where a.source_type = e.source_type and a.source_id = e.source_id
                          and a.model = p_model)
  ) s
$$;
comment on function internal.embedding_queue_enqueue_stale(text, timestamptz, uuid) is
  'Enqueues (forced) the sources recorded since p_since and those with vectors of another model than p_model only. Returns the rows touched.';

revoke all on function internal.embedding_queue_enqueue(jsonb, boolean) from public;
revoke all on function internal.embedding_enqueue_evidence() from public;
revoke all on function internal.embedding_enqueue_approval() from public;
revoke all on function internal.embedding_enqueue_audit() from public;
revoke all on function internal.embedding_queue_claim(text, integer, integer, uuid) from public;
revoke all on function internal.embedding_sources(jsonb, text) from public;
revoke all on function internal.embeddings_store(text, jsonb, jsonb) from public;
revoke all on function internal.embedding_queue_complete(text, jsonb) from public;
revoke all on function internal.embedding_queue_fail(text, jsonb, text) from public;
revoke all on function internal.embedding_queue_enqueue_stale(text, timestamptz, uuid) from public;

-- ---------------------------------------------------------------------------------------
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

revoke all on function public.search_evidence(extensions.vector, text, integer, text[], timestamptz, timestamptz) from public, anon;
revoke all on function public.search_evidence_hybrid(text, extensions.vector, text, integer, text[], timestamptz, timestamptz, integer) from public, anon;
grant execute on function public.search_evidence(extensions.vector, text, integer, text[], timestamptz, timestamptz) to authenticated, service_role;
grant execute on function public.search_evidence_hybrid(text, extensions.vector, text, integer, text[], timestamptz, timestamptz, integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Schedules: drain the queue every minute (each run chains itself while work remains);
-- nightly, re-embed the last 7 days and sources embedded only by another model.
select jobs.register('embedding-reindexer', 50000, 60);
select jobs.schedule('embedding-reindexer', '* * * * *', 'embedding-reindexer', '{}'::jsonb);
select jobs.schedule('embedding-reindexer-nightly', '17 3 * * *', 'embedding-reindexer',
                     '{"mode": "nightly", "window_days": 7}'::jsonb);
