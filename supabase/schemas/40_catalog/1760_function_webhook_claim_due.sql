-- drift-monitor: the due webhook deliveries (of one tenant, or all), oldest due first.
-- Claiming counts the attempt and pushes next_attempt_at past a lease, so a concurrent run
-- skips them and a run that dies mid-send leaves them due again once the lease is over.
create function internal.webhook_claim_due(p_tenant_id uuid, p_limit integer,
                                           p_lease_seconds integer)
returns table (id bigint, tenant_id uuid, url text, body text, attempts integer)
language sql
set search_path = ''
as $$
  update public.webhook_deliveries d
     set attempts = d.attempts + 1,
         next_attempt_at = now() + make_interval(secs => p_lease_seconds)
   where d.id in (select w.id from public.webhook_deliveries w
                   where w.status = 'pending' and w.next_attempt_at <= now()
                     and (p_tenant_id is null or w.tenant_id = p_tenant_id)
                   order by w.next_attempt_at, w.id
                   limit p_limit
                     for update skip locked)
  returning d.id, d.tenant_id, d.url, d.body::text, d.attempts
$$;
revoke all on function internal.webhook_claim_due(uuid, integer, integer) from public;
comment on function internal.webhook_claim_due(uuid, integer, integer) is
  'Claims up to p_limit due pending webhook deliveries (p_tenant_id''s, or every tenant''s when NULL), oldest due first, skipping rows another run holds: counts the attempt and leases the row for p_lease_seconds. Returns id, tenant, url, body as JSON text and the attempt number.';
