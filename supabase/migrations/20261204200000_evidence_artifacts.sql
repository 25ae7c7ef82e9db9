-- Evidence artifacts (seed 001): a tool output above outbox-drain's threshold is kept in the
-- private Storage bucket evidence-artifacts as <tenant_id>/<envelope_id>/output.json, which
-- the tenant's members read and only the service writes; its evidence row and audit row
-- keep bucket and path, never the bytes. An upload that fails after the tool ran leaves the
-- envelope settled and the artifact pending: the bytes wait, bounded, in
-- internal.artifact_pending until a later drain uploads them. The current definitions are
-- in supabase/schemas (65_artifacts, 60_evidence/0100_table_evidence,
-- 50_outbox/1300_function_outbox_settle). Drafted with `deno task db:diff`, written out by
-- hand: the bucket row, the policy on storage.objects (run as supautils allows postgres on
-- hosted), the grants.

set local check_function_bodies = off;

-- public.evidence: where an artifact is and whether it is uploaded.
alter table public.evidence
  add column artifact_bucket text,
  add column artifact_path text,
  add column artifact_size bigint check (artifact_size >= 0),
  add column artifact_sha256 text check (artifact_sha256 ~ '^[0-9a-f]{64}$'),
  add column artifact_status text check (artifact_status in ('uploaded', 'pending', 'dropped')),
  add constraint evidence_artifact_check
    check (num_nulls(artifact_bucket, artifact_path, artifact_status) in (0, 3));
-- The signed-URL route finds an artifact by its path, within the caller's tenant.
create index evidence_artifact_path_idx on public.evidence (tenant_id, artifact_path)
  where artifact_path is not null;
comment on column public.evidence.artifact_bucket is 'Storage bucket of the output kept as an artifact (evidence-artifacts); NULL when the output is in content.';
comment on column public.evidence.artifact_path is 'Object name of the artifact in its bucket: <tenant_id>/<envelope_id>/output.json.';
comment on column public.evidence.artifact_size is 'Size of the artifact in bytes.';
comment on column public.evidence.artifact_sha256 is 'SHA-256 (hex) of the artifact''s bytes.';
comment on column public.evidence.artifact_status is 'uploaded (in Storage), pending (its upload failed; the bytes wait in internal.artifact_pending for a later drain) or dropped (too large, or the pending store was full: the bytes were not kept).';

