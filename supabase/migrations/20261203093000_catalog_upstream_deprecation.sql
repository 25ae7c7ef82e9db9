-- catalog-sync now lists Composio's deprecated tools too (include_deprecated, is_deprecated)
-- and treats one as vanished: it is left out of p_seen, so catalog_deprecate_missing marks it,
-- and catalog_upsert restores it when Composio lists it live again. No behaviour here
-- changes; the comments say what deprecated_at now means.
comment on table public.tool_catalog is
  'Each tenant''s cached Composio tools, one row per (tenant, slug, version); is_current marks the version in use. Tools that vanish from Composio or that Composio marks deprecated are deprecated (deprecated_at), never deleted.';
comment on column public.tool_catalog.deprecated_at is
  'When the tool vanished from Composio''s listing or Composio listed it as deprecated (is_deprecated); cleared when it is listed live again. A deprecated current row makes enqueue refuse the tool.';
comment on function internal.catalog_deprecate_missing(uuid, text, text[]) is
  'Marks the tenant''s current tools of a toolkit that are not in p_seen as deprecated; never deletes. catalog-sync passes the tools Composio lists live, so vanished tools and tools Composio lists as deprecated are both marked. Returns how many.';
