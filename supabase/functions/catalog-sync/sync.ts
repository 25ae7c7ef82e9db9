// catalog-sync: keeps each tenant's tool_catalog equal to what Composio lists for the
// toolkits the tenant has connected.
//
// Invocations (POST /catalog-sync, service key):
//   {}                              tick: sync due tenants (internal.catalog_sync_due), oldest
//                                   first, within the budget; `limit` caps the tenants
//   {"mark_due": true}              nightly: mark every tenant due, then drain like a tick
//   {"tenant_id": …}                sync this tenant now, due or not
//   {"tenant_id", "toolkit", "warm": true}
//                                   warm scan (the connected_accounts trigger): sync this one
//                                   toolkit now, then invoke trickle-refresh for the pair
//                                   immediately (unjittered) through jobs.invoke
// A tenant is synced under the lease `tenant:<id>`: a second invocation skips it (a warm scan
// that finds the lease taken marks the tenant due instead, so the next tick catches up).
import { z } from "zod";
import { toolkitSlug } from "../_shared/toolkit_slug.ts";
import { type CatalogToolText, toCatalogToolText } from "../_shared/catalog_normalize.ts";
import { type ComposioConfig, composioConfig } from "../_shared/composio.ts";
import { listToolPages } from "../_shared/composio_tools.ts";
import type { Sql } from "../_shared/db.ts";
import { jobBodyFields, type JobContext, type JobDefinition } from "../_shared/job.ts";
import { registerMetrics } from "../_shared/metrics.ts";

export const slug = "catalog-sync";

export const catalogSyncBody = z.strictObject({
  ...jobBodyFields,
  /** Mark every tenant (or tenant_id) due before draining (the nightly schedule). */
  mark_due: z.boolean().optional(),
  /** Sync only this toolkit of tenant_id. */
  toolkit: toolkitSlug.optional(),
  /** Warm scan: toolkit just connected; refresh it right after syncing. */
  warm: z.boolean().optional(),
  /** Tools per Composio page (1–1000, default 250). */
  page_size: z.number().int().min(1).max(1000).optional(),
}).refine((b) => !(b.toolkit || b.warm) || b.tenant_id, {
  message: "toolkit and warm need tenant_id",
  path: ["tenant_id"],
}).refine((b) => !b.warm || b.toolkit, { message: "warm needs toolkit", path: ["toolkit"] });
export type CatalogSyncBody = z.infer<typeof catalogSyncBody>;

type Ctx = JobContext<CatalogSyncBody>;

/** Counts of one toolkit or tenant sync; also the audit payload. */
export interface SyncCounts {
  fetched: number;
  added: number;
  changed: number;
  unchanged: number;
  restored: number;
  deprecated: number;
  errors: number;
}

const zeroCounts = (): SyncCounts => ({
  fetched: 0,
  added: 0,
  changed: 0,
  unchanged: 0,
  restored: 0,
  deprecated: 0,
  errors: 0,
});

function addCounts(into: SyncCounts, from: SyncCounts): void {
  for (const k of Object.keys(into) as (keyof SyncCounts)[]) into[k] += from[k];
}

class OutOfBudget extends Error {}

/**
 * Tools per Composio page. Memory sets it: a page is hashed and upserted while the next is
 * listed, and V8 doubles its young generation once enough has survived its collections,
 * which is what those two pages are while they are in use. On a 10,000-tool toolkit, pages
 * of 250 kept the young generation at 16 MB semispaces and the first sync's peak at about
 * 120 MB; from 300 up it grew to 32 MB and the peak to about 145 MB (bench/RESULTS.md,
 * catalog jobs). Pages of 100 cost wall time instead: about 2.7 s for that first sync.
 */
export const defaultPageSize = 250;

/** How many tenants a tick reads from the due list at a time. */
const dueBatch = 20;

