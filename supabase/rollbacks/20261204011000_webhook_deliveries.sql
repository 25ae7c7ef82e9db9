-- Reverts 20261204011000_webhook_deliveries.sql: pg_net sends the webhook again. Pending
-- deliveries are dropped with the table (not handed to pg_net: they would go unchecked).

set local check_function_bodies = off;

ALTER TABLE "public"."webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_tenant_id_fkey";

DROP FUNCTION "internal"."webhook_claim_due"(uuid, integer, integer);

DROP FUNCTION "internal"."webhook_record_attempt"(bigint, text, integer, text, text, integer);

DROP TABLE "public"."webhook_deliveries";

CREATE OR REPLACE FUNCTION internal.catalog_drift_record(p_tenant_id uuid, p_run_id bigint, p_snapshot jsonb, p_breaking integer, p_non_breaking integer)
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
      -- Queued in this transaction, sent by pg_net after commit.
      perform net.http_post(
        url := v_url,
        body := jsonb_build_object(
          'event', 'catalog_drift.breaking', 'tenant_id', p_tenant_id,
          'catalog_audit_id', v_id, 'run_id', p_run_id, 'breaking_count', p_breaking,
          'non_breaking_count', p_non_breaking,
          'breaking_tools', coalesce(p_snapshot -> 'breaking_tools', '[]')),
        headers := '{"Content-Type": "application/json"}'::jsonb,
        timeout_milliseconds := 10000);
    end if;
  end if;
  return v_id;
end
$function$;

COMMENT ON COLUMN "public"."guardrails"."drift_webhook_url" IS 'Optional https URL drift-monitor POSTs to (through pg_net) when it finds breaking catalog drift for the tenant; NULL for none. Refused on write: http, credentials, IP literals that are not public, localhost, single-label and special-use names (internal.webhook_url_problem).';

COMMENT ON FUNCTION "internal"."catalog_drift_record"(uuid, bigint, jsonb, integer, integer) IS 'Records one drift snapshot for a tenant and run: the catalog_audit row, an audit_log row (category catalog_drift) and, for breaking drift with guardrails.drift_webhook_url set, a pg_net POST sent after commit. Returns the catalog_audit id.';

delete from supabase_migrations.schema_migrations where version = '20261204011000';
