-- Reconciliation of unknown outcomes: a write tool may declare a read-back
-- (internal.tool_readbacks, checked on write by internal.tool_readback_problem), and the drain
-- settles such a tool's unknown_outcome envelopes by reading: found → succeeded, absent where
-- the read is authoritative and the settle delay has passed → retry, otherwise left for the
-- operator. The reads' state and leases live in internal.outbox_reconcile; the claim and the
-- settle are their own functions, so outbox_claim and outbox_settle are unchanged. Off until
-- a tool is declared: no row is added here.

-- Unknown outcomes, oldest first: reconciliation reads back only these
-- (outbox_reconcile_claim), without scanning the rest of the queue.
create index outbox_unknown_outcome_idx on public.outbox (completed_at)
  where status = 'unknown_outcome';

-- What is wrong with a read-back declaration (internal.tool_readbacks), as a phrase, or NULL
-- when nothing is. With p_raise_as the problem is raised instead (23514, "<p_raise_as>:
-- <problem>"): the form the table's CHECK uses, so the error names what is wrong. The drain
-- parses the same declaration again with zod before it uses one (reconcile_policy.ts).
--
-- References are JSON pointers (RFC 6901) into the envelope as the drain sees it:
-- {"id": …, "external_id": …, "arguments": {…}}; a reference is the object {"$ref": "<pointer>"}
-- and nothing else. No expression is ever evaluated.
create function internal.tool_readback_problem(
  p_read_arguments jsonb,
  p_match jsonb,
  p_marker_argument text,
  p_raise_as text default null
) returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  -- A JSON pointer, and one that names an envelope field.
  v_pointer constant text := '^(/([^~/]|~[01])*)*$';
  v_ref constant text := '^/(id|external_id|arguments(/([^~/]|~[01])*)*)$';
  v_problem text;
  v_bad jsonb;
begin
  if jsonb_typeof(p_read_arguments) is distinct from 'object' then
    v_problem := 'read_arguments must be a JSON object';
  else
    select x.v into v_bad
      from jsonb_path_query(p_read_arguments, 'strict $.**') as x (v)
     where jsonb_typeof(x.v) = 'object' and x.v ? '$ref'
       and not ((select count(*) from jsonb_object_keys(x.v)) = 1
                and jsonb_typeof(x.v -> '$ref') = 'string'
                and x.v ->> '$ref' ~ v_ref)
     limit 1;
    if v_bad is not null then
      v_problem := pg_catalog.format(
        'read_arguments: %s is not a reference; write {"$ref": "/id"}, "/external_id" or '
        || '"/arguments/<pointer>"', v_bad::text);
    end if;
  end if;

  if v_problem is null then
    if jsonb_typeof(p_match) is distinct from 'object' then
      v_problem := 'match must be a JSON object {items, field, value, mode}';
    elsif exists (select from jsonb_object_keys(p_match) k
                   where k not in ('items', 'field', 'value', 'mode')) then
      v_problem := 'match takes only items, field, value and mode';
    elsif jsonb_typeof(p_match -> 'items') is distinct from 'string'
          or p_match ->> 'items' !~ v_pointer then
      v_problem := 'match.items must be a JSON pointer to the list in the read''s answer, '
                   || 'e.g. "/data/issues"';
    elsif jsonb_typeof(p_match -> 'field') is distinct from 'string'
          or p_match ->> 'field' !~ v_pointer then
      v_problem := 'match.field must be a JSON pointer into each item, e.g. "/body"';
    elsif jsonb_typeof(p_match -> 'value') is distinct from 'object'
          or (select count(*) from jsonb_object_keys(p_match -> 'value')) <> 1
          or jsonb_typeof(p_match -> 'value' -> '$ref') is distinct from 'string'
          or p_match -> 'value' ->> '$ref' !~ v_ref then
      v_problem := 'match.value must be a reference to the envelope, {"$ref": "/external_id"}, '
                   || '"/id" or "/arguments/<pointer>"';
    elsif coalesce(p_match ->> 'mode', '') not in ('equals', 'contains') then
      v_problem := 'match.mode must be equals or contains';
    elsif p_marker_argument is not null and p_marker_argument !~ '^(/([^~/]|~[01])*)+$' then
      v_problem := 'marker_argument must be a JSON pointer into the write''s arguments, '
                   || 'e.g. "/body"';
    elsif p_marker_argument is null and p_match -> 'value' ->> '$ref' in ('/id', '/external_id')
    then
      -- Absence of an item proves nothing unless the write's arguments carry the value.
      v_problem := 'marker_argument must name the write''s argument that carries '
                   || (p_match -> 'value' ->> '$ref');
    end if;
  end if;

  if v_problem is not null and p_raise_as is not null then
    raise exception '%: %', p_raise_as, v_problem using errcode = '23514';
  end if;
  return v_problem;
end
$$;
revoke execute on function internal.tool_readback_problem(jsonb, jsonb, text, text) from public;
comment on function internal.tool_readback_problem(jsonb, jsonb, text, text) is
  'Why a read-back declaration is unusable (a phrase), NULL when it is usable; with p_raise_as raised as 23514 "<p_raise_as>: <problem>" (the CHECK form). read_arguments: a JSON object whose {"$ref": pointer} values name /id, /external_id or /arguments/…; match: {items, field: JSON pointers, value: such a reference, mode: equals | contains}; marker_argument: a pointer into the write''s arguments, required when match.value is /id or /external_id.';

-- Read-back declarations: how the drain may settle a write's unknown_outcome by reading
-- instead of asking a person (reconciliation, outbox-drain/reconcile.ts). One row per write
-- tool, for every tenant (tenant_id null) or one tenant (which wins over the global row).
-- Without a row, an unknown_outcome envelope waits for the operator as it always did.
--
-- A row is the service's configuration, like the catalog's semantics: written by operators
-- as postgres, never through the Data API (schema internal is closed to the API roles), and
-- every change is audited (config_change), because it decides when a write may run again.
create table internal.tool_readbacks (
  id bigint generated always as identity primary key,
  tenant_id uuid references public.tenants (id) on delete cascade,
  tool_slug text not null check (tool_slug ~ '^[A-Z][A-Z0-9_]*$'),
  read_tool_slug text not null check (read_tool_slug ~ '^[A-Z][A-Z0-9_]*$'),
  read_arguments jsonb not null default '{}',
  match jsonb not null,
  marker_argument text,
  authoritative boolean not null default false,
  settle_delay_ms integer not null default 0 check (settle_delay_ms between 0 and 86400000),
  max_attempts integer not null default 5 check (max_attempts between 1 and 50),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tool_readbacks_tenant_tool_key unique nulls not distinct (tenant_id, tool_slug),
  constraint tool_readbacks_read_is_another_tool check (read_tool_slug <> tool_slug),
  constraint tool_readbacks_declaration_check
    check (internal.tool_readback_problem(read_arguments, match, marker_argument,
                                          'internal.tool_readbacks') is null)
);
create trigger touch_updated_at before update on internal.tool_readbacks
  for each row execute function internal.touch_updated_at();
create trigger audit_change after insert or update or delete on internal.tool_readbacks
  for each row execute function internal.audit_row_change();
alter table internal.tool_readbacks enable row level security;

comment on table internal.tool_readbacks is
  'Read-back declarations: for a write tool, the read that settles its unknown_outcome envelopes (found: succeeded; absent where the read is authoritative, after the settle delay: retry; otherwise left for the operator). Global (tenant_id null) or per tenant; service only, changes audited.';
comment on column internal.tool_readbacks.id is 'Row id.';
comment on column internal.tool_readbacks.tenant_id is 'The tenant it applies to; null for every tenant (a tenant''s own row wins).';
comment on column internal.tool_readbacks.tool_slug is 'The write tool whose unknown outcomes it settles.';
comment on column internal.tool_readbacks.read_tool_slug is 'The read tool to run (must be read_only in the tenant''s catalog when used).';
comment on column internal.tool_readbacks.read_arguments is 'The read''s arguments: a JSON object; a value {"$ref": "/id" | "/external_id" | "/arguments/<pointer>"} is replaced by that field of the envelope.';
comment on column internal.tool_readbacks.match is '{items, field, value, mode}: items points at the list in the read''s answer, field into each item, value is a reference to the envelope; mode equals, or contains (the value as a whole token of the field''s text).';
comment on column internal.tool_readbacks.marker_argument is 'Pointer into the write''s arguments that carries the match value (the caller puts it there, e.g. the external id in an issue body); checked before any read. Required when match.value is /id or /external_id.';
comment on column internal.tool_readbacks.authoritative is 'Absence in this read is conclusive for the key (an exact-key lookup on a consistent API): only then may an absent item send the write back to retry.';
comment on column internal.tool_readbacks.settle_delay_ms is 'No absence is concluded before the envelope became unknown_outcome plus this long (the write may still land, or be invisible to the read).';
comment on column internal.tool_readbacks.max_attempts is 'Reads per unknown_outcome before it is left for the operator (never before the settle delay has passed).';
comment on column internal.tool_readbacks.created_at is 'When it was declared.';
comment on column internal.tool_readbacks.updated_at is 'Last change, maintained by trigger.';

-- Where reconciliation of an unknown_outcome envelope stands: its reads so far, when the next
-- may start, and the lease of the drain reading now. Kept apart from public.outbox so that
-- the envelope stays unknown_outcome while it is read back (nothing else claims it, the lease
-- reclaim never sees it, an operator may still resolve it) and outbox's columns stay as the
-- DLQ copies them.
--
-- One row per envelope, for its current unknown_outcome: `episode` is the envelope's attempts
-- when that began, so after a re-run parks it again the next claim starts a new count.
-- Found and absent delete the row; a row given up stays until the envelope leaves
-- unknown_outcome (the operator's resolve) and a later episode replaces it.
create table internal.outbox_reconcile (
  envelope_id uuid primary key references public.outbox (id) on delete cascade,
  episode integer not null check (episode >= 0),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  lease_token uuid,
  claimed_at timestamptz,
  claimed_by text,
  last_error text,
  gave_up_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger touch_updated_at before update on internal.outbox_reconcile
  for each row execute function internal.touch_updated_at();
alter table internal.outbox_reconcile enable row level security;

comment on table internal.outbox_reconcile is
  'Reconciliation of unknown_outcome envelopes whose tool declares a read-back: reads so far, the next one''s time, the current lease, and whether it was left for the operator. Service only.';
comment on column internal.outbox_reconcile.envelope_id is 'The envelope (unknown_outcome while the row is live).';
comment on column internal.outbox_reconcile.episode is 'outbox.attempts when this unknown_outcome began: a row of an earlier episode counts for nothing.';
comment on column internal.outbox_reconcile.attempts is 'Reads started in this episode (counted at the claim, so a drain that dies mid-read counts too).';
comment on column internal.outbox_reconcile.next_attempt_at is 'When a drain may read next; moved past the lease while one reads.';
comment on column internal.outbox_reconcile.lease_token is 'Token of the current read; the settle requires it.';
comment on column internal.outbox_reconcile.claimed_at is 'When the current (or last) read was claimed: an absence counts only if this is past the settle delay.';
comment on column internal.outbox_reconcile.claimed_by is 'Which drain invocation read last (for operators).';
comment on column internal.outbox_reconcile.last_error is 'Why the last read settled nothing.';
comment on column internal.outbox_reconcile.gave_up_at is 'When the reads were exhausted and the envelope left for the operator.';
comment on column internal.outbox_reconcile.created_at is 'When the first read of this envelope was claimed.';
comment on column internal.outbox_reconcile.updated_at is 'Last change, maintained by trigger.';

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

-- What the drain's reads found, in one statement per batch, each element guarded by its
-- reconcile lease and by the envelope still being unknown_outcome in the same episode (an
-- operator who resolved it meanwhile wins), each writing exactly one audit row:
--
-- * found: the write happened. The envelope becomes succeeded (no attempt added: nothing
--   ran), its result the matched item, which also goes to evidence as a success's output
--   does; audit outbox_reconciled.
-- * absent: the write did not happen. Applied only while the tool's declaration is
--   authoritative and the read was claimed after the settle delay (checked here again,
--   whatever the caller says; otherwise it counts as inconclusive). The envelope goes back
--   to retry, due now: the only way a write whose outcome was unknown ever runs again
--   without a person; audit outbox_reconcile_retry.
-- * inconclusive: nothing is settled. The envelope stays unknown_outcome; the next read may
--   start after delay_ms, unless the reads are spent (max_attempts) and the settle delay has
--   passed, or the declaration is gone: then it is left for the operator (audit
--   outbox_reconcile_given_up), else audit outbox_reconcile_inconclusive.
--
-- The envelopes are locked first, in id order, so the statement that settles sees what
-- committed before it and nobody changes them under it.
create function public.outbox_reconcile_settle(p_results jsonb)
returns table (id uuid, verdict text, status text)
language plpgsql
set search_path = ''
as $$
declare
  v_problem text;
begin
  if jsonb_typeof(p_results) is distinct from 'array' then
    raise exception 'outbox_reconcile_settle: p_results must be a JSON array'
      using errcode = '22023';
  end if;
  select p.problem into v_problem
    from (select case
                   when jsonb_typeof(e) <> 'object'
                     then 'every element must be a JSON object'
                   when jsonb_typeof(e -> 'id') is distinct from 'string'
                        or jsonb_typeof(e -> 'token') is distinct from 'string'
                     then 'every element needs id and token'
                   when coalesce(e ->> 'verdict', '') not in ('found', 'absent', 'inconclusive')
                     then 'verdict must be found, absent or inconclusive, got '
                          || coalesce(e ->> 'verdict', 'null')
                   when e ->> 'verdict' = 'found' and not e ? 'item'
                     then 'found needs the matched item'
                   when e ->> 'verdict' <> 'found' and jsonb_typeof(e -> 'reason') <> 'string'
                     then e ->> 'verdict' || ' needs a reason'
                   when jsonb_typeof(e -> 'delay_ms') not in ('number', 'null')
                     then 'delay_ms must be a number'
                   when jsonb_typeof(e -> 'details') not in ('object', 'null')
                     then 'details must be a JSON object'
                 end as problem
            from jsonb_array_elements(p_results) as x (e)) p
   where p.problem is not null
   limit 1;
  if v_problem is not null then
    raise exception 'outbox_reconcile_settle: %', v_problem using errcode = '22023';
  end if;

  perform 1
    from public.outbox o
   where o.id in (select (x.e ->> 'id')::uuid from jsonb_array_elements(p_results) as x (e))
   order by o.id
     for update;

  return query
  with elems as (
    select x.e, x.ord from jsonb_array_elements(p_results) with ordinality as x (e, ord)
  ),
  input as (
    -- The first element of each id; a repeat is reported as not applied.
    select distinct on ((m.e ->> 'id')::uuid)
           m.ord, (m.e ->> 'id')::uuid as id, (m.e ->> 'token')::uuid as token,
           m.e ->> 'verdict' as verdict, m.e -> 'item' as item, m.e ->> 'reason' as reason,
           greatest(coalesce((m.e ->> 'delay_ms')::bigint, 0), 0) as delay_ms,
           coalesce(nullif(m.e -> 'details', 'null'::jsonb), '{}'::jsonb) as details
      from elems m
     order by (m.e ->> 'id')::uuid, m.ord
  ),
  held as (
    select i.*, o.tenant_id, o.tool_slug, s.attempts as reads, s.claimed_at,
           coalesce(o.completed_at, o.updated_at) as unknown_since, d.id as readback_id,
           d.authoritative, d.settle_delay_ms, d.max_attempts
      from input i
      join internal.outbox_reconcile s on s.envelope_id = i.id and s.lease_token = i.token
      join public.outbox o
        on o.id = i.id and o.status = 'unknown_outcome' and o.attempts = s.episode
      left join lateral (
        select r.* from internal.tool_readbacks r
         where r.tool_slug = o.tool_slug and (r.tenant_id = o.tenant_id or r.tenant_id is null)
         order by r.tenant_id nulls last
         limit 1
      ) d on true
  ),
  judged as (
    select h.*,
           case
             -- What was seen is evidence whatever the declaration says now.
             when h.verdict = 'found' then 'found'
             when h.verdict = 'absent' and coalesce(h.authoritative, false)
                  and h.claimed_at >= h.unknown_since
                                      + make_interval(secs => h.settle_delay_ms / 1000.0)
               then 'absent'
             when h.readback_id is null
                  or (h.reads >= h.max_attempts
                      and now() >= h.unknown_since
                                   + make_interval(secs => h.settle_delay_ms / 1000.0))
               then 'given_up'
             else 'inconclusive'
           end as final,
           case
             when h.readback_id is null and h.verdict <> 'found'
               then 'the tool no longer declares a read-back'
             when h.verdict = 'absent' and not coalesce(h.authoritative, false)
               then 'absent, but the read is not authoritative for it'
             when h.verdict = 'absent'
                  and h.claimed_at < h.unknown_since
                                     + make_interval(secs => h.settle_delay_ms / 1000.0)
               then 'absent, but the read came before the settle delay had passed'
             else h.reason
           end as why
      from held h
  ),
  settled as (
    update public.outbox o
       set status = case j.final when 'found' then 'succeeded' else 'retry' end,
           outcome = case j.final when 'found' then 'reconciled' else 'reconciled_absent' end,
           result = case j.final
                      when 'found' then jsonb_build_object(
                        'data', j.item, 'reconciled_by', j.details ->> 'read_tool')
                      else o.result
                    end,
           last_error = case j.final when 'found' then null else j.why end,
           next_run_at = case j.final when 'absent' then now() else o.next_run_at end,
           completed_at = case j.final when 'found' then now() end
      from judged j
     where j.final in ('found', 'absent') and o.id = j.id
    returning o.id, o.tenant_id, o.tool_slug, o.status, o.attempts, o.outcome, o.last_error,
              j.final, j.item, j.reads, j.details
  ),
  cleared as (
    delete from internal.outbox_reconcile s
     using settled x
     where s.envelope_id = x.id
    returning 1
  ),
  waiting as (
    update internal.outbox_reconcile s
       set lease_token = null,
           next_attempt_at = now() + make_interval(secs => j.delay_ms / 1000.0),
           last_error = left(j.why, 2000),
           gave_up_at = case when j.final = 'given_up' then now() end
      from judged j
     where j.final in ('inconclusive', 'given_up') and s.envelope_id = j.id
       and s.lease_token = j.token
    returning s.envelope_id, s.next_attempt_at
  ),
  audit_rows as (
    select x.id, x.tenant_id,
           case x.final when 'found' then 'outbox_reconciled' else 'outbox_reconcile_retry' end
             as category,
           internal.outbox_audit_payload(x.status, x.attempts, x.tool_slug, x.outcome,
                                         x.last_error,
                                         x.details || jsonb_build_object(
                                           'verdict', x.final, 'read', x.reads)) as payload
      from settled x
    union all
    select j.id, j.tenant_id,
           case j.final when 'given_up' then 'outbox_reconcile_given_up'
                        else 'outbox_reconcile_inconclusive' end,
           internal.outbox_audit_payload(o.status, o.attempts, o.tool_slug, o.outcome, j.why,
                                         j.details
                                         || jsonb_build_object('verdict', j.final,
                                                               'read', j.reads)
                                         || case when j.final = 'inconclusive'
                                                 then jsonb_build_object('next_read_at',
                                                                         w.next_attempt_at)
                                                 else '{}'::jsonb end)
      from judged j
      join waiting w on w.envelope_id = j.id
      join public.outbox o on o.id = j.id
  ),
  audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, envelope_id,
                                  payload)
    select r.tenant_id, 'job', 'outbox-drain', r.category, r.id, r.payload
      from audit_rows r
     order by r.tenant_id, r.id
    returning 1
  ),
  evidenced as (
    -- The matched item is the write's output as far as anyone can know it.
    insert into public.evidence (tenant_id, envelope_id, tool_slug, content, content_text)
    select x.tenant_id, x.id, x.tool_slug, coalesce(x.item, 'null'::jsonb),
           left(coalesce(x.item, 'null'::jsonb)::text, 8000)
      from settled x
     where x.final = 'found'
    returning 1
  )
  select (m.e ->> 'id')::uuid, j.final,
         coalesce(x.status, case when w.envelope_id is not null then 'unknown_outcome' end)
    from elems m
    left join judged j on j.ord = m.ord
    left join settled x on x.id = j.id
    left join waiting w on w.envelope_id = j.id
   order by m.ord;
end
$$;
revoke execute on function public.outbox_reconcile_settle(jsonb) from public, anon, authenticated;
grant execute on function public.outbox_reconcile_settle(jsonb) to service_role;
comment on function public.outbox_reconcile_settle(jsonb) is
  'Applies a batch of reconciliation reads [{id, token, verdict: found|absent|inconclusive, item?, reason?, delay_ms?, details?}], each guarded by its reconcile lease and the envelope still unknown_outcome in the same episode: found → succeeded with the item as result and evidence; absent → retry due now, only while the declaration is authoritative and the read was claimed after the settle delay (else inconclusive); inconclusive → stays unknown_outcome, next read after delay_ms, or left for the operator once the reads are spent after the settle delay. One audit row each (outbox_reconciled, outbox_reconcile_retry, outbox_reconcile_inconclusive, outbox_reconcile_given_up). An invalid element refuses the batch (22023). Returns (id, verdict applied: found | absent | inconclusive | given_up, the envelope''s status) in input order; nulls when not applied (lease lost, resolved meanwhile, a repeated id).';
