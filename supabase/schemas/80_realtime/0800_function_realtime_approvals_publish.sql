-- Approval outcomes on approvals:<tenant_id>: after each statement that records decisions,
-- one `approval_decided` message per tenant ({tenant_id, count, truncated, approvals: [{id,
-- envelope_id, decision, reviewer_id}]}, at most 100 listed). The reviewer's reason and the
-- proposal summary are not sent: free text stays in the table, behind its RLS.
create function internal.realtime_approvals_publish() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
begin
  for r in
    select a.tenant_id, count(*)::int as n,
           to_jsonb((array_agg(jsonb_build_object('id', a.id, 'envelope_id', a.envelope_id,
                                                  'decision', a.decision,
                                                  'reviewer_id', a.reviewer_id)
                               order by a.created_at, a.id))[1:100]) as listed
      from new_rows a
     group by a.tenant_id
  loop
    perform realtime.send(
      jsonb_build_object('tenant_id', r.tenant_id, 'count', r.n, 'truncated', r.n > 100,
                         'approvals', r.listed),
      'approval_decided', 'approvals:' || r.tenant_id, true);
  end loop;
  return null;
end
$$;
revoke execute on function internal.realtime_approvals_publish() from public;
comment on function internal.realtime_approvals_publish() is
  'AFTER INSERT statement trigger on approvals: per tenant, approval_decided {tenant_id, count, truncated, approvals: [{id, envelope_id, decision, reviewer_id}]} on approvals:<tenant_id>. No reasons or summaries.';

create trigger realtime_publish after insert on public.approvals
  referencing new table as new_rows
  for each statement execute function internal.realtime_approvals_publish();
