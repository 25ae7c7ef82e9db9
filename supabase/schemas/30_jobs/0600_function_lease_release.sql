create function internal.lease_release(p_job text, p_key text, p_holder text) returns boolean
language sql
set search_path = ''
as $$
  with gone as (
    delete from internal.job_leases where job = p_job and key = p_key and holder = p_holder
    returning 1
  )
  select exists (select 1 from gone)
$$;
comment on function internal.lease_release(text, text, text) is
  'Releases the lease if p_holder still holds it; true when released.';
revoke all on function internal.lease_release(text, text, text) from public;