export const catalogSyncJob: JobDefinition<typeof catalogSyncBody> = {
  slug,
  schema: catalogSyncBody,
  defaultBudgetMs: 50_000,
  async run(ctx) {
    const { sql, body } = ctx;
    const config = composioConfig();
    if (body.mark_due && !body.dry_run) {
      const [{ n }] = await sql`select internal.catalog_mark_due(${body.tenant_id ?? null}) as n`;
      ctx.count("marked_due", n);
    }

    if (body.toolkit) {
      // One toolkit of one tenant (warm scan, or an operator).
      const tenant = body.tenant_id!;
      const lease = await ctx.acquireLease(`tenant:${tenant}`, leaseTtl(ctx));
      if (!lease) {
        if (!body.dry_run) await sql`select internal.catalog_mark_due(${tenant})`;
        return { skipped: `tenant ${tenant} is being synced by another invocation; marked due` };
      }
      let counts: SyncCounts;
      try {
        counts = await syncToolkit(ctx, config, tenant, body.toolkit);
      } catch (err) {
        if (err instanceof OutOfBudget) return { remaining: true };
        // The tenant's own problem (a toolkit Composio refuses, …): an error in this run's
        // counts and its audit row (a due mark backs off), not a failed job in everyone's
        // health.
        const message = (err as Error).message;
        ctx.log.error("toolkit_sync_failed", {
          tenant_id: tenant,
          toolkit: body.toolkit,
          error: message,
        });
        ctx.count("errors");
        ctx.count("tenants_failed");
        if (!body.dry_run) {
          const failures = [{ toolkit: body.toolkit, error: message }];
          await writeAudit(
            sql,
            ctx.runId,
            tenant,
            [body.toolkit],
            { ...zeroCounts(), errors: 1 },
            body.warm ?? false,
            failures,
          );
          await sql`select internal.catalog_defer_due(${tenant}, ${`${body.toolkit}: ${message}`})`;
        }
        return { details: { tenant_id: tenant, toolkit: body.toolkit, error: message } };
      }
      reportCounts(ctx, counts);
      ctx.count("toolkits");
      if (!body.dry_run) {
        await writeAudit(sql, ctx.runId, tenant, [body.toolkit], counts, body.warm ?? false);
        await sql`select internal.trickle_schedule_add(${tenant}, ${body.toolkit})`;
        if (body.warm) {
          // A paused trickle-refresh stays paused: the pair waits for its window instead.
          const [queued] = await sql`
            select jobs.invoke('trickle-refresh', ${
            sql.json({ tenant_id: tenant, toolkit: body.toolkit, immediate: true })
          }) as request
             where not jobs.is_paused('trickle-refresh')`;
          if (queued) ctx.count("refresh_invoked");
        }
      }
      return { details: { tenant_id: tenant, toolkit: body.toolkit, ...counts } };
    }

    if (body.tenant_id && !body.mark_due) {
      const lease = await ctx.acquireLease(`tenant:${body.tenant_id}`, leaseTtl(ctx));
      if (!lease) {
        return { skipped: `tenant ${body.tenant_id} is being synced by another invocation` };
      }
      const outcome = await syncTenant(ctx, config, body.tenant_id);
      await lease.release();
      if (outcome === "out_of_budget") return { remaining: true };
      return {};
    }

    // Drain due tenants.
    const maxTenants = body.limit ?? Infinity;
    const tried = new Set<string>();
    let synced = 0;
    while (synced < maxTenants) {
      if (ctx.outOfTime()) return { remaining: true };
      const due = await sql<{ tenant_id: string }[]>`
        select tenant_id::text from internal.catalog_sync_due
         where due_at <= now() and (${body.tenant_id ?? null}::uuid is null
                                    or tenant_id = ${body.tenant_id ?? null}::uuid)
           and not (tenant_id::text = any (${sql.array([...tried])}::text[]))
         order by due_at
         limit ${dueBatch}`;
      if (due.length === 0) return {};
      for (const { tenant_id } of due) {
        tried.add(tenant_id);
        if (synced >= maxTenants) break;
        if (ctx.outOfTime()) return { remaining: true };
        const lease = await ctx.acquireLease(`tenant:${tenant_id}`, leaseTtl(ctx));
        if (!lease) {
          ctx.count("skipped_locked");
          continue;
        }
        const outcome = await syncTenant(ctx, config, tenant_id);
        await lease.release();
        if (outcome === "out_of_budget") return { remaining: true };
        synced++;
      }
    }
    // The limit ran out: more is due unless only tenants tried here (locked ones) remain.
    const [{ more }] = await sql`
      select exists (select 1 from internal.catalog_sync_due
                      where due_at <= now()
                        and not (tenant_id::text = any (${
      sql.array([...tried])
    }::text[]))) as more`;
    return { remaining: more };
  },
};

function leaseTtl(ctx: Ctx): number {
  return Math.max(ctx.timeLeft() + 30_000, 60_000);
}

function reportCounts(ctx: Ctx, counts: SyncCounts): void {
  for (const [k, v] of Object.entries(counts)) ctx.count(k, v);
}

