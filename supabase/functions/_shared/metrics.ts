// Metrics computed from database state, not in-memory counters: isolates are short-lived
// and many, so only the database knows the totals. Every job function serves them at
// `GET /<slug>/metrics` (service key) for Prometheus to scrape.
import type { Sql } from "./db.ts";
import type { Metric } from "./prometheus.ts";

export type MetricsSource = (sql: Sql) => Promise<Metric[]>;

/** Job health: runs by status, processed counts from history, failures, silence. */
export const jobMetrics: MetricsSource = async (sql) => {
  const runs = await sql`
    select job, status, count(*)::float8 as n from public.job_runs group by job, status`;
  const processed = await sql`
    select r.job, c.key, sum(c.value::numeric)::float8 as n
    from public.job_runs r, jsonb_each_text(r.counts) c
    where c.value ~ '^[0-9]+(\\.[0-9]+)?$'
    group by r.job, c.key`;
  const health = await sql`
    select job, consecutive_failures, invocation_errors, silent, failing,
           extract(epoch from last_run_at)::float8 as last_run,
           extract(epoch from last_success_at)::float8 as last_success
    from jobs.health`;
  return [
    {
      name: "job_runs_total",
      help: "Job invocations recorded in job_runs, by job and final status.",
      type: "counter",
      samples: runs.map((r) => ({ labels: { job: r.job, status: r.status }, value: r.n })),
    },
    {
      name: "job_processed_total",
      help: "Items processed by jobs, summed from the counts of every job_runs row.",
      type: "counter",
      samples: processed.map((r) => ({ labels: { job: r.job, count: r.key }, value: r.n })),
    },
    {
      name: "job_consecutive_failures",
      help: "Failed runs since the job last succeeded.",
      type: "gauge",
      samples: health.map((h) => ({ labels: { job: h.job }, value: h.consecutive_failures })),
    },
    {
      name: "job_invocation_errors",
      help: "pg_net invocations of the job that timed out or got an error status.",
      type: "gauge",
      samples: health.map((h) => ({ labels: { job: h.job }, value: h.invocation_errors })),
    },
    {
      name: "job_silent",
      help: "1 when the job has not run in twice its interval.",
      type: "gauge",
      samples: health.map((h) => ({ labels: { job: h.job }, value: h.silent ? 1 : 0 })),
    },
    {
      name: "job_failing",
      help: "1 when the job's latest runs or invocations failed.",
      type: "gauge",
      samples: health.map((h) => ({ labels: { job: h.job }, value: h.failing ? 1 : 0 })),
    },
    {
      name: "job_last_run_timestamp_seconds",
      help: "Start of the job's latest run (Unix time).",
      type: "gauge",
      samples: health.filter((h) => h.last_run !== null)
        .map((h) => ({ labels: { job: h.job }, value: h.last_run })),
    },
  ];
};

/** Queue depth and dead letters per tenant. */
export const outboxMetrics: MetricsSource = async (sql) => {
  const queue = await sql`
    select tenant_id::text as tenant, status, count(*)::float8 as n
    from public.outbox group by 1, 2`;
  const dlq = await sql`
    select tenant_id::text as tenant, count(*)::float8 as n from public.outbox_dlq group by 1`;
  return [
    {
      name: "outbox_queue_size",
      help: "Envelopes in the outbox by tenant and status.",
      type: "gauge",
      samples: queue.map((r) => ({ labels: { tenant: r.tenant, status: r.status }, value: r.n })),
    },
    {
      name: "outbox_dlq_size",
      help: "Envelopes in the dead-letter queue by tenant.",
      type: "gauge",
      samples: dlq.map((r) => ({ labels: { tenant: r.tenant }, value: r.n })),
    },
  ];
};

const sources: MetricsSource[] = [jobMetrics, outboxMetrics];

/** Lets a job add the metrics it owns (e.g. the outbox's processing histogram). */
export function registerMetrics(source: MetricsSource): void {
  if (!sources.includes(source)) sources.push(source);
}

export async function collectMetrics(sql: Sql): Promise<Metric[]> {
  return (await Promise.all(sources.map((s) => s(sql)))).flat();
}
