create function internal.catalog_defer_due(p_tenant_id uuid, p_error text) returns timestamptz
language sql
set search_path = ''
as $$
  -- Backoff 5, 10, 20 … minutes, at most 6 hours.
  update internal.catalog_sync_due
     set attempts = attempts + 1, last_error = left(p_error, 1000),
         due_at = now() + least(interval '6 hours', interval '5 minutes' * power(2, attempts))
   where tenant_id = p_tenant_id
  returning due_at
$$;
comment on function internal.catalog_defer_due(uuid, text) is
  'Records a failed sync of a due tenant and pushes its due_at back (5 min doubling, at most 6 h).';
revoke all on function internal.catalog_defer_due(uuid, text) from public;
