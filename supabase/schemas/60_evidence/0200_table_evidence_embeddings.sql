-- Embeddings of evidence, audit entries and proposal summaries, one row per source chunk and
-- model, and the indexes search uses. Written by the embedding-reindexer; members read.
create table public.evidence_embeddings (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  source_type text not null check (source_type in ('evidence', 'audit', 'approval')),
  source_id text not null,
  chunk int not null default 0 check (chunk >= 0),
  model text not null check (btrim(model) <> ''),
  content_hash text not null check (content_hash <> ''),
  content text not null,
  embedding extensions.vector(384) not null,
  metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  source_created_at timestamptz not null default now(),
  content_tsv tsvector generated always as (to_tsvector('english'::regconfig, content)) stored,
  unique (source_type, source_id, chunk, model)
);
create index evidence_embeddings_tenant_idx on public.evidence_embeddings (tenant_id);
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

comment on table public.evidence_embeddings is
  'Embeddings (384 dimensions) of evidence, audit entries and proposal summaries, one row per source chunk and model. Members read; the reindexer writes.';
comment on column public.evidence_embeddings.id is 'Row id.';
comment on column public.evidence_embeddings.tenant_id is 'The tenant.';
comment on column public.evidence_embeddings.source_type is 'What was embedded: evidence, audit or approval.';
comment on column public.evidence_embeddings.source_id is 'Id of the source row (text: audit ids are bigint, the others uuid).';
comment on column public.evidence_embeddings.chunk is 'Chunk number within the source (0 for short sources).';
comment on column public.evidence_embeddings.model is 'Embedding model (gte-small, …); only vectors of one model are compared.';
comment on column public.evidence_embeddings.content_hash is 'Hash of the embedded text; unchanged content is not embedded again.';
comment on column public.evidence_embeddings.content is 'The embedded text.';
comment on column public.evidence_embeddings.embedding is 'The vector (normalised, 384 dimensions).';
comment on column public.evidence_embeddings.metadata is 'Details for search results (tool, title, …).';
comment on column public.evidence_embeddings.created_at is 'When it was embedded.';
comment on column public.evidence_embeddings.source_created_at is
  'When the source (evidence, audit entry, approval) was recorded; search filters by it.';
comment on column public.evidence_embeddings.content_tsv is
  'Full-text vector of content (english), for the text half of hybrid search.';

revoke truncate, references, trigger on public.evidence_embeddings from anon, authenticated;
alter table public.evidence_embeddings enable row level security;
create policy evidence_embeddings_select_member on public.evidence_embeddings for select
  to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
