-- As embedding_enqueue_evidence, for approvals.proposal_summary.
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
revoke all on function internal.embedding_enqueue_approval() from public;

create trigger approvals_embedding_enqueue_insert after insert on public.approvals
  referencing new table as new_rows for each statement
  execute function internal.embedding_enqueue_approval();
create trigger approvals_embedding_enqueue_update after update on public.approvals
  referencing old table as old_rows new table as new_rows for each statement
  execute function internal.embedding_enqueue_approval();
create trigger approvals_embedding_enqueue_delete after delete on public.approvals
  referencing old table as old_rows for each statement
  execute function internal.embedding_enqueue_approval();
