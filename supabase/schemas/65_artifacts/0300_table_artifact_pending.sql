-- Where an artifact's bytes wait when its upload failed after the tool had run. The
-- envelope stays settled (succeeded: the tool is never run again because of its artifact),
-- its evidence row says pending, and a later drain uploads the bytes from here
-- (public.artifact_pending_claim, public.artifact_pending_settle), then deletes the row.
-- Bounded: outbox_settle parks bytes only while the rows and bytes waiting stay within
-- internal.artifact_pending_limit; past it the evidence row records the artifact dropped.
create table internal.artifact_pending (
  evidence_id uuid primary key references public.evidence (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  envelope_id uuid,
  bucket_id text not null,
  name text not null,
  content_type text not null,
  content bytea not null,
  size bigint not null generated always as (octet_length(content)) stored,
  attempts integer not null default 0 check (attempts >= 0),
  last_error text,
  next_attempt_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
-- The claim's order, and the cascade from tenants.
create index artifact_pending_tenant_due_idx
  on internal.artifact_pending (tenant_id, next_attempt_at);
create index artifact_pending_due_idx on internal.artifact_pending (next_attempt_at);
alter table internal.artifact_pending enable row level security;

comment on table internal.artifact_pending is
  'Bytes of artifacts whose upload failed, waiting for a later drain to upload them (bounded by internal.artifact_pending_limit). Service only.';
comment on column internal.artifact_pending.evidence_id is 'The evidence row that records the artifact (artifact_status pending).';
comment on column internal.artifact_pending.tenant_id is 'The tenant.';
comment on column internal.artifact_pending.envelope_id is 'The envelope whose output it is (for the audit row of the upload).';
comment on column internal.artifact_pending.bucket_id is 'The Storage bucket it goes to.';
comment on column internal.artifact_pending.name is 'Its object name in the bucket.';
comment on column internal.artifact_pending.content_type is 'Its MIME type.';
comment on column internal.artifact_pending.content is 'The bytes.';
comment on column internal.artifact_pending.size is 'octet_length(content): what counts toward the bound.';
comment on column internal.artifact_pending.attempts is 'Uploads tried from here so far.';
comment on column internal.artifact_pending.last_error is 'Why the last upload failed.';
comment on column internal.artifact_pending.next_attempt_at is 'When a drain may try it next (also the lease while one tries).';
comment on column internal.artifact_pending.created_at is 'When the upload first failed.';
