-- Enqueues read-only refresh envelopes within the tenant × toolkit rate bucket.
create function internal.trickle_enqueue(p_tenant_id uuid, p_toolkit text,
                                         p_window_start timestamptz, p_max integer)
returns table (eligible integer, granted integer, enqueued integer)
language plpgsql
set search_path = ''
as $$
declare
  v_window text := to_char(p_window_start at time zone 'UTC', 'YYYYMMDD"T"HH24MISS"Z"');
  v_prefix text := 'trickle:' || p_toolkit || ':';
  v_account text;
  v_slugs text[];
begin
  if p_max is null or p_max < 0 then
    raise exception 'p_max must be a non-negative integer, got %', p_max using errcode = '22023';
  end if;
  -- Taking nothing creates and refills the bucket and locks its row until commit, so
  -- concurrent refreshes of this pair run one after the other from here on and each sees
  -- the envelopes the previous one enqueued.
  perform public.rate_bucket_take(p_tenant_id, p_toolkit, 0);

  -- Read-only, current, not deprecated tools callable without arguments, not yet
  -- enqueued (or dead-lettered) for this window, in slug order.
  select coalesce(array_agg(x.tool_slug order by x.tool_slug), '{}') into v_slugs
    from (select c.tool_slug
            from public.tool_catalog c
           where c.tenant_id = p_tenant_id and c.toolkit = p_toolkit and c.is_current
             and c.deprecated_at is null and c.read_only
             and case jsonb_typeof(c.input_schema -> 'required')
                   when 'array' then jsonb_array_length(c.input_schema -> 'required') = 0
                   else true end
             and not exists (select 1 from public.outbox o
                              where o.tenant_id = p_tenant_id
                                and o.external_id = v_prefix || c.tool_slug || ':' || v_window)
             and not exists (select 1 from public.outbox_dlq o
                              where o.tenant_id = p_tenant_id
                                and o.external_id = v_prefix || c.tool_slug || ':' || v_window)
           order by c.tool_slug
           limit p_max) x;
  eligible := cardinality(v_slugs);

  granted := public.rate_bucket_take(p_tenant_id, p_toolkit, eligible);

  select a.external_account_id into v_account
    from public.connected_accounts a
   where a.tenant_id = p_tenant_id and a.toolkit = p_toolkit and a.status = 'active'
   order by a.linked_at desc nulls last, a.created_at desc
   limit 1;

  select count(*)::int into enqueued
    from (select public.enqueue_envelope(
                   p_tenant_id, t.slug, '{}'::jsonb,
                   v_prefix || t.slug || ':' || v_window, v_account, '{}'::jsonb,
                   jsonb_build_object('source', 'trickle-refresh', 'window_start', p_window_start))
            from unnest(v_slugs[1:granted]) as t (slug)
         ) e;
  return next;
end
$$;
comment on function internal.trickle_enqueue(uuid, text, timestamptz, integer) is
  'Enqueues refresh envelopes (external_id trickle:<toolkit>:<tool>:<window start>, idempotent) for the tenant''s read-only tools of a toolkit that take no required arguments, at most p_max and never more than rate_bucket_take grants. Returns (eligible, granted, enqueued).';
revoke all on function internal.trickle_enqueue(uuid, text, timestamptz, integer) from public;
