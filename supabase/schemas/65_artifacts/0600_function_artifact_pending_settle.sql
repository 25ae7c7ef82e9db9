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
