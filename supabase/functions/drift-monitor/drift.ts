// drift-monitor: compares each tenant's stored catalog with Composio's latest tools and
// records what drifted, one snapshot per tenant and run.
//
// Invocations (POST /drift-monitor, service key):
//   {}                    hourly: every tenant with a catalog whose latest snapshot is older
//                         than 50 minutes, oldest first, within the budget (a chained
//                         re-invocation continues with the rest)
//   {"tenant_id": …}      this tenant now
//   {"force": true}       every tenant, however recent its snapshot
// Composio is read once per toolkit and run, whatever the number of tenants; the comparison
// runs in Postgres (internal.catalog_drift_compare returns only tools that differ) and the
// structural diff of those in classify.ts. internal.catalog_drift_record writes the
// catalog_audit snapshot, the audit_log row (category catalog_drift) and, for breaking drift,
// queues the tenant's webhook (guardrails.drift_webhook_url) as a webhook_deliveries row in
// the same transaction; deliver.ts sends it once that has committed, and retries earlier
// failures that have come due at the end of every run.
import { z } from "zod";
import { type ComposioConfig, composioConfig } from "../_shared/composio.ts";
import { listToolPages } from "../_shared/composio_tools.ts";
import {
  jobBodyFields,
  type JobContext,
  type JobDefinition,
  type JobResult,
} from "../_shared/job.ts";
import type { AllowList } from "../_shared/webhook_url.ts";
import { registerMetrics } from "../_shared/metrics.ts";
import { buildSnapshot, type CompareRow } from "./classify.ts";
import { deliverDue, webhookAllowList } from "./deliver.ts";

export const slug = "drift-monitor";

export const driftMonitorBody = z.strictObject({
  ...jobBodyFields,
  /** Ignore how recent a tenant's latest snapshot is. */
  force: z.boolean().optional(),
});
export type DriftMonitorBody = z.infer<typeof driftMonitorBody>;
type Ctx = JobContext<DriftMonitorBody>;

/** A tenant checked this recently is not due on an hourly run. */
const freshMinutes = 50;

/**
 * Composio's latest tools of a toolkit, as JSON text for catalog_drift_compare, built once
 * per run (passed as text: a parameter Postgres types as jsonb would be JSON-encoded again).
 */
type Latest = { json: string } | { error: string };

export const driftMonitorJob: JobDefinition<typeof driftMonitorBody> = {
  slug,
  schema: driftMonitorBody,
  defaultBudgetMs: 50_000,
  async run(ctx) {
    const allow = webhookAllowList(ctx.log);
    const result = await checkDueTenants(ctx, allow);
    // Earlier failures whose retry has come due, whichever tenant they belong to.
    if (!ctx.body.dry_run) await deliverDue(ctx, allow, null);
    return result;
  },
};

async function checkDueTenants(ctx: Ctx, allow: AllowList): Promise<JobResult> {
  const { sql, body } = ctx;
  const config = composioConfig();
  const cache = new Map<string, Promise<Latest>>();
  const max = body.limit ?? Infinity;
  const tried = new Set<string>();
  let done = 0;
  for (;;) {
    const tenants = await sql<{ tenant_id: string }[]>`
        select c.tenant_id::text
          from (select distinct tenant_id from public.tool_catalog where is_current) c
          left join lateral (
            select max(a.created_at) as at from public.catalog_audit a
             where a.tenant_id = c.tenant_id) last on true
         where (${body.tenant_id ?? null}::uuid is null or c.tenant_id = ${
      body.tenant_id ?? null
    }::uuid)
           and (${body.force ?? false} or ${body.tenant_id ?? null}::uuid is not null
                or last.at is null
                or last.at < now() - make_interval(mins => ${freshMinutes}))
           and not (c.tenant_id::text = any (${sql.array([...tried])}::text[]))
         order by last.at nulls first, c.tenant_id
         limit 20`;
    if (tenants.length === 0) return {};
    for (const { tenant_id } of tenants) {
      tried.add(tenant_id);
      if (done >= max || ctx.outOfTime()) return { remaining: true };
      const lease = await ctx.acquireLease(`tenant:${tenant_id}`, ctx.timeLeft() + 30_000);
      if (!lease) {
        ctx.count("skipped_locked");
        continue;
      }
      await checkTenant(ctx, config, cache, tenant_id);
      // The snapshot has committed: its webhook (and the tenant's due retries) go now.
      if (!body.dry_run) await deliverDue(ctx, allow, tenant_id);
      await lease.release();
      done++;
    }
    if (body.tenant_id) return {};
  }
}

