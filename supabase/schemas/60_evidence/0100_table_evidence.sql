-- Evidence: what tools returned (read tools feed the agent's context), embedded for
-- semantic search. Written by the service (outbox-drain); tenant members read. An output
-- above the drain's threshold is an artifact in Storage (bucket evidence-artifacts,
-- supabase/schemas/65_artifacts): the row then holds its bucket, path, size and hash and
-- whether it is uploaded yet, never its bytes.
create table public.evidence (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  envelope_id uuid,
  tool_slug text,
  content jsonb not null,
  content_text text,
  created_at timestamptz not null default now(),
  artifact_bucket text,
  artifact_path text,
  artifact_size bigint check (artifact_size >= 0),
  artifact_sha256 text check (artifact_sha256 ~ '^[0-9a-f]{64}$'),
  artifact_status text check (artifact_status in ('uploaded', 'pending', 'dropped')),
  constraint evidence_envelope_fkey foreign key (tenant_id, envelope_id)
    references public.outbox (tenant_id, id) on delete set null (envelope_id),
  -- An artifact is all of bucket, path and status, or none of them.
  constraint evidence_artifact_check
    check (num_nulls(artifact_bucket, artifact_path, artifact_status) in (0, 3))
);
create index evidence_tenant_created_idx on public.evidence (tenant_id, created_at desc);
-- Also serves the ON DELETE SET NULL from outbox (moving an envelope to the DLQ).
create index evidence_envelope_idx on public.evidence (envelope_id, tenant_id);
-- The signed-URL route finds an artifact by its path, within the caller's tenant.
create index evidence_artifact_path_idx on public.evidence (tenant_id, artifact_path)
  where artifact_path is not null;

comment on table public.evidence is 'Tool outputs kept as evidence for proposals and trust scores, linked to the envelope that produced them. Members read.';
comment on column public.evidence.id is 'Evidence id (outbox.trust_context->evidence lists these).';
comment on column public.evidence.tenant_id is 'The tenant.';
comment on column public.evidence.envelope_id is 'The envelope whose execution produced it (NULL once it left the outbox).';
comment on column public.evidence.tool_slug is 'The tool that produced it.';
comment on column public.evidence.content is 'The tool output as returned.';
comment on column public.evidence.content_text is 'Text extracted from content, the input of embeddings.';
comment on column public.evidence.created_at is 'When it was recorded.';
comment on column public.evidence.artifact_bucket is 'Storage bucket of the output kept as an artifact (evidence-artifacts); NULL when the output is in content.';
comment on column public.evidence.artifact_path is 'Object name of the artifact in its bucket: <tenant_id>/<envelope_id>/output.json.';
comment on column public.evidence.artifact_size is 'Size of the artifact in bytes.';
comment on column public.evidence.artifact_sha256 is 'SHA-256 (hex) of the artifact''s bytes.';
comment on column public.evidence.artifact_status is 'uploaded (in Storage), pending (its upload failed; the bytes wait in internal.artifact_pending for a later drain) or dropped (too large, or the pending store was full: the bytes were not kept).';

revoke truncate, references, trigger on public.evidence from anon, authenticated;
alter table public.evidence enable row level security;
create policy evidence_select_member on public.evidence for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
