-- Refill by elapsed time (capped at capacity), then grant what is available up to the
-- wish, in one statement under the bucket's row lock. Uses clock_timestamp(), not the
-- transaction start, and never moves refilled_at backwards, so concurrent takes cannot
-- count the same elapsed time twice.
create function public.rate_bucket_take(p_tenant_id uuid, p_toolkit text, p_wanted int)
returns int
language plpgsql
set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_granted int;
begin
  if p_wanted is null or p_wanted < 0 then
    raise exception 'p_wanted must be a non-negative integer, got %', p_wanted
      using errcode = '22023';
  end if;

  insert into public.rate_buckets (tenant_id, toolkit, refilled_at)
  values (p_tenant_id, p_toolkit, v_now)
  on conflict (tenant_id, toolkit) do nothing;

  with bucket as (
    select tenant_id, toolkit,
           least(capacity,
                 tokens + refill_per_second
                          * greatest(0, extract(epoch from v_now - refilled_at))) as available
      from public.rate_buckets
     where tenant_id = p_tenant_id and toolkit = p_toolkit
       for update
  )
  update public.rate_buckets r
     set tokens = b.available - least(p_wanted, floor(b.available)),
         refilled_at = greatest(r.refilled_at, v_now)
    from bucket b
   where r.tenant_id = b.tenant_id and r.toolkit = b.toolkit
  returning least(p_wanted, floor(b.available))::int into v_granted;
  return v_granted;
end
$$;
revoke execute on function public.rate_bucket_take(uuid, text, int) from public, anon, authenticated;
grant execute on function public.rate_bucket_take(uuid, text, int) to service_role;
comment on function public.rate_bucket_take(uuid, text, int) is
  'Takes up to p_wanted tokens from the (tenant, toolkit) bucket and returns how many were granted (0..p_wanted), refilling first; creates the bucket (capacity 60, 1 token/s) if missing. Executable by service_role (and postgres).';
