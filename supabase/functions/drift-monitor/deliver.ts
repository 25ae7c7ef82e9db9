// Sends due webhook deliveries (public.webhook_deliveries, queued by catalog_drift_record)
// and records each attempt: a tenant's right after its snapshot commits, and every tenant's
// retries that have come due at the end of a run. Each claimed row is one attempt through
// _shared/webhook_send.ts (the URL and every address it resolves to checked, the socket
// only to a checked address); internal.webhook_record_attempt decides what comes next.
import { optionalEnv } from "../_shared/env.ts";
import type { Sql } from "../_shared/db.ts";
import type { Logger } from "../_shared/log.ts";
import { type AllowList, parseAllowHosts } from "../_shared/webhook_url.ts";
import { sendWebhook, webhookTimeoutMs } from "../_shared/webhook_send.ts";

export interface DeliverContext {
  sql: Sql;
  log: Logger;
  count(name: string, n?: number): void;
  timeLeft(): number;
}

/** A claimed row is leased this long: past one attempt's deadline, with room to record it. */
const leaseSeconds = 60;

/**
 * The test-only allow-list, from WEBHOOK_TEST_ALLOW_HOSTS; logged whenever it is set, so a
 * run that honours it says so.
 */
export function webhookAllowList(log: Logger): AllowList {
  const list = parseAllowHosts(optionalEnv("WEBHOOK_TEST_ALLOW_HOSTS"), {
    supabaseUrl: optionalEnv("SUPABASE_URL"),
    composioBaseUrl: optionalEnv("COMPOSIO_BASE_URL"),
  });
  if (list.hosts.size > 0 || list.ignored.length > 0) {
    log.warn("webhook_test_allow_hosts", { hosts: [...list.hosts], ignored: list.ignored });
  }
  return list;
}

/** Attempts the due deliveries (one tenant's, or all) while the budget allows one more. */
export async function deliverDue(
  ctx: DeliverContext,
  allow: AllowList,
  tenantId: string | null,
): Promise<void> {
  // One row at a time, claimed only when there is time to try it: a claim spends an attempt.
  while (ctx.timeLeft() >= webhookTimeoutMs + 2_000) {
    const [row] = await ctx.sql<
      { id: string; tenant_id: string; url: string; body: string; attempts: number }[]
    >`
      select id::text, tenant_id::text, url, body, attempts
        from internal.webhook_claim_due(${tenantId}::uuid, 1, ${leaseSeconds})`;
    if (!row) return;
    const res = await sendWebhook(row.url, row.body, {
      allowHosts: allow.hosts,
      headers: { "x-webhook-delivery": row.id },
    });
    const error = "error" in res ? res.error : null;
    const httpStatus = "httpStatus" in res ? res.httpStatus : null;
    const [{ status }] = await ctx.sql<{ status: string | null }[]>`
      select internal.webhook_record_attempt(${row.id}::bigint, ${res.outcome}, ${httpStatus},
                                             ${error}, ${res.address}, ${res.ms}) as status`;
    ctx.count(`webhooks_${res.outcome}`);
    // The URL is never logged: its path or query may hold the receiver's secret.
    const fields = {
      delivery_id: row.id,
      tenant_id: row.tenant_id,
      attempt: row.attempts,
      outcome: res.outcome,
      status,
      http_status: httpStatus,
      address: res.address,
      ms: res.ms,
      ...(error ? { error } : {}),
    };
    if (res.outcome === "delivered") ctx.log.info("webhook_attempt", fields);
    else ctx.log.warn("webhook_attempt", fields);
  }
}
