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
