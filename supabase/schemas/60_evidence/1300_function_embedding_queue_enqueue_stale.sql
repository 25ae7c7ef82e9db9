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
revoke all on function internal.embedding_queue_enqueue_stale(text, timestamptz, uuid) from public;
