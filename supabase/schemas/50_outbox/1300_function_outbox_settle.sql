-- Settles a batch of outcomes in one statement: one UPDATE, one DELETE (dead letters), one
-- INSERT each into outbox_dlq, evidence and audit_log per batch, so audit_log's and
-- evidence's statement triggers (chain-head move, embedding-queue enqueue) run once per
-- batch, not once per envelope. The single-envelope functions (outbox_complete, …) are
-- one-element calls of it: one implementation of each effect.
--
-- Every effect is guarded by the lease token (status running and the token matching), each
-- applied outcome writes exactly one audit row (no arguments), audit rows are inserted in
-- (tenant_id, id) order (audit_log's chain heads are locked per tenant in insertion order,
-- as outbox_claim's reclaim does), and an id given twice is applied once (the first), the
-- repeat reported as not applied.
--
-- Attempts count executions only: complete, retry, DLQ after an execution and conflict /
-- unknown_outcome add one. Deferrals, approvals, releases and validation / guardrail dead
-- letters (nothing was sent) do not.
--
-- A complete whose output the drain keeps as a Storage artifact carries `artifact` (bucket,
-- path, size, sha256, content_type, status uploaded | pending | dropped): its evidence row
-- records the artifact instead of the output, and its audit row names bucket, path and
-- status. A pending one also carries the bytes (artifact_base64), parked in
-- internal.artifact_pending while the pending store has room (internal.artifact_pending_limit;
-- settles that park bytes take a lock, so the bound is exact), else recorded dropped. The
-- envelope is settled either way: an artifact never makes a tool run again.
create function public.outbox_settle(p_outcomes jsonb)
returns table (id uuid, op text, applied boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_problem text;
  v_room_rows bigint := 0;
  v_room_bytes bigint := 0;
begin
  if jsonb_typeof(p_outcomes) is distinct from 'array' then
    raise exception 'outbox_settle: p_outcomes must be a JSON array' using errcode = '22023';
  end if;
  -- Refuse the whole batch before changing anything.
  select p.problem into v_problem
    from (select case
                   when jsonb_typeof(e) <> 'object'
                     then 'outbox_settle: every element must be a JSON object'
                   when e ->> 'op' is null
                        or e ->> 'op' not in ('complete', 'retry', 'park', 'dlq', 'release')
                     then 'outbox_settle: unknown op ' || coalesce(e ->> 'op', 'null')
                   when e ->> 'op' = 'park'
                        and coalesce(e ->> 'status', '') not in ('conflict', 'unknown_outcome',
                                                                 'deferred', 'needs_approval')
                     then 'outbox_park: status must be conflict, unknown_outcome, deferred or '
                          || 'needs_approval, got ' || coalesce(e ->> 'status', 'null')
                   when e ->> 'op' = 'park' and e ->> 'status' = 'deferred'
                        and e ->> 'until' is null
                     then 'outbox_park: deferred needs p_until'
                   when jsonb_typeof(e -> 'details') not in ('object', 'null')
                     then 'outbox_settle: details must be a JSON object'
                   when e ? 'artifact' and e ->> 'op' <> 'complete'
                     then 'outbox_settle: only complete carries an artifact'
                   when e ? 'artifact'
                        and (jsonb_typeof(e -> 'artifact') <> 'object'
                             or jsonb_typeof(e -> 'artifact' -> 'bucket') <> 'string'
                             or jsonb_typeof(e -> 'artifact' -> 'path') <> 'string'
                             or coalesce(e -> 'artifact' ->> 'status', '')
                                  not in ('uploaded', 'pending', 'dropped'))
                     then 'outbox_settle: artifact needs bucket, path and status uploaded, '
                          || 'pending or dropped'
                   when coalesce(e -> 'artifact' ->> 'status' = 'pending', false)
                        <> coalesce(jsonb_typeof(e -> 'artifact_base64') = 'string', false)
                     then 'outbox_settle: artifact_base64 comes with a pending artifact, and only then'
                 end as problem
            from jsonb_array_elements(p_outcomes) as x (e)) p
   where p.problem is not null
   limit 1;
  if v_problem is not null then
    raise exception '%', v_problem using errcode = '22023';
  end if;
  if exists (select from jsonb_array_elements(p_outcomes) as x (e)
              where e -> 'artifact' ->> 'status' = 'pending') then
    -- One settle at a time parks bytes, so the room seen here is the room there is.
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('internal.artifact_pending', 0));
    select l.max_rows - (select count(*) from internal.artifact_pending),
           l.max_bytes - (select coalesce(sum(p.size), 0) from internal.artifact_pending p)
      into v_room_rows, v_room_bytes
      from internal.artifact_pending_limit l;
  end if;

  return query
  with elems as (
    select x.e, x.ord from jsonb_array_elements(p_outcomes) with ordinality as x (e, ord)
  ),
  input as (
    -- The first element of each id; a repeat is reported as not applied.
    select distinct on ((m.e ->> 'id')::uuid)
           m.ord, (m.e ->> 'id')::uuid as id, (m.e ->> 'token')::uuid as token,
           m.e ->> 'op' as op, m.e -> 'result' as result,
           coalesce(nullif(m.e -> 'details', 'null'::jsonb), '{}'::jsonb) as details,
           (m.e ->> 'delay_ms')::bigint as delay_ms, m.e ->> 'reason' as reason,
           m.e ->> 'outcome' as outcome, m.e ->> 'status' as park_status,
           (m.e ->> 'until')::timestamptz as until, m.e ->> 'dlq_reason' as dlq_reason,
           coalesce((m.e ->> 'executed')::boolean, false) as executed,
           case when m.e ->> 'op' = 'complete' then m.e -> 'artifact' end as artifact,
           m.e ->> 'artifact_base64' as artifact_base64,
           -- conflict and unknown_outcome come after an execution: they consume an attempt.
           (m.e ->> 'op' = 'park' and m.e ->> 'status' in ('conflict', 'unknown_outcome'))
             as parked_executed
      from elems m
     order by (m.e ->> 'id')::uuid, m.ord
  ),
  parking as (
    -- The pending artifacts that fit in the pending store, in input order.
    select q.id, q.bytes
      from (select i.id, b.bytes,
                   sum(octet_length(b.bytes)) over (order by i.ord) as total,
                   row_number() over (order by i.ord) as n
              from input i
              cross join lateral (select pg_catalog.decode(i.artifact_base64, 'base64') as bytes) b
             where i.artifact ->> 'status' = 'pending') q
     where q.n <= v_room_rows and q.total <= v_room_bytes
  ),
  arts as (
    select i.id, i.artifact,
           case when i.artifact ->> 'status' = 'pending'
                     and not exists (select from parking k where k.id = i.id)
                then 'dropped' else i.artifact ->> 'status' end as status,
           case when i.artifact ->> 'status' = 'pending'
                     and not exists (select from parking k where k.id = i.id)
                then 'the pending artifact store is full' else i.artifact ->> 'reason' end
             as reason
      from input i
     where i.artifact is not null
  ),
  upd as (
    update public.outbox o
       set status = case i.op
                      when 'complete' then 'succeeded'
                      when 'retry' then 'retry'
                      when 'park' then i.park_status
                      else case when o.attempts > 0 then 'retry' else 'pending' end
                    end,
           attempts = o.attempts
                      + case when i.op in ('complete', 'retry') or i.parked_executed then 1
                             else 0 end,
           next_run_at = case
                           when i.op = 'retry'
                             then now() + make_interval(secs => greatest(i.delay_ms, 0) / 1000.0)
                           when i.op = 'park' and i.park_status = 'deferred' then i.until
                           else o.next_run_at
                         end,
           last_error = case i.op when 'complete' then null when 'release' then o.last_error
                                  else i.reason end,
           outcome = case i.op
                       when 'complete' then 'success'
                       when 'retry' then i.outcome
                       when 'park' then coalesce(i.outcome,
                                                 case when i.parked_executed then o.outcome end)
                       else null
                     end,
           result = case when i.op = 'complete' then i.result else o.result end,
           completed_at = case
                            when i.op = 'complete' or i.parked_executed then now()
                            when i.op = 'park' then null
                            else o.completed_at
                          end,
           lease_token = null, lease_expires_at = null
      from input i
      left join arts a on a.id = i.id
     where i.op <> 'dlq' and o.id = i.id and o.lease_token = i.token and o.status = 'running'
    returning o.id, o.tenant_id, o.tool_slug, o.status, o.attempts, o.outcome, o.last_error,
              o.result, i.ord, i.op, i.park_status,
              i.details || case i.op
                             when 'retry' then jsonb_build_object('delay_ms', i.delay_ms)
                             when 'park' then case when i.until is null then '{}'::jsonb
                                                   else jsonb_build_object('until', i.until) end
                             when 'release' then jsonb_build_object('why', i.reason)
                             when 'complete' then case when a.id is null then '{}'::jsonb
                               else jsonb_build_object('artifact', jsonb_strip_nulls(
                                 jsonb_build_object('bucket', a.artifact ->> 'bucket',
                                                    'path', a.artifact ->> 'path',
                                                    'size', a.artifact -> 'size',
                                                    'status', a.status,
                                                    'reason', a.reason))) end
                             else '{}'::jsonb
                           end as details
  ),
  del as (
    delete from public.outbox o
     using input i
     where i.op = 'dlq' and o.id = i.id and o.lease_token = i.token and o.status = 'running'
    returning o.*, i.ord, i.dlq_reason, i.details, i.reason as error,
              o.attempts + case when i.executed then 1 else 0 end as dead_attempts,
              coalesce(i.outcome, o.outcome) as dead_outcome
  ),
  dead as (
    insert into public.outbox_dlq (id, tenant_id, tool_slug, toolkit, arguments,
                                   connected_account_id, risk, read_only, external_id,
                                   trust_context, metadata, status, attempts, next_run_at,
                                   last_error, lease_token, lease_expires_at, claimed_by, result,
                                   outcome, created_at, updated_at, completed_at, moved_at, reason,
                                   priority)
    select d.id, d.tenant_id, d.tool_slug, d.toolkit, d.arguments, d.connected_account_id,
           d.risk, d.read_only, d.external_id, d.trust_context, d.metadata,
           case when d.dead_attempts > 0 then 'retry' else 'pending' end, d.dead_attempts,
           d.next_run_at, d.error, null, null, d.claimed_by, d.result, d.dead_outcome,
           d.created_at, now(), null, now(), d.dlq_reason, d.priority
      from del d
    returning 1
  ),
  settled as (
    select u.id, u.tenant_id, u.ord, u.op,
           case u.op when 'complete' then 'outbox_succeeded' when 'retry' then 'outbox_retry'
                     when 'park' then 'outbox_' || u.park_status else 'outbox_released' end
             as category,
           internal.outbox_audit_payload(u.status, u.attempts, u.tool_slug, u.outcome,
                                         u.last_error, u.details) as payload
      from upd u
    union all
    select d.id, d.tenant_id, d.ord, 'dlq', 'outbox_dead_lettered',
           internal.outbox_audit_payload(
             case when d.dead_attempts > 0 then 'retry' else 'pending' end, d.dead_attempts,
             d.tool_slug, d.dead_outcome, d.error,
             d.details || jsonb_build_object('dlq_reason', d.dlq_reason))
      from del d
  ),
  audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, envelope_id,
                                  payload)
    select s.tenant_id, 'job', 'outbox-drain', s.category, s.id, s.payload
      from settled s
     order by s.tenant_id, s.id
    returning 1
  ),
  evidenced as (
    -- An artifact's row holds its reference, not its bytes (nothing to extract text from).
    insert into public.evidence (tenant_id, envelope_id, tool_slug, content, content_text,
                                 artifact_bucket, artifact_path, artifact_size,
                                 artifact_sha256, artifact_status)
    select u.tenant_id, u.id, u.tool_slug, c.content,
           case when a.id is null then left(c.content::text, 8000) end,
           a.artifact ->> 'bucket', a.artifact ->> 'path', (a.artifact ->> 'size')::bigint,
           a.artifact ->> 'sha256', a.status
      from upd u
      left join arts a on a.id = u.id
      cross join lateral (
        select case when a.id is null
                    then coalesce(u.result -> 'data', u.result, 'null'::jsonb)
                    else jsonb_build_object('artifact', jsonb_strip_nulls(jsonb_build_object(
                           'bucket', a.artifact ->> 'bucket', 'path', a.artifact ->> 'path',
                           'size', a.artifact -> 'size', 'sha256', a.artifact ->> 'sha256',
                           'content_type', a.artifact ->> 'content_type')))
               end as content) c
     where u.op = 'complete'
    returning evidence.id, evidence.tenant_id, evidence.envelope_id
  ),
  parked as (
    insert into internal.artifact_pending (evidence_id, tenant_id, envelope_id, bucket_id, name,
                                           content_type, content)
    select ev.id, ev.tenant_id, ev.envelope_id, a.artifact ->> 'bucket', a.artifact ->> 'path',
           coalesce(a.artifact ->> 'content_type', 'application/octet-stream'), k.bytes
      from evidenced ev
      join arts a on a.id = ev.envelope_id
      join parking k on k.id = a.id
    returning 1
  )
  select (m.e ->> 'id')::uuid, m.e ->> 'op', s.id is not null
    from elems m
    left join settled s on s.ord = m.ord
   order by m.ord;
end
$$;
comment on function public.outbox_settle(jsonb) is
  'Applies a batch of outcomes in one statement: each element {op: complete|retry|park|dlq|release, id, token, …} settles a leased envelope (see outbox_complete / outbox_retry / outbox_park / outbox_move_to_dlq / outbox_release), token-guarded, one audit row each, audit rows in (tenant_id, id) order. An invalid element refuses the whole batch (22023) before anything is written. Returns (id, op, applied) per element, in input order; a repeated id is applied once. A complete may carry an artifact (its output kept in Storage): evidence and audit rows then name bucket and path; a pending one parks its bytes in internal.artifact_pending within its bound, else is recorded dropped.';
revoke execute on function public.outbox_settle(jsonb) from public, anon, authenticated;
grant execute on function public.outbox_settle(jsonb) to service_role;
