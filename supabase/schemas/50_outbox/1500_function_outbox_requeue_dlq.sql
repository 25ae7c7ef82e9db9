-- Operator actions: requeue dead letters.
create function public.outbox_requeue_dlq(
  p_tenant_id uuid,
  p_limit integer,
  p_actor text,
  p_id uuid default null
) returns setof uuid
language plpgsql
set search_path = ''
as $$
declare
  v_env public.outbox;
begin
  if p_limit is null or p_limit < 1 or p_limit > 100000 then
    raise exception 'outbox_requeue_dlq: p_limit must be within 1..100000, got %', p_limit
      using errcode = '22023';
  end if;
  for v_env in
    with moved as (
      delete from public.outbox_dlq d
       where d.id in (select x.id from public.outbox_dlq x
                       where (p_tenant_id is null or x.tenant_id = p_tenant_id)
                         and (p_id is null or x.id = p_id)
                       order by x.moved_at, x.id
                       limit p_limit
                       for update skip locked)
      returning d.*
    ), ins as (
    insert into public.outbox (id, tenant_id, tool_slug, toolkit, arguments,
                               connected_account_id, risk, read_only, external_id,
                               trust_context, metadata, status, attempts, next_run_at,
                               last_error, claimed_by, outcome, created_at, priority)
    select m.id, m.tenant_id, m.tool_slug, m.toolkit, m.arguments, m.connected_account_id,
           m.risk, m.read_only, m.external_id, m.trust_context, m.metadata, 'pending', 0,
           now(), m.last_error, m.claimed_by, 'requeued', m.created_at, m.priority
      from moved m
    returning *
  ), requeued as (
    select * from ins
  )
  select r.* from requeued r order by r.tenant_id, r.id
  loop
    perform internal.outbox_audit(v_env, 'outbox_requeued', 'operator', p_actor, '{}');
    return next v_env.id;
  end loop;
end
$$;
revoke execute on function public.outbox_requeue_dlq(uuid, integer, text, uuid)
  from public, anon, authenticated;
grant execute on function public.outbox_requeue_dlq(uuid, integer, text, uuid) to service_role;
comment on function public.outbox_requeue_dlq(uuid, integer, text, uuid) is
  'Operator: moves up to p_limit dead letters (of one tenant, or one envelope p_id, or all) back into outbox as pending with attempts reset, oldest first; one audit row each. Returns their ids.';
