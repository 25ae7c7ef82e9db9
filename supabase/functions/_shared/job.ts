// The runner every job function uses: service-key auth, a validated body, a job_runs row
// from start to end, a time budget the job checks between batches, lease rows for
// exclusion across invocations, one JSON summary, and a re-invocation through jobs.invoke
// when due work remains — so long work is drained now, not left for tomorrow's tick.
import { z } from "zod";
import { type AppContext, type AppEnv, parseJsonBody } from "./app.ts";
import { serviceDb, type Sql } from "./db.ts";
import type { Hono } from "hono";
import { createLogger, type Logger } from "./log.ts";
import { serviceCaller } from "./middleware/caller.ts";
import { collectMetrics } from "./metrics.ts";
import { renderPrometheus } from "./prometheus.ts";
import { requireTenant } from "./tenant.ts";

/** Hosted wall clock is 150 s (free) to 400 s (paid); budgets stay well inside it. */
export const maxBudgetMs = 120_000;
/** How many times a job may chain itself before waiting for its next tick. */
export const maxChainDepth = 20;

/** Fields every job body accepts. Jobs extend it with their own. */
export const jobBodyFields = {
  // Any 8-4-4-4-12 hex id, as Postgres accepts (z.uuid() insists on RFC 9562 versions and
  // would reject ids such as the seeded 00000000-0000-0000-0000-00000000000a).
  tenant_id: z.guid().optional(),
  limit: z.number().int().positive().max(1_000_000).optional(),
  dry_run: z.boolean().optional(),
  budget_ms: z.number().int().min(100).max(maxBudgetMs).optional(),
  /** false: never re-invoke, even when work remains. */
  chain: z.boolean().optional(),
  /** Set by the runner on re-invocations. */
  depth: z.number().int().min(0).max(maxChainDepth).optional(),
};
export const jobBody = z.strictObject(jobBodyFields);
export type JobBody = z.infer<typeof jobBody>;

export interface Lease {
  key: string;
  release(): Promise<void>;
}

export interface JobContext<B extends JobBody> {
  sql: Sql;
  body: B;
  runId: string;
  log: Logger;
  /** Milliseconds left in the budget. */
  timeLeft(): number;
  outOfTime(): boolean;
  /** Adds to a named count reported in job_runs and the summary. */
  count(name: string, n?: number): void;
  /** Takes the lease (job, key) for ttlMs, or null when another invocation holds it. */
  acquireLease(key: string, ttlMs: number): Promise<Lease | null>;
}

export interface JobResult {
  /** Due work remains (the budget or the limit ran out). */
  remaining?: boolean;
  /** Nothing was done, with why (e.g. another invocation holds the lease). */
  skipped?: string;
  details?: Record<string, unknown>;
}

export interface JobDefinition<S extends z.ZodType<JobBody>> {
  slug: string;
  schema: S;
  defaultBudgetMs: number;
  run(ctx: JobContext<z.infer<S>>): Promise<JobResult>;
}

export interface JobSummary {
  job: string;
  run_id: string;
  status: "succeeded" | "partial" | "skipped" | "failed";
  counts: Record<string, number>;
  remaining: boolean;
  reinvoked: boolean;
  duration_ms: number;
  skipped?: string;
  error?: string;
  details?: Record<string, unknown>;
}