/** Full sync of one tenant: every toolkit with an active connected account. */
async function syncTenant(
  ctx: Ctx,
  config: ComposioConfig,
  tenant: string,
): Promise<"synced" | "failed" | "out_of_budget"> {
  const { sql, body } = ctx;
  const log = ctx.log.with({ tenant_id: tenant });
  const [{ started }] = await sql`select clock_timestamp() as started`;
  const kits = await sql<{ toolkit: string }[]>`
    select distinct toolkit from public.connected_accounts
     where tenant_id = ${tenant} and status = 'active'
     order by toolkit`;
  const total = zeroCounts();
  const failures: { toolkit: string; error: string }[] = [];
  for (const { toolkit } of kits) {
    try {
      const counts = await syncToolkit(ctx, config, tenant, toolkit);
      addCounts(total, counts);
      ctx.count("toolkits");
      if (!body.dry_run) await sql`select internal.trickle_schedule_add(${tenant}, ${toolkit})`;
    } catch (err) {
      if (err instanceof OutOfBudget) {
        reportCounts(ctx, total);
        log.warn("tenant_sync_out_of_budget", { toolkit });
        return "out_of_budget";
      }
      const message = (err as Error).message;
      failures.push({ toolkit, error: message });
      total.errors++;
      log.error("toolkit_sync_failed", { toolkit, error: message });
    }
  }
  reportCounts(ctx, total);
  ctx.count("tenants");
  if (body.dry_run) return failures.length ? "failed" : "synced";
  await writeAudit(sql, ctx.runId, tenant, kits.map((k) => k.toolkit), total, false, failures);
  if (failures.length) {
    await sql`select internal.catalog_defer_due(${tenant}, ${
      failures.map((f) => `${f.toolkit}: ${f.error}`).join("; ")
    })`;
    ctx.count("tenants_failed");
    return "failed";
  }
  await sql`select internal.catalog_clear_due(${tenant}, ${started})`;
  log.info("tenant_synced", { ...total, toolkits: kits.length });
  return "synced";
}

/**
 * Fetches every page of one toolkit and upserts each page as one batch while the next page
 * is fetched; then deprecates the tenant's tools of that toolkit Composio no longer lists,
 * or lists as deprecated (is_deprecated). Throws OutOfBudget (nothing deprecated) when the
 * budget runs out mid-listing.
 */
