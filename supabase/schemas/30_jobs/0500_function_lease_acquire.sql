create function internal.lease_acquire(p_job text, p_key text, p_holder text, p_ttl_ms integer)
returns boolean
language sql
set search_path = ''
as $$
  -- One statement: inserts a free lease or takes over an expired one; a live lease of
  -- another holder makes the update's WHERE false, so nothing is returned.
  insert into internal.job_leases as l (job, key, holder, expires_at)
  values (p_job, p_key, p_holder, now() + make_interval(secs => p_ttl_ms / 1000.0))
  on conflict (job, key) do update
    set holder = excluded.holder, acquired_at = now(), expires_at = excluded.expires_at
    where l.expires_at < now() or l.holder = excluded.holder
  returning true
$$;
comment on function internal.lease_acquire(text, text, text, integer) is
  'Takes the lease (job, key) for p_holder for p_ttl_ms when it is free, expired or already held by p_holder; true when taken.';
revoke all on function internal.lease_acquire(text, text, text, integer) from public;
