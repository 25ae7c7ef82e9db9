-- As embedding_enqueue_evidence, for audit_log entries of a tenant (insert only: the log
-- is append-only).
create function internal.embedding_enqueue_audit() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform internal.embedding_queue_enqueue(coalesce(jsonb_agg(jsonb_build_object(
    'source_type', 'audit', 'source_id', n.id::text, 'tenant_id', n.tenant_id)), '[]'))
  from new_rows n where n.tenant_id is not null;
  return null;
end
$$;
comment on function internal.embedding_enqueue_audit() is
  'AFTER INSERT statement trigger on audit_log (append-only): enqueues tenant entries. Never modifies audit_log.';
revoke all on function internal.embedding_enqueue_audit() from public;

create trigger audit_log_embedding_enqueue after insert on public.audit_log
  referencing new table as new_rows for each statement
  execute function internal.embedding_enqueue_audit();
