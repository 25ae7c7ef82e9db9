-- Webhook deliveries (the SSRF finding in docs/security.md): catalog_drift_record handed the
-- breaking-drift webhook to pg_net, which connects wherever the URL's name resolves at send
-- time and cannot check that address first. It now queues a public.webhook_deliveries row
-- in the snapshot's transaction; drift-monitor sends it after commit to a checked address
-- (_shared/webhook_send.ts) and records every attempt (internal.webhook_claim_due,
-- internal.webhook_record_attempt). Current definitions: supabase/schemas/40_catalog/1750
-- to 1800. Drafted with `deno task db:diff webhook_deliveries`; nothing to backfill (a
-- request pg_net already queued is sent as before).

set local check_function_bodies = off;

CREATE TABLE "public"."webhook_deliveries" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "tenant_id" uuid NOT NULL, "event" text NOT NULL, "catalog_audit_id" bigint, "url" text NOT NULL, "body" jsonb NOT NULL, "status" text NOT NULL DEFAULT 'pending'::text, "attempts" integer NOT NULL DEFAULT 0, "max_attempts" integer NOT NULL DEFAULT 5, "next_attempt_at" timestamp with time zone NOT NULL DEFAULT now(), "last_error" text, "last_http_status" integer, "attempt_log" jsonb NOT NULL DEFAULT '[]'::jsonb, "created_at" timestamp with time zone NOT NULL DEFAULT now(), "updated_at" timestamp with time zone NOT NULL DEFAULT now(), "finished_at" timestamp with time zone, CONSTRAINT "webhook_deliveries_attempt_log_check" CHECK ((jsonb_typeof(attempt_log) = 'array'::text)), CONSTRAINT "webhook_deliveries_attempts_check" CHECK ((attempts >= 0)), CONSTRAINT "webhook_deliveries_body_check" CHECK ((jsonb_typeof(body) = 'object'::text)), CONSTRAINT "webhook_deliveries_event_check" CHECK ((event ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'::text)), CONSTRAINT "webhook_deliveries_max_attempts_check" CHECK (((max_attempts >= 1) AND (max_attempts <= 20))), CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY (id), CONSTRAINT "webhook_deliveries_status_check" CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text, 'refused'::text]))));

ALTER TABLE "public"."webhook_deliveries" ENABLE ROW LEVEL SECURITY;

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
$function$;

CREATE OR REPLACE FUNCTION internal.webhook_claim_due(p_tenant_id uuid, p_limit integer, p_lease_seconds integer)
 RETURNS TABLE(id bigint, tenant_id uuid, url text, body text, attempts integer)
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  update public.webhook_deliveries d
     set attempts = d.attempts + 1,
         next_attempt_at = now() + make_interval(secs => p_lease_seconds)
   where d.id in (select w.id from public.webhook_deliveries w
                   where w.status = 'pending' and w.next_attempt_at <= now()
                     and (p_tenant_id is null or w.tenant_id = p_tenant_id)
                   order by w.next_attempt_at, w.id
                   limit p_limit
                     for update skip locked)
  returning d.id, d.tenant_id, d.url, d.body::text, d.attempts
$function$;

CREATE OR REPLACE FUNCTION internal.webhook_record_attempt(p_id bigint, p_outcome text, p_http_status integer, p_error text, p_address text, p_ms integer)
 RETURNS text
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_status text;
begin
  if p_outcome not in ('delivered', 'failed', 'refused', 'retry') then
    raise exception 'webhook attempt outcome % is not delivered, failed, refused or retry',
      p_outcome using errcode = '22023';
  end if;
  update public.webhook_deliveries d
     set status = case when p_outcome <> 'retry' then p_outcome
                       when d.attempts >= d.max_attempts then 'failed'
                       else 'pending' end,
         next_attempt_at = case when p_outcome = 'retry' and d.attempts < d.max_attempts
                                then now() + least(interval '1 minute' * power(4, d.attempts - 1),
                                                   interval '6 hours')
                                else d.next_attempt_at end,
         last_error = case when p_outcome = 'delivered' then null else p_error end,
         last_http_status = p_http_status,
         finished_at = case when p_outcome = 'retry' and d.attempts < d.max_attempts then null
                            else now() end,
         attempt_log = d.attempt_log || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
           'attempt', d.attempts, 'at', now(), 'outcome', p_outcome,
           'http_status', p_http_status, 'address', p_address, 'error', p_error, 'ms', p_ms)))
   where d.id = p_id and d.status = 'pending'
  returning d.status into v_status;
  return v_status;
end
$function$;

ALTER TABLE "public"."webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_tenant_id_fkey" FOREIGN KEY (tenant_id) REFERENCES public.tenants(id) ON DELETE CASCADE;

CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text);

CREATE INDEX webhook_deliveries_tenant_created_idx ON public.webhook_deliveries USING btree (tenant_id, created_at DESC);

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON public.webhook_deliveries FOR EACH ROW EXECUTE FUNCTION internal.touch_updated_at();

CREATE POLICY "webhook_deliveries_select_owner" ON "public"."webhook_deliveries" FOR SELECT TO "authenticated" USING (((tenant_id = ( SELECT internal.active_tenant_id() AS active_tenant_id)) AND (( SELECT internal.active_tenant_role() AS active_tenant_role) = 'owner'::text)));