function latestFor(
  ctx: Ctx,
  config: ComposioConfig,
  cache: Map<string, Promise<Latest>>,
  toolkit: string,
): Promise<Latest> {
  let p = cache.get(toolkit);
  if (!p) {
    p = (async (): Promise<Latest> => {
      try {
        // Only what the comparison needs is kept, page by page and as JSON text: neither a
        // 10,000-tool toolkit's full definitions nor its parsed schemas need be in memory
        // at once (the text is a fraction of the objects it was written from).
        const parts: string[] = [];
        let fetched = 0;
        for await (
          const page of listToolPages(config, {
            toolkit,
            limit: 500,
            retry: { deadline: Date.now() + ctx.timeLeft() },
          })
        ) {
          // A tool Composio lists as deprecated counts as gone upstream, as catalog-sync
          // treats it: removed, which is breaking for whoever still calls it.
          const slim = page.tools.filter((t) => !t.is_deprecated).map((t) => ({
            tool_slug: t.slug,
            input_schema: t.input_parameters,
            version: t.version,
            available_versions: t.available_versions,
          }));
          // The page's objects without the array's brackets, so that the parts join into one.
          if (slim.length) parts.push(JSON.stringify(slim).slice(1, -1));
          fetched += slim.length;
          for (const e of page.errors) {
            ctx.log.warn("tool_invalid", { toolkit, tool: e.slug, error: e.message });
          }
        }
        ctx.count("fetched", fetched);
        return { json: `[${parts.join(",")}]` };
      } catch (err) {
        return { error: (err as Error).message };
      }
    })();
    cache.set(toolkit, p);
  }
  return p;
}

async function checkTenant(
  ctx: Ctx,
  config: ComposioConfig,
  cache: Map<string, Promise<Latest>>,
  tenant: string,
): Promise<void> {
  const { sql, body } = ctx;
  const kits = await sql<{ toolkit: string }[]>`
    select distinct toolkit from public.tool_catalog
     where tenant_id = ${tenant} and is_current order by toolkit`;
  const perToolkit: { toolkit: string; rows: CompareRow[] }[] = [];
  const errors: { toolkit: string; error: string }[] = [];
  for (const { toolkit } of kits) {
    const latest = await latestFor(ctx, config, cache, toolkit);
    if ("error" in latest) {
      errors.push({ toolkit, error: latest.error });
      continue;
    }
    const rows = await sql<CompareRow[]>`
      select tool_slug, change, stored_version, stored_input, latest_input, latest_version,
             latest_versions
        from internal.catalog_drift_compare(${tenant}, ${toolkit}, ${latest.json}::text::jsonb)`;
    perToolkit.push({ toolkit, rows: [...rows] });
  }
  const snapshot = buildSnapshot(perToolkit, errors);
  const { counts } = snapshot;
  ctx.count("tenants");
  ctx.count("breaking", counts.breaking);
  ctx.count("non_breaking", counts.non_breaking);
  ctx.count("errors", counts.errors);
  if (counts.breaking > 0) ctx.count("tenants_breaking");
  ctx.log.info("tenant_drift", { tenant_id: tenant, ...counts });
  if (body.dry_run) return;
  await sql`
    select internal.catalog_drift_record(${tenant}, ${ctx.runId}::bigint,
                                         ${sql.json(snapshot as never)}, ${counts.breaking},
                                         ${counts.non_breaking})`;
}

/** Breaking changes in each tenant's latest snapshot: what alerts fire on. */
registerMetrics(async (sql) => {
  const rows = await sql`
    select distinct on (tenant_id) tenant_id::text as tenant, breaking_count::float8 as b,
           non_breaking_count::float8 as nb
      from public.catalog_audit order by tenant_id, created_at desc, id desc`;
  return [
    {
      name: "catalog_drift_breaking",
      help: "Breaking catalog changes in the tenant's latest drift snapshot (alert when > 0).",
      type: "gauge",
      samples: rows.map((r) => ({ labels: { tenant: r.tenant }, value: r.b })),
    },
    {
      name: "catalog_drift_non_breaking",
      help: "Non-breaking catalog changes in the tenant's latest drift snapshot.",
      type: "gauge",
      samples: rows.map((r) => ({ labels: { tenant: r.tenant }, value: r.nb })),
    },
  ];
});
