-- drift-monitor: one snapshot per tenant and run, with its audit row and the optional
-- breaking-drift webhook (guardrails.drift_webhook_url), queued in webhook_deliveries in the
-- same transaction: drift-monitor sends it after commit, to a checked address.
create function internal.catalog_drift_record(p_tenant_id uuid, p_run_id bigint,
                                              p_snapshot jsonb, p_breaking integer,
                                              p_non_breaking integer)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_id bigint;
  v_url text;
begin
  insert into public.catalog_audit (tenant_id, run_id, snapshot, breaking_count,
                                    non_breaking_count)
  values (p_tenant_id, p_run_id, p_snapshot, p_breaking, p_non_breaking)
  returning id into v_id;

  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (p_tenant_id, 'job', 'drift-monitor/' || coalesce(p_run_id::text, '-'),
          'catalog_drift',
          jsonb_build_object('catalog_audit_id', v_id, 'breaking', p_breaking,
                             'non_breaking', p_non_breaking,
                             'counts', coalesce(p_snapshot -> 'counts', '{}')));

  if p_breaking > 0 then
    select g.drift_webhook_url into v_url from public.guardrails g
     where g.tenant_id = p_tenant_id;
    if v_url is not null then
      insert into public.webhook_deliveries (tenant_id, event, catalog_audit_id, url, body)
      values (p_tenant_id, 'catalog_drift.breaking', v_id, v_url,
              jsonb_build_object(
                'event', 'catalog_drift.breaking', 'tenant_id', p_tenant_id,
                'catalog_audit_id', v_id, 'run_id', p_run_id, 'breaking_count', p_breaking,
                'non_breaking_count', p_non_breaking,
                'breaking_tools', coalesce(p_snapshot -> 'breaking_tools', '[]')));
    end if;
  end if;
  return v_id;
end
$$;
comment on function internal.catalog_drift_record(uuid, bigint, jsonb, integer, integer) is
  'Records one drift snapshot for a tenant and run: the catalog_audit row, an audit_log row (category catalog_drift) and, for breaking drift with guardrails.drift_webhook_url set, a webhook_deliveries row (catalog_drift.breaking) that drift-monitor sends after commit. Returns the catalog_audit id.';
revoke all on function internal.catalog_drift_record(uuid, bigint, jsonb, integer, integer) from public;
