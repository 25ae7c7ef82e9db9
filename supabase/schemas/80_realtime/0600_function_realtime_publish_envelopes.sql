-- One tenant's share of an outbox statement, as messages: `envelopes` on outbox:<tenant_id>
-- ({tenant_id, op, count, truncated, envelopes: [{id, status, previous_status, tool_slug,
-- attempts}]}, at most 100 listed), and for envelopes that now wait for a person,
-- `approval_requested` on approvals:<tenant_id> ({tenant_id, envelopes: [{id, tool_slug}]}).
-- Ids, statuses, counts and tool slugs only: never arguments, results or errors.
create function internal.realtime_publish_envelopes(
  p_tenant_id uuid,
  p_op text,
  p_count integer,
  p_listed jsonb,
  p_requested jsonb
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.send(
    jsonb_build_object('tenant_id', p_tenant_id, 'op', p_op, 'count', p_count,
                       'truncated', p_count > jsonb_array_length(p_listed),
                       'envelopes', p_listed),
    'envelopes', 'outbox:' || p_tenant_id, true);
  if jsonb_array_length(p_requested) > 0 then
    perform realtime.send(
      jsonb_build_object('tenant_id', p_tenant_id, 'envelopes', p_requested),
      'approval_requested', 'approvals:' || p_tenant_id, true);
  end if;
end
$$;
revoke execute on function internal.realtime_publish_envelopes(uuid, text, integer, jsonb, jsonb)
  from public;
comment on function internal.realtime_publish_envelopes(uuid, text, integer, jsonb, jsonb) is
  'Sends one tenant''s envelope changes of a statement: envelopes {tenant_id, op, count, truncated, envelopes: [{id, status, previous_status, tool_slug, attempts}]} on outbox:<tenant_id>, and approval_requested {tenant_id, envelopes: [{id, tool_slug}]} on approvals:<tenant_id> for those now needs_approval.';
