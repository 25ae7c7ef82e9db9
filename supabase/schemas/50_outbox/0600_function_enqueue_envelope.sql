-- Errors use PostgREST's PTxxx convention, so a Data API caller gets that HTTP status and
-- SQL callers can match on the code: PT404 unknown tool for the tenant, PT410 the tool is
-- deprecated for the tenant, PT409 the external_id was dead-lettered.
--
-- Enqueue. SECURITY INVOKER: its callers (service_role, postgres) bypass RLS anyway.
create function public.enqueue_envelope(
  p_tenant_id uuid,
  p_tool_slug text,
  p_arguments jsonb default '{}',
  p_external_id text default null,
  p_connected_account_id text default null,
  p_trust_context jsonb default '{}',
  p_metadata jsonb default '{}',
  p_priority integer default 5
) returns public.outbox
language plpgsql
set search_path = ''
as $$
declare
  v_tool public.tool_catalog;
  v_env public.outbox;
begin
  if p_priority is null or p_priority not between 0 and 9 then
    raise exception 'priority must be within 0..9, got %', p_priority using errcode = '22023';
  end if;
  -- Idempotent: an envelope with this key is returned as it is, whatever changed since.
  if p_external_id is not null then
    select * into v_env from public.outbox
     where tenant_id = p_tenant_id and external_id = p_external_id;
    if found then
      return v_env;
    end if;
    if exists (select 1 from public.outbox_dlq
                where tenant_id = p_tenant_id and external_id = p_external_id) then
      raise exception 'envelope with external_id % was dead-lettered', p_external_id
        using errcode = 'PT409',
              hint = 'Requeue it from outbox_dlq instead of enqueueing it again.';
    end if;
  end if;

  select * into v_tool from public.tool_catalog
   where tenant_id = p_tenant_id and tool_slug = p_tool_slug and is_current;
  if not found then
    raise exception 'unknown tool % for tenant %', p_tool_slug, p_tenant_id
      using errcode = 'PT404',
            hint = 'The tool is not in the tenant''s catalog: check the slug or run catalog-sync.';
  end if;
  if v_tool.deprecated_at is not null then
    raise exception 'tool % is deprecated for tenant % since %',
                    p_tool_slug, p_tenant_id, v_tool.deprecated_at
      using errcode = 'PT410';
  end if;

  insert into public.outbox (tenant_id, tool_slug, toolkit, arguments, connected_account_id,
                             risk, read_only, external_id, trust_context, metadata, priority)
  values (p_tenant_id, p_tool_slug, v_tool.toolkit, coalesce(p_arguments, '{}'),
          p_connected_account_id, v_tool.risk, v_tool.read_only, p_external_id,
          coalesce(p_trust_context, '{}'), coalesce(p_metadata, '{}'), p_priority)
  on conflict (tenant_id, external_id) do nothing
  returning * into v_env;
  if not found then
    -- A concurrent call with the same key won the insert.
    select * into v_env from public.outbox
     where tenant_id = p_tenant_id and external_id = p_external_id;
  end if;
  return v_env;
end
$$;
revoke execute on function public.enqueue_envelope(uuid, text, jsonb, text, text, jsonb, jsonb, integer)
  from public, anon, authenticated;
grant execute on function public.enqueue_envelope(uuid, text, jsonb, text, text, jsonb, jsonb, integer)
  to service_role;
comment on function public.enqueue_envelope(uuid, text, jsonb, text, text, jsonb, jsonb, integer) is
  'Adds a pending envelope for the tenant''s current catalog version of the tool (toolkit, risk and read_only copied from it). Idempotent per (tenant, external_id). Raises PT404 for an unknown tool, PT410 for a deprecated one, PT409 when the external_id was dead-lettered, 22023 for a priority outside 0..9 (default 5, higher first). Executable by service_role (and postgres).';
