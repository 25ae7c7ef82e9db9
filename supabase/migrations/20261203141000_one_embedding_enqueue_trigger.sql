-- One trigger function for the embedding queue's sources instead of two copies (evidence,
-- approvals) that differed only in the source type and the columns they watch: the trigger
-- definition now names both.
create function internal.embedding_enqueue_source() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_type constant text := tg_argv[0];
  v_cols constant text[] := tg_argv[1:];
  v_new text;
  v_old text;
begin
  if tg_op = 'DELETE' then
    delete from public.evidence_embeddings e using old_rows o
     where e.source_type = v_type and e.source_id = o.id::text;
    delete from internal.embedding_queue q using old_rows o
     where q.source_type = v_type and q.source_id = o.id::text;
    return null;
  end if;
  -- The columns come from the trigger definition, not from data; quoted all the same.
  select string_agg(format('n.%I', c), ', '), string_agg(format('o.%I', c), ', ')
    into v_new, v_old
    from unnest(v_cols) as c;
  if tg_op = 'INSERT' then
    execute format(
      'select internal.embedding_queue_enqueue(coalesce(jsonb_agg(jsonb_build_object(
         ''source_type'', %L, ''source_id'', n.id::text, ''tenant_id'', n.tenant_id)), ''[]''))
         from new_rows n where num_nonnulls(%s) > 0', v_type, v_new);
  else
    execute format(
      'select internal.embedding_queue_enqueue(coalesce(jsonb_agg(jsonb_build_object(
         ''source_type'', %L, ''source_id'', n.id::text, ''tenant_id'', n.tenant_id)), ''[]''))
         from new_rows n join old_rows o on o.id = n.id
        where row(%s) is distinct from row(%s)', v_type, v_new, v_old);
  end if;
  return null;
end
$$;
comment on function internal.embedding_enqueue_source() is
  'AFTER statement trigger on an embedded source: TG_ARGV = (source type, the columns embedded). Enqueues inserted rows with any of those columns set and updated rows where one changed; removes the embeddings and queue rows of deleted rows.';
revoke all on function internal.embedding_enqueue_source() from public;

drop trigger evidence_embedding_enqueue_insert on public.evidence;
drop trigger evidence_embedding_enqueue_update on public.evidence;
drop trigger evidence_embedding_enqueue_delete on public.evidence;
drop trigger approvals_embedding_enqueue_insert on public.approvals;
drop trigger approvals_embedding_enqueue_update on public.approvals;
drop trigger approvals_embedding_enqueue_delete on public.approvals;

create trigger evidence_embedding_enqueue_insert after insert on public.evidence
  referencing new table as new_rows for each statement
  execute function internal.embedding_enqueue_source('evidence', 'content', 'content_text', 'tool_slug');
create trigger evidence_embedding_enqueue_update after update on public.evidence
  referencing old table as old_rows new table as new_rows for each statement
  execute function internal.embedding_enqueue_source('evidence', 'content', 'content_text', 'tool_slug');
create trigger evidence_embedding_enqueue_delete after delete on public.evidence
  referencing old table as old_rows for each statement
  execute function internal.embedding_enqueue_source('evidence');
create trigger approvals_embedding_enqueue_insert after insert on public.approvals
  referencing new table as new_rows for each statement
  execute function internal.embedding_enqueue_source('approval', 'proposal_summary');
create trigger approvals_embedding_enqueue_update after update on public.approvals
  referencing old table as old_rows new table as new_rows for each statement
  execute function internal.embedding_enqueue_source('approval', 'proposal_summary');
create trigger approvals_embedding_enqueue_delete after delete on public.approvals
  referencing old table as old_rows for each statement
  execute function internal.embedding_enqueue_source('approval');

drop function internal.embedding_enqueue_evidence();
drop function internal.embedding_enqueue_approval();
