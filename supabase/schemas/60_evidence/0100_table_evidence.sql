-- Evidence: what tools returned (read tools feed the agent's context), embedded for
-- semantic search. Written by the service (outbox-drain); tenant members read.
create table public.evidence (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  envelope_id uuid,
  tool_slug text,
  content jsonb not null,
  content_text text,
  created_at timestamptz not null default now(),
  constraint evidence_envelope_fkey foreign key (tenant_id, envelope_id)
    references public.outbox (tenant_id, id) on delete set null (envelope_id)
);
create index evidence_tenant_created_idx on public.evidence (tenant_id, created_at desc);
-- Also serves the ON DELETE SET NULL from outbox (moving an envelope to the DLQ).
create index evidence_envelope_idx on public.evidence (envelope_id, tenant_id);

comment on table public.evidence is 'Tool outputs kept as evidence for proposals and trust scores, linked to the envelope that produced them. Members read.';
comment on column public.evidence.id is 'Evidence id (outbox.trust_context->evidence lists these).';
comment on column public.evidence.tenant_id is 'The tenant.';
comment on column public.evidence.envelope_id is 'The envelope whose execution produced it (NULL once it left the outbox).';
comment on column public.evidence.tool_slug is 'The tool that produced it.';
comment on column public.evidence.content is 'The tool output as returned.';
comment on column public.evidence.content_text is 'Text extracted from content, the input of embeddings.';
comment on column public.evidence.created_at is 'When it was recorded.';

revoke truncate, references, trigger on public.evidence from anon, authenticated;
alter table public.evidence enable row level security;
create policy evidence_select_member on public.evidence for select to authenticated
  using (tenant_id = (select internal.active_tenant_id()));
