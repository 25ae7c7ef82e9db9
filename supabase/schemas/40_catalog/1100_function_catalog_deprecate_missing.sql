create function internal.catalog_deprecate_missing(p_tenant_id uuid, p_toolkit text,
                                                   p_seen text[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_missing text[];
  v_count integer;
begin
  -- The set difference first: a set operation is hashed or sorted, never the nested loop
  -- (every row against every seen slug) a join over unnest(p_seen) can get planned as.
  select coalesce(array_agg(m.slug), '{}') into v_missing
    from (select c.tool_slug as slug
            from public.tool_catalog c
           where c.tenant_id = p_tenant_id and c.toolkit = p_toolkit and c.is_current
             and c.deprecated_at is null
          except
          select unnest(p_seen)) m;
  if cardinality(v_missing) = 0 then
    return 0;
  end if;
  -- Then one index probe per vanished tool.
  update public.tool_catalog c
     set deprecated_at = now()
    from unnest(v_missing) m (slug)
   where c.tenant_id = p_tenant_id and c.tool_slug = m.slug and c.is_current
     and c.deprecated_at is null;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function internal.catalog_deprecate_missing(uuid, text, text[]) is
  'Marks the tenant''s current tools of a toolkit that are not in p_seen as deprecated; never deletes. catalog-sync passes the tools Composio lists live, so vanished tools and tools Composio lists as deprecated are both marked. Returns how many.';
revoke all on function internal.catalog_deprecate_missing(uuid, text, text[]) from public;
