-- Tools arrive as one JSON array per page batch, with tool_catalog's column names as keys.
create function internal.catalog_upsert(p_tenant_id uuid, p_toolkit text, p_tools jsonb)
returns table (added integer, changed integer, unchanged integer, restored integer)
language plpgsql
set search_path = ''
as $$
declare
  -- The batch, parsed once: tool_catalog rows (only the columns the batch names are set),
  -- one per slug (checked) so that no statement touches a row twice.
  v_rows public.tool_catalog[];
  v_in_place integer := 0;
  v_restored integer := 0;
  v_retired integer := 0;
  v_inserted integer := 0;
begin
  if p_tools is null or jsonb_typeof(p_tools) <> 'array' then
    raise exception 'p_tools must be a JSON array' using errcode = '22023';
  end if;
  select coalesce(array_agg(r), '{}') into v_rows
    from jsonb_populate_recordset(null::public.tool_catalog, p_tools) r;
  if exists (select 1 from unnest(v_rows) i
              where i.toolkit is distinct from p_toolkit or i.tool_slug is null) then
    raise exception 'every tool of the batch needs a slug and toolkit %', p_toolkit
      using errcode = '22023';
  end if;
  if (select count(distinct i.tool_slug) from unnest(v_rows) i) <> cardinality(v_rows) then
    raise exception 'a slug appears twice in the batch' using errcode = '22023';
  end if;

  -- 1. Same version, new content (Composio edited the tool without a new toolkit version),
  --    or a deprecated tool that is back: update the current row in place. Rows whose hash
  --    matches and that are not deprecated are not touched at all (no new row version).
  with cls as (
    select c.id as row_id, c.content_hash <> i.content_hash as differs, i.*
      from unnest(v_rows) i
      join public.tool_catalog c
        on c.tenant_id = p_tenant_id and c.tool_slug = i.tool_slug and c.is_current
     where c.version = i.version
       and (c.content_hash <> i.content_hash or c.deprecated_at is not null)
  ), upd as (
    update public.tool_catalog t
       set toolkit = cls.toolkit, display_name = cls.display_name,
           description = cls.description, input_schema = coalesce(cls.input_schema, '{}'),
           output_schema = coalesce(cls.output_schema, '{}'),
           required_scopes = coalesce(cls.required_scopes, '{}'), tags = coalesce(cls.tags, '{}'),
           risk = cls.risk, read_only = coalesce(cls.read_only, false),
           content_hash = cls.content_hash, synced_version = cls.synced_version,
           deprecated_at = null, synced_at = now()
      from cls
     where t.id = cls.row_id
    returning cls.differs
  )
  select count(*) filter (where differs), count(*) filter (where not differs)
    into v_in_place, v_restored
    from upd;

  -- 2. A new version: the current row of another version stops being current ...
  update public.tool_catalog c
     set is_current = false
    from unnest(v_rows) i
   where c.tenant_id = p_tenant_id and c.tool_slug = i.tool_slug and c.is_current
     and c.version <> i.version;
  get diagnostics v_retired = row_count;

  -- 3. ... and new tools and new versions get a current row (an older row of that version,
  --    if the toolkit went back to it, becomes current again).
  insert into public.tool_catalog as t (
    tenant_id, tool_slug, toolkit, display_name, description, version, input_schema,
    output_schema, required_scopes, tags, risk, read_only, content_hash, synced_version,
    is_current, deprecated_at, synced_at)
  select p_tenant_id, i.tool_slug, i.toolkit, i.display_name, i.description, i.version,
         coalesce(i.input_schema, '{}'), coalesce(i.output_schema, '{}'),
         coalesce(i.required_scopes, '{}'), coalesce(i.tags, '{}'), i.risk,
         coalesce(i.read_only, false), i.content_hash, i.synced_version, true, null, now()
    from unnest(v_rows) i
   where not exists (select 1 from public.tool_catalog c
                      where c.tenant_id = p_tenant_id and c.tool_slug = i.tool_slug
                        and c.is_current)
  on conflict (tenant_id, tool_slug, version) do update
    set toolkit = excluded.toolkit, display_name = excluded.display_name,
        description = excluded.description, input_schema = excluded.input_schema,
        output_schema = excluded.output_schema, required_scopes = excluded.required_scopes,
        tags = excluded.tags, risk = excluded.risk, read_only = excluded.read_only,
        content_hash = excluded.content_hash, synced_version = excluded.synced_version,
        is_current = true, deprecated_at = null, synced_at = now();
  get diagnostics v_inserted = row_count;

  added := v_inserted - v_retired;
  changed := v_in_place + v_retired;
  restored := v_restored;
  unchanged := cardinality(v_rows) - added - changed - restored;
  return next;
end
$$;
comment on function internal.catalog_upsert(uuid, text, jsonb) is
  'Upserts one batch of normalised tools of one toolkit for a tenant, set-based: an unchanged content_hash writes nothing; a changed tool of the same version is updated in place; a new version becomes the current row (the old one stays, not current); a returning deprecated tool is restored. Returns (added, changed, unchanged, restored).';
revoke all on function internal.catalog_upsert(uuid, text, jsonb) from public;
