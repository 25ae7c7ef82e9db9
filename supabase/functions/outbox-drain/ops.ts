// Operator routes of outbox-drain (service key): queue status, requeueing dead letters,
// settling unknown outcomes; and the metrics the outbox owns, computed from the database.
import { z } from "zod";
import type { Hono } from "hono";
import { type AppContext, type AppEnv, parseJsonBody, parseQuery } from "../_shared/app.ts";
import { serviceDb, type Sql } from "../_shared/db.ts";
import { conflict, notFound } from "../_shared/errors.ts";
import { serviceCaller } from "../_shared/middleware/caller.ts";
import { optionalEnv } from "../_shared/env.ts";
import type { MetricsSource } from "../_shared/metrics.ts";
import { requireTenant } from "../_shared/tenant.ts";

/** DLQ size above which status answers 503 (env OUTBOX_DLQ_ALERT, default 100). */
export function dlqAlertThreshold(): number {
  const n = Number(optionalEnv("OUTBOX_DLQ_ALERT") ?? 100);
  return Number.isFinite(n) && n >= 0 ? n : 100;
}

export interface OutboxStatus {
  depth: { tenant_id: string; status: string; count: number }[];
  dlq: { tenant_id: string; count: number }[];
  dlq_total: number;
  oldest_due_age_seconds: number | null;
  dlq_threshold: number;
  healthy: boolean;
}

export async function outboxStatus(
  sql: Sql,
  opts: { tenantId?: string; threshold: number },
): Promise<OutboxStatus> {
  const t = opts.tenantId ?? null;
  const [depth, dlq, [due]] = await Promise.all([
    sql`select tenant_id::text, status, count(*)::int as count from public.outbox
        where (${t}::uuid is null or tenant_id = ${t}::uuid)
        group by 1, 2 order by 1, 2`,
    sql`select tenant_id::text, count(*)::int as count from public.outbox_dlq
        where (${t}::uuid is null or tenant_id = ${t}::uuid)
        group by 1 order by 1`,
    sql`select extract(epoch from now() - min(next_run_at))::float8 as age from public.outbox
        where internal.outbox_due(status, next_run_at)
          and (${t}::uuid is null or tenant_id = ${t}::uuid)`,
  ]);
  const dlqTotal = dlq.reduce((n, r) => n + r.count, 0);
  return {
    depth: depth.map((r) => ({ tenant_id: r.tenant_id, status: r.status, count: r.count })),
    dlq: dlq.map((r) => ({ tenant_id: r.tenant_id, count: r.count })),
    dlq_total: dlqTotal,
    oldest_due_age_seconds: due?.age === null || due?.age === undefined
      ? null
      : Math.max(0, Math.round(due.age)),
    dlq_threshold: opts.threshold,
    healthy: dlqTotal <= opts.threshold,
  };
}

const statusQuery = z.strictObject({
  tenant_id: z.guid().optional(),
  dlq_threshold: z.coerce.number().int().min(0).optional(),
});
const requeueBody = z.strictObject({
  tenant_id: z.guid().optional(),
  limit: z.number().int().min(1).max(10_000).default(100),
  actor: z.string().min(1).max(200).optional(),
});
const retryDlqBody = z.strictObject({
  id: z.guid(),
  actor: z.string().min(1).max(200).optional(),
});
const resolveBody = z.strictObject({
  id: z.guid(),
  resolution: z.enum(["done", "retry"]),
  note: z.string().max(2_000).optional(),
  actor: z.string().min(1).max(200).optional(),
});

function sqlError(err: unknown): never {
  const e = err as { code?: string; message?: string };
  if (e?.code === "PT404") throw notFound(e.message ?? "not found");
  if (e?.code === "PT409") throw conflict(e.message ?? "conflict");
  throw err;
}

