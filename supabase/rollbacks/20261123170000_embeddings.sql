-- Reverts 20261123170000_embeddings.sql. Leaves the platform extensions in place.
select jobs.unschedule('embedding-reindexer-nightly');
select jobs.unschedule('embedding-reindexer');
delete from jobs.registry where slug = 'embedding-reindexer';

drop function public.search_evidence_hybrid(text, extensions.vector, text, integer, text[], timestamptz, timestamptz, integer);
drop function public.search_evidence(extensions.vector, text, integer, text[], timestamptz, timestamptz);

drop function internal.embedding_queue_enqueue_stale(text, timestamptz, uuid);
drop function internal.embedding_queue_fail(text, jsonb, text);
drop function internal.embedding_queue_complete(text, jsonb);
drop function internal.embeddings_store(text, jsonb, jsonb);
drop function internal.embedding_sources(jsonb, text);
drop function internal.embedding_queue_claim(text, integer, integer, uuid);

drop trigger audit_log_embedding_enqueue on public.audit_log;
drop trigger approvals_embedding_enqueue_delete on public.approvals;
drop trigger approvals_embedding_enqueue_update on public.approvals;
drop trigger approvals_embedding_enqueue_insert on public.approvals;
drop trigger evidence_embedding_enqueue_delete on public.evidence;
drop trigger evidence_embedding_enqueue_update on public.evidence;
drop trigger evidence_embedding_enqueue_insert on public.evidence;
drop function internal.embedding_enqueue_audit();
drop function internal.embedding_enqueue_approval();
drop function internal.embedding_enqueue_evidence();
drop function internal.embedding_queue_enqueue(jsonb, boolean);
drop table internal.embedding_queue;

drop index public.evidence_embeddings_hnsw_hash_test;
drop index public.evidence_embeddings_hnsw_use_lite;
drop index public.evidence_embeddings_hnsw_openai_384;
drop index public.evidence_embeddings_hnsw_gte_small;
drop index public.evidence_embeddings_tsv_idx;
alter table public.evidence_embeddings drop column content_tsv, drop column source_created_at;

delete from supabase_migrations.schema_migrations where version = '20261123170000';
