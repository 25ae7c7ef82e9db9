-- catalog-sync's upsert, in two steps per page: which tools changed (this), then the full
-- definitions of only those (catalog_upsert). Tools arrive already normalised and hashed
-- by the function (supabase/functions/_shared/catalog_normalize.ts).
create function internal.catalog_changed_slugs(p_tenant_id uuid, p_slugs text[],
                                               p_hashes text[])
returns setof text
language sql
stable
set search_path = ''
as $$
  -- Which of these tools differ from the tenant's current rows (new, another hash, or
  -- deprecated): only those need their full definition sent to catalog_upsert.
  select h.slug
    from unnest(p_slugs, p_hashes) as h (slug, hash)
   where not exists (select 1 from public.tool_catalog c
                      where c.tenant_id = p_tenant_id and c.tool_slug = h.slug
                        and c.is_current and c.content_hash = h.hash
                        and c.deprecated_at is null)
$$;
comment on function internal.catalog_changed_slugs(uuid, text[], text[]) is
  'The slugs among p_slugs whose content hash (p_hashes, same order) differs from the tenant''s current row, or that are new or deprecated. Read-only: lets catalog-sync send full definitions only for tools that changed.';
revoke all on function internal.catalog_changed_slugs(uuid, text[], text[]) from public;
