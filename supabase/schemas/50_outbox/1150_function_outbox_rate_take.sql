-- The drain's flow control, once per batch: for each (tenant, toolkit) of the envelopes it
-- is about to send, in the order given (the claim's: priority first), as many as both the
-- project's Composio bucket and the tenant's rate_buckets row allow, and for what is held
-- back, when to try again. Under the project row's lock, so concurrent drains never spend
-- the same tokens; a tenant's bucket is spent only for what the project bucket lets through.
create function internal.outbox_rate_take(p_wants jsonb)
returns table (tenant_id uuid, toolkit text, wanted integer, granted integer,
               retry_at timestamptz)
language plpgsql
set search_path = ''
as $$
declare
  v_now timestamptz := pg_catalog.clock_timestamp();
  v_project internal.composio_rate_limit;
  v_left numeric;
  v_per_second numeric;
  w record;
begin
  if jsonb_typeof(p_wants) is distinct from 'array' then
    raise exception 'outbox_rate_take: p_wants must be a JSON array' using errcode = '22023';
  end if;
  select * into v_project from internal.composio_rate_limit r where r.id for update;
  if found and v_project.closed_until > v_now then
    v_left := 0;
  elsif found and v_project.rate_limit is not null then
    v_per_second := v_project.rate_limit::numeric / v_project.window_seconds;
    v_left := least(v_project.rate_limit,
                    v_project.tokens
                      + v_per_second * greatest(0, extract(epoch from v_now - v_project.refilled_at)));
  end if;

  for w in
    select (x.e ->> 'tenant_id')::uuid as t, x.e ->> 'toolkit' as k, (x.e ->> 'n')::int as n
      from jsonb_array_elements(p_wants) with ordinality as x (e, ord)
     order by x.ord
  loop
    if w.t is null or w.k is null or w.n is null or w.n < 0 then
      raise exception 'outbox_rate_take: each want needs tenant_id, toolkit and n >= 0'
        using errcode = '22023';
    end if;
    tenant_id := w.t;
    toolkit := w.k;
    wanted := w.n;
    granted := least(w.n, coalesce(floor(v_left)::int, w.n));
    if granted > 0 then
      granted := public.rate_bucket_take(w.t, w.k, granted);
    end if;
    if v_left is not null then
      v_left := v_left - granted;
    end if;
    retry_at := null;
    if granted < w.n then
      if v_left is not null and v_left < 1 then
        -- The project's bucket: open again at Retry-After, or when a token has refilled.
        retry_at := case when v_project.closed_until > v_now then v_project.closed_until
                         else v_now + make_interval(secs => (1 - v_left) / v_per_second) end;
      else
        select v_now + make_interval(
                 secs => greatest(0, 1 - b.tokens) / nullif(b.refill_per_second, 0))
          into retry_at
          from public.rate_buckets b
         where b.tenant_id = w.t and b.toolkit = w.k;
        -- A bucket that never refills holds back until an operator changes it.
        retry_at := coalesce(retry_at, v_now + interval '1 hour');
      end if;
    end if;
    return next;
  end loop;

  if v_left is not null and not (v_project.closed_until > v_now) then
    update internal.composio_rate_limit r
       set tokens = greatest(0, v_left), refilled_at = v_now
     where r.id;
  end if;
end
$$;
revoke all on function internal.outbox_rate_take(jsonb) from public;
comment on function internal.outbox_rate_take(jsonb) is
  'Flow control for one batch: p_wants is [{tenant_id, toolkit, n}] in sending order; grants each as many as the project''s Composio bucket (internal.composio_rate_limit) and the tenant''s rate_buckets row allow, and says when what was held back may go (retry_at).';