COMMENT ON COLUMN "public"."guardrails"."drift_webhook_url" IS 'Optional https URL drift-monitor POSTs to when it finds breaking catalog drift for the tenant (queued in webhook_deliveries, sent by drift-monitor to a checked public address); NULL for none. Refused on write: http, credentials, IP literals that are not public, localhost, single-label and special-use names (internal.webhook_url_problem).';

COMMENT ON COLUMN "public"."webhook_deliveries"."attempt_log" IS 'Every attempt: [{attempt, at, outcome, http_status, address, error, ms}], oldest first.';

COMMENT ON COLUMN "public"."webhook_deliveries"."attempts" IS 'Attempts made (counted when a run claims the row).';

COMMENT ON COLUMN "public"."webhook_deliveries"."body" IS 'The JSON body POSTed.';

COMMENT ON COLUMN "public"."webhook_deliveries"."catalog_audit_id" IS 'The drift snapshot (catalog_audit.id) the event reports.';

COMMENT ON COLUMN "public"."webhook_deliveries"."created_at" IS 'When the event was queued.';

COMMENT ON COLUMN "public"."webhook_deliveries"."event" IS 'Event name, the body''s event field (catalog_drift.breaking).';

COMMENT ON COLUMN "public"."webhook_deliveries"."finished_at" IS 'When it was delivered, failed or refused.';

COMMENT ON COLUMN "public"."webhook_deliveries"."id" IS 'Delivery id, sent as the x-webhook-delivery header (receivers can tell a retry from a new event).';

COMMENT ON COLUMN "public"."webhook_deliveries"."last_error" IS 'Why the last attempt did not deliver; names the host and address, never the URL''s path or query.';

COMMENT ON COLUMN "public"."webhook_deliveries"."last_http_status" IS 'HTTP status of the last answer, when there was one.';

COMMENT ON COLUMN "public"."webhook_deliveries"."max_attempts" IS 'Attempts before a retryable failure becomes failed.';

COMMENT ON COLUMN "public"."webhook_deliveries"."next_attempt_at" IS 'When the next attempt is due (pending rows), or when the claiming run''s lease ends.';

COMMENT ON COLUMN "public"."webhook_deliveries"."status" IS 'pending (due at next_attempt_at), delivered (a 2xx), failed (the receiver refused, a redirect, or max_attempts reached), refused (the URL or an address its host resolves to is not allowed; never sent).';

COMMENT ON COLUMN "public"."webhook_deliveries"."tenant_id" IS 'The tenant whose webhook it is.';

COMMENT ON COLUMN "public"."webhook_deliveries"."updated_at" IS 'Last change, maintained by trigger.';

COMMENT ON COLUMN "public"."webhook_deliveries"."url" IS 'guardrails.drift_webhook_url when the event was queued; checked again at every attempt.';

COMMENT ON FUNCTION "internal"."catalog_drift_record"(uuid, bigint, jsonb, integer, integer) IS 'Records one drift snapshot for a tenant and run: the catalog_audit row, an audit_log row (category catalog_drift) and, for breaking drift with guardrails.drift_webhook_url set, a webhook_deliveries row (catalog_drift.breaking) that drift-monitor sends after commit. Returns the catalog_audit id.';

COMMENT ON FUNCTION "internal"."webhook_claim_due"(uuid, integer, integer) IS 'Claims up to p_limit due pending webhook deliveries (p_tenant_id''s, or every tenant''s when NULL), oldest due first, skipping rows another run holds: counts the attempt and leases the row for p_lease_seconds. Returns id, tenant, url, body as JSON text and the attempt number.';

COMMENT ON FUNCTION "internal"."webhook_record_attempt"(bigint, text, integer, text, text, integer) IS 'Records the outcome of a claimed webhook attempt (delivered, failed, refused: final; retry: due again after 1, 4, 16 … minutes, at most 6 h, or failed at max_attempts) in status, last_error, last_http_status and attempt_log. Returns the new status, NULL when the row is not pending.';

COMMENT ON TABLE "public"."webhook_deliveries" IS 'Webhooks to send (drift-monitor''s catalog_drift.breaking), one row per event, with the outcome of every attempt. Queued by catalog_drift_record, sent by drift-monitor to a checked public address, retried with backoff. Written by the service; owners read their tenant''s rows.';

REVOKE ALL ON FUNCTION "internal"."webhook_claim_due"(uuid, integer, integer) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION "internal"."webhook_claim_due"(uuid, integer, integer) TO "postgres";

REVOKE ALL ON FUNCTION "internal"."webhook_record_attempt"(bigint, text, integer, text, text, integer) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION "internal"."webhook_record_attempt"(bigint, text, integer, text, text, integer) TO "postgres";

REVOKE ALL ON TABLE "public"."webhook_deliveries" FROM "anon";

GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE "public"."webhook_deliveries" TO "anon";

REVOKE ALL ON TABLE "public"."webhook_deliveries" FROM "authenticated";

GRANT DELETE, INSERT, SELECT, UPDATE ON TABLE "public"."webhook_deliveries" TO "authenticated";

GRANT DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE ON TABLE "public"."webhook_deliveries" TO "postgres", "service_role";
