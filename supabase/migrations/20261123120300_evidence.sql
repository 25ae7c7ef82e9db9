-- Evidence: what tools returned (read tools feed the agent's context) and its embeddings
-- for semantic search. Written by the service (outbox-drain, embedding-reindexer); tenant
-- members read.

-- A no-op where the platform pre-installs pgvector (hosted, and the local stack).
create extension if not exists vector with schema extensions;

create table public.evidence (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  envelope_id uuid references public.outbox (id) on delete set null,
  tool_slug text,
  content jsonb not null,
  content_text text,
  created_at timestamptz not null default now()
);
create index evidence_tenant_created_idx on public.evidence (tenant_id, created_at desc);
-- Also serves the ON DELETE SET NULL from outbox (moving an envelope to the DLQ).
create index evidence_envelope_idx on public.evidence (envelope_id);

comment on table public.evidence is 'Tool outputs kept as evidence for proposals and trust scores, linked to the envelope that produced them. Members read.';
comment on column public.evidence.id is 'Evidence id (outbox.trust_context->evidence lists these).';
comment on column public.evidence.tenant_id is 'The tenant.';
comment on column public.evidence.envelope_id is 'The envelope whose execution produced it (NULL once it left the outbox).';
comment on column public.evidence.tool_slug is 'The tool that produced it.';
comment on column public.evidence.content is 'The tool output as returned.';
comment on column public.evidence.content_text is 'Text extracted from content, the input of embeddings.';
comment on column public.evidence.created_at is 'When it was recorded.';

-- ---------------------------------------------------------------------------------------
-- No vector index here: similarity search compares vectors of one model only, so a later
-- migration adds one partial HNSW index per model.
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
  unique (source_type, source_id, chunk, model)
);
create index evidence_embeddings_tenant_idx on public.evidence_embeddings (tenant_id);

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

-- ---------------------------------------------------------------------------------------
revoke truncate, references, trigger on public.evidence, public.evidence_embeddings
  from anon, authenticated;

alter table public.evidence enable row level security;
alter table public.evidence_embeddings enable row level security;

create policy evidence_select_member on public.evidence for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
create policy evidence_embeddings_select_member on public.evidence_embeddings for select
  to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);
