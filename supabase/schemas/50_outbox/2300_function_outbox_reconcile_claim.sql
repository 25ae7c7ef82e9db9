-- Leases unknown_outcome envelopes whose tool declares a read-back (internal.tool_readbacks)
-- for one read each, oldest unknown first, and returns with each what the read needs: the
-- declaration, the read tool's catalog row, the account the write ran with, and whether the
-- settle delay had passed when the lease was taken.
--
-- The envelope stays unknown_outcome; the lease lives in internal.outbox_reconcile. Two
-- drains never read one envelope at once: candidates are locked SKIP LOCKED, and the lease
-- is taken by an upsert whose conflict branch re-checks the committed row (a lease another
-- drain took since this statement's snapshot wins). A read is counted when it is claimed,
-- so a drain that dies mid-read still spends one; its lease lapses by next_attempt_at.
create function public.outbox_reconcile_claim(
  p_worker text,
  p_limit integer,
  p_lease_ms integer,
  p_tenant_id uuid default null
) returns table (
  id uuid,
  tenant_id uuid,
  tool_slug text,
  toolkit text,
  arguments jsonb,
  external_id text,
  attempts integer,
  lease_token uuid,
  lease_expires_at timestamptz,
  -- This read's number within the envelope's current unknown_outcome, 1-based.
  reconcile_attempt integer,
  -- When the envelope became unknown_outcome, and when its settle delay ends.
  unknown_since timestamptz,
  settle_deadline timestamptz,
  past_settle_delay boolean,
  readback jsonb,
  read_version text,
  read_toolkit text,
  read_read_only boolean,
  account_external_id text,
  -- As in outbox_claim: null when the account's current external id was never checked.
  account_owned boolean
)
language plpgsql
set search_path = ''
as $$
begin
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception 'outbox_reconcile_claim: p_limit must be within 1..1000, got %', p_limit
      using errcode = '22023';
  end if;
  if p_lease_ms is null or p_lease_ms < 100 or p_lease_ms > 3600000 then
    raise exception 'outbox_reconcile_claim: p_lease_ms must be within 100..3600000, got %',
                    p_lease_ms using errcode = '22023';
  end if;

  return query
  with candidates as (
    select o.id, o.attempts
      from public.outbox o
      left join internal.outbox_reconcile s on s.envelope_id = o.id
     where o.status = 'unknown_outcome'
       and (p_tenant_id is null or o.tenant_id = p_tenant_id)
       and exists (select from internal.tool_readbacks r
                    where r.tool_slug = o.tool_slug
                      and (r.tenant_id = o.tenant_id or r.tenant_id is null))
       and (s.envelope_id is null or s.episode <> o.attempts
            or (s.gave_up_at is null and s.next_attempt_at <= now()))
     order by o.completed_at
     limit p_limit
       for update of o skip locked
  ),
  leased as (
    insert into internal.outbox_reconcile as s (envelope_id, episode, attempts, next_attempt_at,
                                                lease_token, claimed_at, claimed_by)
    select c.id, c.attempts, 1,
           now() + make_interval(secs => p_lease_ms / 1000.0), gen_random_uuid(), now(),
           p_worker
      from candidates c
    on conflict (envelope_id) do update
       set attempts = case when s.episode = excluded.episode then s.attempts + 1 else 1 end,
           episode = excluded.episode,
           next_attempt_at = excluded.next_attempt_at,
           lease_token = excluded.lease_token,
           claimed_at = excluded.claimed_at,
           claimed_by = excluded.claimed_by,
           last_error = case when s.episode = excluded.episode then s.last_error end,
           gave_up_at = null
     where s.episode <> excluded.episode
        or (s.gave_up_at is null and s.next_attempt_at <= now())
    returning s.envelope_id, s.attempts, s.lease_token, s.next_attempt_at, s.claimed_at
  )
  select o.id, o.tenant_id, o.tool_slug, o.toolkit, o.arguments, o.external_id, o.attempts,
         l.lease_token, l.next_attempt_at, l.attempts,
         coalesce(o.completed_at, o.updated_at),
         coalesce(o.completed_at, o.updated_at)
           + make_interval(secs => d.settle_delay_ms / 1000.0),
         l.claimed_at >= coalesce(o.completed_at, o.updated_at)
                         + make_interval(secs => d.settle_delay_ms / 1000.0),
         jsonb_build_object('id', d.id, 'tenant_id', d.tenant_id, 'tool_slug', d.tool_slug,
                            'read_tool_slug', d.read_tool_slug,
                            'read_arguments', d.read_arguments, 'match', d.match,
                            'marker_argument', d.marker_argument,
                            'authoritative', d.authoritative,
                            'settle_delay_ms', d.settle_delay_ms,
                            'max_attempts', d.max_attempts),
         t.version, t.toolkit, t.read_only,
         a.external_account_id,
         case when a.verified_external_account_id = a.external_account_id
              then a.verified_owned end
    from leased l
    join public.outbox o on o.id = l.envelope_id
    -- The tenant's own declaration wins over the global one.
    cross join lateral (
      select r.* from internal.tool_readbacks r
       where r.tool_slug = o.tool_slug and (r.tenant_id = o.tenant_id or r.tenant_id is null)
       order by r.tenant_id nulls last
       limit 1
    ) d
    left join public.tool_catalog t
      on t.tenant_id = o.tenant_id and t.tool_slug = d.read_tool_slug and t.is_current
    -- The account the write ran with, found as outbox_claim finds it.
    left join lateral (
      select x.external_account_id, x.verified_external_account_id, x.verified_owned
        from public.connected_accounts x
       where x.tenant_id = o.tenant_id
         and (case when o.connected_account_id is not null
                   then x.external_account_id = o.connected_account_id
                        or x.id::text = o.connected_account_id
                   else lower(x.toolkit) = lower(o.toolkit) end)
       order by (x.status = 'active') desc, x.updated_at desc
       limit 1
    ) a on true
   order by o.completed_at, o.id;
end
$$;
revoke execute on function public.outbox_reconcile_claim(text, integer, integer, uuid)
  from public, anon, authenticated;
grant execute on function public.outbox_reconcile_claim(text, integer, integer, uuid)
  to service_role;
comment on function public.outbox_reconcile_claim(text, integer, integer, uuid) is
  'Leases up to p_limit unknown_outcome envelopes whose tool has a read-back declaration (the tenant''s, else the global one) for one read each, for p_lease_ms, oldest unknown first; skips envelopes another drain is reading, whose next read is not due, or that were left for the operator in this unknown_outcome. The envelope stays unknown_outcome (the lease is in internal.outbox_reconcile). Returns each with its lease_token, the read''s number, when it became unknown and whether the settle delay had passed at the claim, the declaration, the read tool''s catalog row (version, toolkit, read_only) and the account the write ran with.';
