-- Operator actions: settle an unknown_outcome envelope.
create function public.outbox_resolve(
  p_id uuid,
  p_resolution text,
  p_actor text,
  p_note text default null
) returns public.outbox
language plpgsql
set search_path = ''
as $$
declare
  v_env public.outbox;
begin
  if p_resolution not in ('done', 'retry') then
    raise exception 'outbox_resolve: resolution must be done or retry, got %', p_resolution
      using errcode = '22023';
  end if;
  select * into v_env from public.outbox o where o.id = p_id for update;
  if not found then
    raise exception 'envelope % not found', p_id using errcode = 'PT404';
  end if;
  if v_env.status <> 'unknown_outcome' then
    raise exception 'envelope % is %, only an unknown_outcome envelope can be resolved',
                    p_id, v_env.status using errcode = 'PT409';
  end if;
  update public.outbox o
     set status = case p_resolution when 'done' then 'succeeded' else 'retry' end,
         outcome = 'resolved_' || p_resolution,
         next_run_at = case p_resolution when 'retry' then now() else o.next_run_at end,
         completed_at = case p_resolution when 'done' then now() end,
         last_error = coalesce(p_note, o.last_error)
   where o.id = p_id
  returning o.* into v_env;
  perform internal.outbox_audit(v_env, 'outbox_resolved', 'operator', p_actor,
                                jsonb_build_object('resolution', p_resolution, 'note', p_note));
  return v_env;
end
$$;
revoke execute on function public.outbox_resolve(uuid, text, text, text)
  from public, anon, authenticated;
grant execute on function public.outbox_resolve(uuid, text, text, text) to service_role;
comment on function public.outbox_resolve(uuid, text, text, text) is
  'Operator: settles an unknown_outcome envelope as done (succeeded) or retry (due now, the operator takes the duplicate risk); one audit row. PT404 not found, PT409 not unknown_outcome.';
