-- Reverts 20261203141000_one_embedding_enqueue_trigger.sql: the two trigger functions.
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

drop trigger evidence_embedding_enqueue_insert on public.evidence;
drop trigger evidence_embedding_enqueue_update on public.evidence;
drop trigger evidence_embedding_enqueue_delete on public.evidence;
drop trigger approvals_embedding_enqueue_insert on public.approvals;
drop trigger approvals_embedding_enqueue_update on public.approvals;
drop trigger approvals_embedding_enqueue_delete on public.approvals;

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
revoke all on function internal.embedding_enqueue_evidence() from public;
revoke all on function internal.embedding_enqueue_approval() from public;
drop function internal.embedding_enqueue_source();

delete from supabase_migrations.schema_migrations where version = '20261203141000';