export async function syncToolkit(
  ctx: Ctx,
  config: ComposioConfig,
  tenant: string,
  toolkit: string,
): Promise<SyncCounts> {
  const { sql, body } = ctx;
  const counts = zeroCounts();
  // Listed by Composio and live: what catalog_deprecate_missing keeps.
  const seen: string[] = [];
  let listedDeprecated = 0;
  let pending: Promise<void> = Promise.resolve();
  const deadline = Date.now() + ctx.timeLeft();
  const timing = { list_ms: 0, normalize_ms: 0, compare_ms: 0, upsert_ms: 0, deprecate_ms: 0 };
  let mark = performance.now();
  const lap = (k: keyof typeof timing) => {
    const now = performance.now();
    timing[k] += now - mark;
    mark = now;
  };
  // Sends the page's hashes first and the full definitions only of tools that differ, so
  // an unchanged catalog costs one small query per page and writes nothing.
  const upsert = async (tools: CatalogToolText[]) => {
    const t0 = performance.now();
    const changed = new Set(
      (await sql<{ slug: string }[]>`
        select slug from internal.catalog_changed_slugs(
          ${tenant}, ${sql.array(tools.map((t) => t.tool_slug))}::text[],
          ${sql.array(tools.map((t) => t.content_hash))}::text[]) as slug`).map((r) => r.slug),
    );
    counts.unchanged += tools.length - changed.size;
    const t1 = performance.now();
    timing.compare_ms += t1 - t0;
    if (changed.size > 0) {
      const batch = changed.size === tools.length
        ? tools
        : tools.filter((t) => changed.has(t.tool_slug));
      // The rows' JSON text, joined: sent as text, as a jsonb parameter would be encoded again.
      const json = `[${batch.map((t) => t.json).join(",")}]`;
      const [r] = await sql`
        select added, changed, unchanged, restored
          from internal.catalog_upsert(${tenant}, ${toolkit}, ${json}::text::jsonb)`;
      counts.added += r.added;
      counts.changed += r.changed;
      counts.unchanged += r.unchanged;
      counts.restored += r.restored;
    }
    timing.upsert_ms += performance.now() - t1;
  };
  const pages = listToolPages(config, {
    toolkit,
    limit: body.page_size ?? defaultPageSize,
    retry: {
      deadline,
      onRetry: (err, delay, attempt) =>
        ctx.log.warn("composio_retry", {
          tenant_id: tenant,
          toolkit,
          status: err.status,
          kind: err.kind,
          delay_ms: delay,
          attempt,
        }),
    },
  });
  // The next page's rows as text, or null after the last page. The listed page itself is
  // not kept past this function, so its parsed JSON can be collected while the page after
  // it is fetched and this one is upserted.
  const nextPage = async (): Promise<CatalogToolText[] | null> => {
    const listed = await pages.next();
    if (listed.done) return null;
    lap("list_ms");
    const page = listed.value;
    const tools: CatalogToolText[] = [];
    const slugs = new Set<string>();
    for (const t of page.tools) {
      if (t.toolkit.slug.toLowerCase() !== toolkit.toLowerCase() || slugs.has(t.slug)) {
        counts.errors++;
        ctx.log.warn("tool_skipped", {
          tenant_id: tenant,
          toolkit,
          tool: t.slug,
          reason: slugs.has(t.slug) ? "duplicate slug" : `toolkit ${t.toolkit.slug}`,
        });
        continue;
      }
      slugs.add(t.slug);
      if (t.is_deprecated) {
        // Deprecated by Composio: treated as vanished, so catalog_deprecate_missing marks it
        // and catalog_upsert restores it once Composio lists it live again.
        listedDeprecated++;
        continue;
      }
      seen.push(t.slug);
      tools.push(toCatalogToolText(t, page.version ?? t.version));
    }
    for (const e of page.errors) {
      counts.errors++;
      // Present but unreadable: not vanished, so never deprecated for it.
      if (e.slug) seen.push(e.slug);
      ctx.log.warn("tool_invalid", {
        tenant_id: tenant,
        toolkit,
        tool: e.slug,
        index: e.index,
        error: e.message,
      });
    }
    counts.fetched += tools.length;
    lap("normalize_ms");
    return tools;
  };
  try {
    for (let tools = await nextPage(); tools; tools = await nextPage()) {
      await pending;
      mark = performance.now();
      if (tools.length && !body.dry_run) pending = upsert(tools);
      if (ctx.outOfTime()) throw new OutOfBudget(`budget spent while listing ${toolkit}`);
    }
    await pending;
  } catch (err) {
    await pending.catch(() => {});
    await pages.return(undefined).catch(() => {});
    throw err;
  }
  if (!body.dry_run) {
    mark = performance.now();
    const [{ n }] = await sql`
      select internal.catalog_deprecate_missing(${tenant}, ${toolkit},
                                                ${sql.array(seen)}::text[]) as n`;
    counts.deprecated = n;
    lap("deprecate_ms");
  }
  ctx.log.info("toolkit_synced", {
    tenant_id: tenant,
    toolkit,
    ...counts,
    listed_deprecated: listedDeprecated,
    ...Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, Math.round(v)])),
  });
  return counts;
}

async function writeAudit(
  sql: Sql,
  runId: string,
  tenant: string,
  toolkits: string[],
  counts: SyncCounts,
  warm: boolean,
  failures: { toolkit: string; error: string }[] = [],
): Promise<void> {
  await sql`
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    values (${tenant}, 'job', ${`${slug}/${runId}`}, 'catalog_sync', ${
    sql.json({ run_id: Number(runId), toolkits, warm, ...counts, failures } as never)
  })`;
}

/** Due tenants and the catalog's size per tenant and state. */
registerMetrics(async (sql) => {
  const [due] = await sql`
    select count(*) filter (where due_at <= now())::float8 as due,
           count(*) filter (where attempts > 0)::float8 as failing
      from internal.catalog_sync_due`;
  const tools = await sql`
    select tenant_id::text as tenant,
           case when deprecated_at is null then 'current' else 'deprecated' end as state,
           count(*)::float8 as n
      from public.tool_catalog where is_current group by 1, 2`;
  return [
    {
      name: "catalog_sync_due_tenants",
      help: "Tenants marked due for a catalog sync and not yet synced.",
      type: "gauge",
      samples: [{ value: due.due }],
    },
    {
      name: "catalog_sync_failing_tenants",
      help: "Due tenants whose last catalog sync failed.",
      type: "gauge",
      samples: [{ value: due.failing }],
    },
    {
      name: "catalog_tools",
      help: "Current tool_catalog rows per tenant, by state (current or deprecated).",
      type: "gauge",
      samples: tools.map((r) => ({ labels: { tenant: r.tenant, state: r.state }, value: r.n })),
    },
  ];
});
