// trickle-refresh: keeps read-only signals fresh by enqueueing read-tool envelopes into the
// outbox for each (tenant, toolkit) every 30–60 minutes.
//
// The schedule lives beside the tool definitions (internal.trickle_schedule, rows added by
// catalog-sync for every toolkit it syncs): each pair has a stable interval and phase from a
// hash of (tenant, toolkit), so refreshes spread over the hour and do not drift. A tick
// claims due pairs with SKIP LOCKED (internal.trickle_claim_due) and, per pair, enqueues the
// tenant's read-only tools that take no required arguments through public.enqueue_envelope
// (internal.trickle_enqueue): external_id `trickle:<toolkit>:<tool>:<window start>` makes it
// idempotent per pair and window, and tokens from rate_bucket_take bound how many envelopes
// are enqueued, under the bucket's row lock, so concurrent invocations never exceed it.
//
// Invocations (POST /trickle-refresh, service key):
//   {}                                        tick: every due pair, within the budget
//   {"tenant_id"?, "toolkit"?}                only matching due pairs
//   {"tenant_id", "toolkit"?, "immediate": true}
//                                             now, whatever the jitter says (warm scan)
import { z } from "zod";
import { toolkitSlug } from "../_shared/toolkit_slug.ts";
import { jobBodyFields, type JobDefinition } from "../_shared/job.ts";
import { registerMetrics } from "../_shared/metrics.ts";

export const slug = "trickle-refresh";

export const trickleRefreshBody = z.strictObject({
  ...jobBodyFields,
  toolkit: toolkitSlug.optional(),
  /** Refresh the matching pairs now, ignoring their due time (warm scan). */
  immediate: z.boolean().optional(),
  /** Most envelopes per pair and window. */
  max_per_pair: z.number().int().min(1).max(1000).optional(),
}).refine((b) => !b.immediate || b.tenant_id, {
  message: "immediate needs tenant_id",
  path: ["tenant_id"],
});
export type TrickleRefreshBody = z.infer<typeof trickleRefreshBody>;

/** Pairs claimed per round trip. */
const claimBatch = 20;

export const trickleRefreshJob: JobDefinition<typeof trickleRefreshBody> = {
  slug,
  schema: trickleRefreshBody,
  defaultBudgetMs: 25_000,
  async run(ctx) {
    const { sql, body } = ctx;
    const tenant = body.tenant_id ?? null;
    const toolkit = body.toolkit ?? null;
    if (body.dry_run) {
      const [{ n }] = await sql`
        select count(*)::int as n from internal.trickle_schedule
         where (next_due_at <= now() or ${body.immediate ?? false})
           and (${tenant}::uuid is null or tenant_id = ${tenant}::uuid)
           and (${toolkit}::text is null or toolkit = ${toolkit}::text)`;
      ctx.count("due_pairs", n);
      return {};
    }
    const maxPairs = body.limit ?? Infinity;
    let pairs = 0;
    for (;;) {
      if (ctx.outOfTime()) return { remaining: true };
      const wanted = Math.min(claimBatch, maxPairs - pairs);
      if (wanted <= 0) return { remaining: true };
      const claimed = await sql<{ tenant_id: string; toolkit: string; window_start: Date }[]>`
        select tenant_id::text, toolkit, window_start
          from internal.trickle_claim_due(${wanted}, ${tenant}::uuid, ${toolkit}::text,
                                          ${body.immediate ?? false})`;
      for (const pair of claimed) {
        const [r] = await sql<{ eligible: number; granted: number; enqueued: number }[]>`
          select eligible, granted, enqueued
            from internal.trickle_enqueue(${pair.tenant_id}, ${pair.toolkit},
                                          ${pair.window_start}, ${body.max_per_pair ?? 100})`;
        pairs++;
        ctx.count("pairs");
        ctx.count("eligible", r.eligible);
        ctx.count("enqueued", r.enqueued);
        ctx.count("throttled", r.eligible - r.granted);
        ctx.log.info("pair_refreshed", {
          tenant_id: pair.tenant_id,
          toolkit: pair.toolkit,
          window_start: pair.window_start.toISOString(),
          ...r,
        });
      }
      // An immediate refresh claims its pairs once; a tick goes on while pairs are due.
      if (body.immediate || claimed.length < wanted) return {};
    }
  },
};

/** Pairs waiting for their refresh. */
registerMetrics(async (sql) => {
  const rows = await sql`
    select count(*) filter (where next_due_at <= now())::float8 as due,
           count(*)::float8 as total
      from internal.trickle_schedule`;
  return [
    {
      name: "trickle_refresh_due_pairs",
      help:
        "(tenant, toolkit) pairs whose refresh window has started and that are not yet refreshed.",
      type: "gauge",
      samples: [{ value: rows[0].due }],
    },
    {
      name: "trickle_refresh_pairs",
      help: "(tenant, toolkit) pairs on the refresh schedule.",
      type: "gauge",
      samples: [{ value: rows[0].total }],
    },
  ];
});