/** Runs one invocation of a job and records it; never throws for a failure of the job. */
export async function runJob<S extends z.ZodType<JobBody>>(
  def: JobDefinition<S>,
  body: z.infer<S>,
  opts: { sql?: Sql; requestId?: string } = {},
): Promise<JobSummary> {
  const sql = opts.sql ?? serviceDb();
  const started = Date.now();
  const budget = body.budget_ms ?? def.defaultBudgetMs;
  const deadline = started + budget;
  const [{ id }] = await sql`
    insert into public.job_runs (job, tenant_id, status, invocation)
    values (${def.slug}, ${body.tenant_id ?? null}, 'running',
            ${
    sql.json({
      request_id: opts.requestId ?? null,
      budget_ms: budget,
      depth: body.depth ?? 0,
      dry_run: body.dry_run ?? false,
    })
  })
    returning id::text`;
  const runId = id as string;
  const log = createLogger({ job: def.slug, run_id: runId, tenant_id: body.tenant_id });
  const counts: Record<string, number> = {};
  const leases: Lease[] = [];

  const ctx: JobContext<z.infer<S>> = {
    sql,
    body,
    runId,
    log,
    timeLeft: () => Math.max(0, deadline - Date.now()),
    outOfTime: () => Date.now() >= deadline,
    count: (name, n = 1) => {
      counts[name] = (counts[name] ?? 0) + n;
    },
    acquireLease: async (key, ttlMs) => {
      const [row] = await sql`
        select internal.lease_acquire(${def.slug}, ${key}, ${runId}, ${ttlMs}) as ok`;
      if (!row?.ok) return null;
      const lease: Lease = {
        key,
        release: async () => {
          await sql`select internal.lease_release(${def.slug}, ${key}, ${runId})`;
        },
      };
      leases.push(lease);
      return lease;
    },
  };

  log.info("job_started", { budget_ms: budget, depth: body.depth ?? 0 });
  let summary: JobSummary;
  try {
    const result = await def.run(ctx);
    const remaining = Boolean(result.remaining);
    const status = result.skipped ? "skipped" : remaining ? "partial" : "succeeded";
    summary = {
      job: def.slug,
      run_id: runId,
      status,
      counts,
      remaining,
      reinvoked: false,
      duration_ms: 0,
      ...(result.skipped ? { skipped: result.skipped } : {}),
      ...(result.details ? { details: result.details } : {}),
    };
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    log.error("job_failed", { error: err });
    summary = {
      job: def.slug,
      run_id: runId,
      status: "failed",
      counts,
      remaining: false,
      reinvoked: false,
      duration_ms: 0,
      error: message,
    };
  } finally {
    await Promise.allSettled(leases.map((l) => l.release()));
  }

  summary.duration_ms = Date.now() - started;
  await sql`
    update public.job_runs
    set finished_at = now(), status = ${summary.status}, counts = ${sql.json(counts)},
        error = ${summary.error ?? null}
    where id = ${runId}`;

  const depth = body.depth ?? 0;
  if (summary.remaining && body.chain !== false && !body.dry_run && depth < maxChainDepth) {
    // Queued through pg_net, sent after this statement commits. A paused job stops chaining
    // too, so pausing really stops it; without Vault secrets nothing is sent (request NULL).
    const [queued] = await sql`
      select jobs.invoke(${def.slug}, ${sql.json({ ...body, depth: depth + 1 })}) as request
      where not jobs.is_paused(${def.slug})`;
    summary.reinvoked = queued?.request != null;
  }
  log.info("job_finished", {
    status: summary.status,
    counts,
    duration_ms: summary.duration_ms,
    reinvoked: summary.reinvoked,
  });
  return summary;
}

/**
 * Mounts `POST /<slug>` (service key, validated body) running the job, and
 * `GET /<slug>/metrics` (service key) in Prometheus text format.
 */
export function mountJob<S extends z.ZodType<JobBody>>(app: Hono<AppEnv>, def: JobDefinition<S>) {
  app.get("/metrics", serviceCaller(), async (c: AppContext) => {
    const text = renderPrometheus(await collectMetrics(serviceDb()));
    return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });
  app.post("/", serviceCaller(), async (c: AppContext) => {
    const body = await parseJsonBody(c, def.schema);
    await requireTenant(serviceDb(), body.tenant_id);
    const summary = await runJob(def, body, { requestId: c.get("requestId") });
    return c.json(summary, summary.status === "failed" ? 500 : 200);
  });
}
