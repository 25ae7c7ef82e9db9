-- Records that the HTTP calls are about to be made (see the reclaim in outbox_claim).
create function public.outbox_mark_sending(p_ids uuid[], p_tokens uuid[])
returns integer
language sql
set search_path = ''
as $$
  with marked as (
    update public.outbox o
       set outcome = 'sending'
      from unnest(p_ids, p_tokens) as m (id, token)
     where o.id = m.id and o.lease_token = m.token and o.status = 'running'
    returning 1
  )
  select count(*)::int from marked
$$;
revoke execute on function public.outbox_mark_sending(uuid[], uuid[])
  from public, anon, authenticated;
grant execute on function public.outbox_mark_sending(uuid[], uuid[]) to service_role;
comment on function public.outbox_mark_sending(uuid[], uuid[]) is
  'Marks leased envelopes (outcome = sending) just before their HTTP calls, so an expired lease tells a write that may have been sent (unknown_outcome) from one that never was (retry). Returns how many were still held.';
