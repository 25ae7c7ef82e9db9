-- Reverts 20261204200000_evidence_artifacts.sql: outbox_settle as it was, and the bucket,
-- its policy, the pending store and the evidence columns gone (with the references and any
-- bytes still pending). Refuses while the bucket holds objects: their bytes are in Storage,
-- and deleting their rows here would orphan them; empty the bucket through the Storage API
-- first.

set local check_function_bodies = off;

do $$
begin
  if exists (select from storage.objects where bucket_id = 'evidence-artifacts') then
    raise exception 'bucket evidence-artifacts is not empty: remove its objects through the Storage API first'
      using errcode = '55000';
  end if;
end
$$;
drop policy evidence_artifacts_select_member on storage.objects;
-- The bucket is empty (checked above), so nothing is orphaned: let the platform's
-- protect_delete trigger through, as the Storage API does for its own deletes.
set local storage.allow_delete_query = 'true';
delete from storage.buckets where id = 'evidence-artifacts';

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
create or replace function public.outbox_settle(p_outcomes jsonb)
returns table (id uuid, op text, applied boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_problem text;
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
                 end as problem
            from jsonb_array_elements(p_outcomes) as x (e)) p
   where p.problem is not null
   limit 1;
  if v_problem is not null then
    raise exception '%', v_problem using errcode = '22023';
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
           -- conflict and unknown_outcome come after an execution: they consume an attempt.
           (m.e ->> 'op' = 'park' and m.e ->> 'status' in ('conflict', 'unknown_outcome'))
             as parked_executed
      from elems m
     order by (m.e ->> 'id')::uuid, m.ord
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
     where i.op <> 'dlq' and o.id = i.id and o.lease_token = i.token and o.status = 'running'
    returning o.id, o.tenant_id, o.tool_slug, o.status, o.attempts, o.outcome, o.last_error,
              o.result, i.ord, i.op, i.park_status,
              i.details || case i.op
                             when 'retry' then jsonb_build_object('delay_ms', i.delay_ms)
                             when 'park' then case when i.until is null then '{}'::jsonb
                                                   else jsonb_build_object('until', i.until) end
                             when 'release' then jsonb_build_object('why', i.reason)
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
                                   outcome, created_at, updated_at, completed_at, moved_at, reason)
    select d.id, d.tenant_id, d.tool_slug, d.toolkit, d.arguments, d.connected_account_id,
           d.risk, d.read_only, d.external_id, d.trust_context, d.metadata,
           case when d.dead_attempts > 0 then 'retry' else 'pending' end, d.dead_attempts,
           d.next_run_at, d.error, null, null, d.claimed_by, d.result, d.dead_outcome,
           d.created_at, now(), null, now(), d.dlq_reason
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
    insert into public.evidence (tenant_id, envelope_id, tool_slug, content, content_text)
    select u.tenant_id, u.id, u.tool_slug, c.content, left(c.content::text, 8000)
      from upd u
      cross join lateral (select coalesce(u.result -> 'data', u.result, 'null'::jsonb) as content) c
     where u.op = 'complete'
    returning 1
  )
  select (m.e ->> 'id')::uuid, m.e ->> 'op', s.id is not null
    from elems m
    left join settled s on s.ord = m.ord
   order by m.ord;
end
$$;
comment on function public.outbox_settle(jsonb) is
  'Applies a batch of outcomes in one statement: each element {op: complete|retry|park|dlq|release, id, token, …} settles a leased envelope (see outbox_complete / outbox_retry / outbox_park / outbox_move_to_dlq / outbox_release), token-guarded, one audit row each, audit rows in (tenant_id, id) order. An invalid element refuses the whole batch (22023) before anything is written. Returns (id, op, applied) per element, in input order; a repeated id is applied once.';
revoke execute on function public.outbox_settle(jsonb) from public, anon, authenticated;
grant execute on function public.outbox_settle(jsonb) to service_role;

drop function public.artifact_pending_settle(jsonb);
drop function public.artifact_pending_claim(integer, integer, uuid);
drop table internal.artifact_pending_limit;
drop table internal.artifact_pending;

drop index public.evidence_artifact_path_idx;
alter table public.evidence
  drop constraint evidence_artifact_check,
  drop column artifact_status,
  drop column artifact_sha256,
  drop column artifact_size,
  drop column artifact_path,
  drop column artifact_bucket;

delete from supabase_migrations.schema_migrations where version = '20261204200000';
