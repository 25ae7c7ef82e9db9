-- The Storage bucket for tool outputs too large for an evidence row (seed 001): private
-- (no public URLs; members get signed links through outbox-drain's /artifacts/sign), up to
-- the hosted free plan's 50 MB per object. Objects are named
-- <tenant_id>/<envelope_id>/output.json, so the first folder says whose an object is
-- (0200_policies_evidence_artifacts.sql). A row of the platform's table storage.buckets:
-- the drift test compares it (stack/schema_compare.ts), 16_artifacts.test.sql checks it.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('evidence-artifacts', 'evidence-artifacts', false, 52428800, null);