-- Where an artifact's bytes wait when its upload failed after the tool had run. The
-- envelope stays settled (succeeded: the tool is never run again because of its artifact),
-- its evidence row says pending, and a later drain uploads the bytes from here
-- (public.artifact_pending_claim, public.artifact_pending_settle), then deletes the row.
-- Bounded: outbox_settle parks bytes only while the rows and bytes waiting stay within
-- internal.artifact_pending_limit; past it the evidence row records the artifact dropped.
create table internal.artifact_pending (
  evidence_id uuid primary key references public.evidence (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  envelope_id uuid,
  bucket_id text not null,
  name text not null,
  content_type text not null,
  content bytea not null,
  size bigint not null generated always as (octet_length(content)) stored,
  attempts integer not null default 0 check (attempts >= 0),
  last_error text,
  next_attempt_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
-- The claim's order, and the cascade from tenants.
create index artifact_pending_tenant_due_idx
  on internal.artifact_pending (tenant_id, next_attempt_at);
create index artifact_pending_due_idx on internal.artifact_pending (next_attempt_at);
alter table internal.artifact_pending enable row level security;

comment on table internal.artifact_pending is
  'Bytes of artifacts whose upload failed, waiting for a later drain to upload them (bounded by internal.artifact_pending_limit). Service only.';
comment on column internal.artifact_pending.evidence_id is 'The evidence row that records the artifact (artifact_status pending).';
comment on column internal.artifact_pending.tenant_id is 'The tenant.';
comment on column internal.artifact_pending.envelope_id is 'The envelope whose output it is (for the audit row of the upload).';
comment on column internal.artifact_pending.bucket_id is 'The Storage bucket it goes to.';
comment on column internal.artifact_pending.name is 'Its object name in the bucket.';
comment on column internal.artifact_pending.content_type is 'Its MIME type.';
comment on column internal.artifact_pending.content is 'The bytes.';
comment on column internal.artifact_pending.size is 'octet_length(content): what counts toward the bound.';
comment on column internal.artifact_pending.attempts is 'Uploads tried from here so far.';
comment on column internal.artifact_pending.last_error is 'Why the last upload failed.';
comment on column internal.artifact_pending.next_attempt_at is 'When a drain may try it next (also the lease while one tries).';
comment on column internal.artifact_pending.created_at is 'When the upload first failed.';

-- The bound on internal.artifact_pending: at most max_rows artifacts and max_bytes bytes wait
-- at once, whatever fails for however long. One row; operators may change it.
create table internal.artifact_pending_limit (
  id boolean primary key default true check (id),
  max_rows integer not null default 100 check (max_rows >= 0),
  max_bytes bigint not null default 67108864 check (max_bytes >= 0)
);
alter table internal.artifact_pending_limit enable row level security;
insert into internal.artifact_pending_limit default values;
comment on table internal.artifact_pending_limit is
  'The one row bounding internal.artifact_pending: how many artifacts and bytes may wait for a later upload.';
comment on column internal.artifact_pending_limit.id is 'Always true: a single row.';
comment on column internal.artifact_pending_limit.max_rows is 'Most artifacts waiting at once.';
comment on column internal.artifact_pending_limit.max_bytes is 'Most bytes waiting at once (sum of size).';

-- A drain takes the pending artifacts that are due, under a lease (next_attempt_at moved
-- past the lease), so two drains never upload the same one at once; a drain that dies
-- leaves them due again when the lease ends.
create function public.artifact_pending_claim(
  p_limit integer,
  p_lease_ms integer,
  p_tenant_id uuid default null
) returns table (evidence_id uuid, tenant_id uuid, envelope_id uuid, bucket_id text,
                 name text, content_type text, content bytea, attempts integer)
language sql
set search_path = ''
as $$
  with due as (
    select p.evidence_id
      from internal.artifact_pending p
     where p.next_attempt_at <= now()
       and (p_tenant_id is null or p.tenant_id = p_tenant_id)
     order by p.next_attempt_at
     limit greatest(p_limit, 0)
       for update skip locked
  )
  update internal.artifact_pending p
     set next_attempt_at = now() + make_interval(secs => greatest(p_lease_ms, 0) / 1000.0)
    from due
   where p.evidence_id = due.evidence_id
  returning p.evidence_id, p.tenant_id, p.envelope_id, p.bucket_id, p.name, p.content_type,
            p.content, p.attempts
$$;
revoke execute on function public.artifact_pending_claim(integer, integer, uuid)
  from public, anon, authenticated;
grant execute on function public.artifact_pending_claim(integer, integer, uuid) to service_role;
comment on function public.artifact_pending_claim(integer, integer, uuid) is
  'Leases up to p_limit due pending artifacts (of one tenant, or all) for p_lease_ms and returns their bytes, oldest due first; rows another drain holds are skipped.';

-- What became of the uploads a drain tried, in one statement: an uploaded artifact leaves
-- the pending store, its evidence row says uploaded and one audit row (artifact_uploaded,
-- naming bucket and path) records it; a failed one waits delay_ms longer with its error.
create function public.artifact_pending_settle(p_results jsonb)
returns table (evidence_id uuid, uploaded boolean)
language plpgsql
set search_path = ''
as $$
begin
  if jsonb_typeof(p_results) is distinct from 'array' then
    raise exception 'artifact_pending_settle: p_results must be a JSON array'
      using errcode = '22023';
  end if;
  if exists (select from jsonb_array_elements(p_results) x (e)
              where jsonb_typeof(e) <> 'object' or e ->> 'evidence_id' is null
                 or jsonb_typeof(e -> 'ok') is distinct from 'boolean') then
    raise exception 'artifact_pending_settle: every element needs evidence_id and ok (boolean)'
      using errcode = '22023';
  end if;

  return query
  with r as (
    select distinct on ((x.e ->> 'evidence_id')::uuid)
           (x.e ->> 'evidence_id')::uuid as id, (x.e ->> 'ok')::boolean as ok,
           x.e ->> 'error' as error, coalesce((x.e ->> 'delay_ms')::bigint, 0) as delay_ms
      from jsonb_array_elements(p_results) as x (e)
     order by (x.e ->> 'evidence_id')::uuid
  ),
  done as (
    delete from internal.artifact_pending p
     using r
     where r.ok and p.evidence_id = r.id
    returning p.evidence_id, p.attempts
  ),
  marked as (
    update public.evidence v
       set artifact_status = 'uploaded'
      from done d
     where v.id = d.evidence_id
    returning v.id, v.tenant_id, v.envelope_id, v.artifact_bucket, v.artifact_path,
              v.artifact_size, d.attempts
  ),
  audited as (
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, envelope_id,
                                  payload)
    select m.tenant_id, 'job', 'outbox-drain', 'artifact_uploaded', m.envelope_id,
           jsonb_build_object('artifact', jsonb_build_object('bucket', m.artifact_bucket,
                                                             'path', m.artifact_path,
                                                             'size', m.artifact_size,
                                                             'status', 'uploaded'),
                              'attempts', m.attempts + 1)
      from marked m
     order by m.tenant_id, m.id
    returning 1
  ),
  failed as (
    update internal.artifact_pending p
       set attempts = p.attempts + 1, last_error = left(r.error, 2000),
           next_attempt_at = now() + make_interval(secs => greatest(r.delay_ms, 0) / 1000.0)
      from r
     where not r.ok and p.evidence_id = r.id
    returning p.evidence_id
  )
  select r.id, r.ok and exists (select from marked m where m.id = r.id)
    from r
   order by r.id;
end
$$;
revoke execute on function public.artifact_pending_settle(jsonb) from public, anon, authenticated;
grant execute on function public.artifact_pending_settle(jsonb) to service_role;
comment on function public.artifact_pending_settle(jsonb) is
  'Records upload attempts of pending artifacts, [{evidence_id, ok, error?, delay_ms?}]: ok removes the bytes, marks the evidence uploaded and writes one artifact_uploaded audit row; not ok counts the attempt and makes it due again after delay_ms. Returns (evidence_id, uploaded) per id.';

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
create or replace function public.outbox_settle(p_outcomes jsonb)
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

-- The Storage bucket for tool outputs too large for an evidence row (seed 001): private
-- (no public URLs; members get signed links through outbox-drain's /artifacts/sign), up to
-- the hosted free plan's 50 MB per object. Objects are named
-- <tenant_id>/<envelope_id>/output.json, so the first folder says whose an object is
-- (0200_policies_evidence_artifacts.sql). A row of the platform's table storage.buckets:
-- the drift test compares it (stack/schema_compare.ts), 16_artifacts.test.sql checks it.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('evidence-artifacts', 'evidence-artifacts', false, 52428800, null);

-- Who reaches the objects of bucket evidence-artifacts. Storage runs each request's SQL as
-- the caller (role and JWT claims), so these policies decide; service_role bypasses RLS.
--
-- Members read their tenant's artifacts: an object's first folder is its tenant, compared
-- with internal.active_tenant_id(), the membership check every tenant policy makes at query
-- time, once per statement. Only the service writes: there is no insert, update or delete
-- policy, so authenticated and anon are refused every write.
--
-- No COMMENT ON POLICY: commenting needs ownership of storage.objects, which postgres lacks
-- on hosted (supautils grants it policy DDL only). What they do is said here.
create policy evidence_artifacts_select_member on storage.objects
  for select to authenticated
  using (bucket_id = 'evidence-artifacts'
         and (storage.foldername(name))[1] = (select internal.active_tenant_id())::text);
