-- drift-monitor: compares stored schemas with Composio's latest.
create function internal.catalog_drift_compare(p_tenant_id uuid, p_toolkit text, p_latest jsonb)
returns table (tool_slug text, change text, stored_version text, stored_input jsonb,
               latest_input jsonb, latest_version text, latest_versions text[])
language sql
stable
set search_path = ''
as $$
  -- jsonb equality ignores key order and number formatting, so only real differences come
  -- back; the function diffs those structurally.
  with latest as (
    select l.tool_slug, l.input_schema, l.version, l.available_versions
      from jsonb_to_recordset(p_latest) as l(tool_slug text, input_schema jsonb, version text,
                                             available_versions text[])
  ), stored as (
    select c.tool_slug, c.version, c.input_schema
      from public.tool_catalog c
     where c.tenant_id = p_tenant_id and c.toolkit = p_toolkit and c.is_current
       and c.deprecated_at is null
  )
  select coalesce(s.tool_slug, l.tool_slug),
         case when s.tool_slug is null then 'added'
              when l.tool_slug is null then 'removed'
              else 'changed' end,
         s.version, s.input_schema, l.input_schema, l.version, l.available_versions
    from stored s
    full join latest l on l.tool_slug = s.tool_slug
   where s.tool_slug is null or l.tool_slug is null
      or s.input_schema <> coalesce(l.input_schema, '{}')
      or (cardinality(l.available_versions) > 0 and not s.version = any (l.available_versions))
   order by 1
$$;
comment on function internal.catalog_drift_compare(uuid, text, jsonb) is
  'Compares the tenant''s current tools of a toolkit with Composio''s latest (a JSON array of {tool_slug, input_schema, version, available_versions}): returns only tools added, removed, or changed (input schema differs, or the stored version is no longer available).';
revoke all on function internal.catalog_drift_compare(uuid, text, jsonb) from public;
