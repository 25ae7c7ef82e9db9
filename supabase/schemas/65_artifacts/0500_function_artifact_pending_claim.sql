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
