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
