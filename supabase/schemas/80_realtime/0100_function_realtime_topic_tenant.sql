-- Realtime channels of a tenant: outbox:<tenant_id>, approvals:<tenant_id> and
-- activity:<tenant_id>, private (RLS on realtime.messages decides who may listen), written
-- only by the publishing triggers below. The tenant a topic names, for the policies: the
-- topic must be exactly one of those, with the tenant id in the canonical lowercase form
-- the triggers publish on; anything else is no tenant (NULL), never an error.
create function internal.realtime_topic_tenant(p_topic text) returns uuid
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_topic ~ '^(outbox|approvals|activity):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
  then
    return pg_catalog.split_part(p_topic, ':', 2)::uuid;
  end if;
  return null;
end
$$;
revoke execute on function internal.realtime_topic_tenant(text) from public;
-- The policy on realtime.messages calls it as the joining user.
grant execute on function internal.realtime_topic_tenant(text) to authenticated;
comment on function internal.realtime_topic_tenant(text) is
  'The tenant a Realtime topic names (outbox:<id>, approvals:<id>, activity:<id>, lowercase uuid), else NULL (never an error). The realtime.messages policy compares it with the caller''s active tenant.';