export function mountOperatorRoutes(app: Hono<AppEnv>) {
  app.get("/status", serviceCaller(), async (c: AppContext) => {
    const q = parseQuery(c, statusQuery);
    await requireTenant(serviceDb(), q.tenant_id);
    const status = await outboxStatus(serviceDb(), {
      tenantId: q.tenant_id,
      threshold: q.dlq_threshold ?? dlqAlertThreshold(),
    });
    return c.json(status, status.healthy ? 200 : 503);
  });

  const requeueDlq = async (c: AppContext) => {
    const b = await parseJsonBody(c, requeueBody);
    await requireTenant(serviceDb(), b.tenant_id);
    const rows = await serviceDb()`
      select id::text from public.outbox_requeue_dlq(${b.tenant_id ?? null}::uuid, ${b.limit},
                                                     ${b.actor ?? "operator"}) as id`;
    return c.json({ requeued: rows.length, ids: rows.map((r) => r.id) });
  };
  app.post("/requeue-dlq", serviceCaller(), requeueDlq);
  // The route's first name, kept so existing operator scripts keep working.
  app.post("/drain", serviceCaller(), requeueDlq);

  app.post("/retry-dlq", serviceCaller(), async (c: AppContext) => {
    const b = await parseJsonBody(c, retryDlqBody);
    const rows = await serviceDb()`
      select id::text from public.outbox_requeue_dlq(null, 1, ${b.actor ?? "operator"},
                                                     ${b.id}::uuid) as id`;
    if (rows.length === 0) {
      throw notFound(`envelope ${b.id} is not in the DLQ`);
    }
    return c.json({ requeued: 1, id: rows[0].id });
  });

  app.post("/resolve", serviceCaller(), async (c: AppContext) => {
    const b = await parseJsonBody(c, resolveBody);
    try {
      const [row] = await serviceDb()`
        select id::text, status from public.outbox_resolve(${b.id}::uuid, ${b.resolution},
                                                          ${b.actor ?? "operator"},
                                                          ${b.note ?? null})`;
      return c.json({ id: row.id, status: row.status });
    } catch (err) {
      sqlError(err);
    }
  });
}

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** outbox_processed_total, outbox_retry_total, outbox_processing_duration_seconds. */
export const outboxDrainMetrics: MetricsSource = async (sql) => {
  // One query at a time, no parameters: the bucket bounds are constants in the text.
  const processed = await sql`
    select tenant_id::text as tenant, payload ->> 'status' as status, count(*)::float8 as n
    from public.audit_log
    where actor_id = 'outbox-drain' and category like 'outbox\\_%'
      and category not in ('outbox_retry', 'outbox_released', 'outbox_lease_expired')
      -- A read that settles nothing, or sends a write back, settles no envelope.
      and category not in ('outbox_reconcile_retry', 'outbox_reconcile_inconclusive',
                           'outbox_reconcile_given_up')
    group by 1, 2`;
  const retries = await sql`
    select tenant_id::text as tenant, count(*)::float8 as n from public.audit_log
    where category = 'outbox_retry' group by 1`;
  const [hist] = await sql.unsafe(`
    with d as (
      select (payload ->> 'duration_ms')::float8 as ms from public.audit_log
      where actor_id = 'outbox-drain' and payload ? 'duration_ms')
    select (select count(*) from d)::float8 as n,
           (select coalesce(sum(ms), 0) from d) / 1000 as sum,
           array(select (select count(*) from d where d.ms <= le)::float8
                   from unnest('{${DURATION_BUCKETS.map((b) => b * 1000).join(",")}}'::float8[]) le)
             as counts`);
  return [
    {
      name: "outbox_processed_total",
      help:
        "Envelopes the drain settled (succeeded, dead-lettered, parked), by tenant and resulting status.",
      type: "counter",
      samples: processed.map((r) => ({
        labels: { tenant: r.tenant ?? "", status: r.status ?? "" },
        value: r.n,
      })),
    },
    {
      name: "outbox_retry_total",
      help: "Executions that ended in a retry, by tenant.",
      type: "counter",
      samples: retries.map((r) => ({ labels: { tenant: r.tenant ?? "" }, value: r.n })),
    },
    {
      name: "outbox_processing_duration_seconds",
      help: "Duration of execute calls, from the audit rows of executed envelopes.",
      type: "histogram",
      samples: [
        ...DURATION_BUCKETS.map((b, i) => ({
          suffix: "_bucket",
          labels: { le: String(b) },
          value: Number(hist?.counts?.[i] ?? 0),
        })),
        { suffix: "_bucket", labels: { le: "+Inf" }, value: Number(hist?.n ?? 0) },
        { suffix: "_sum", value: Number(hist?.sum ?? 0) },
        { suffix: "_count", value: Number(hist?.n ?? 0) },
      ],
    },
  ];
};
