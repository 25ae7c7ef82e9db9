-- Reverts 20261123120300_evidence.sql. The vector extension belongs to the platform and
-- stays.
drop table public.evidence_embeddings;
drop table public.evidence;

delete from supabase_migrations.schema_migrations where version = '20261123120300';
