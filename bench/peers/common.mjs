// Shared by the peer workers (graphile.mjs, pgboss.mjs): the job each peer runs — the same
// Composio execute call the outbox drain makes — and the summary every worker prints.
// Run with Node ≥ 22 from .stack/tools/peers (installed by bench/outbox_peers_bench.ts).
import { readdirSync, readFileSync } from "node:fs";

/** The options a worker gets as its only argument (JSON). */
export function options() {
  const o = JSON.parse(process.argv[2] ?? "{}");
  for (const k of ["url", "baseUrl", "apiKey", "jobs", "concurrency"]) {
    if (o[k] === undefined) throw new Error(`missing option ${k}`);
  }
  return { slug: "GITHUB_CREATE_ISSUE", budgetMs: 60_000, tuned: false, ...o };
}

const body = "x".repeat(900);

/** The job payload: ~1 KB of tool arguments and the enqueue time. */
export function payload(i, enqueuedAt) {
  return {
    t: enqueuedAt,
    arguments: { owner: "acme", repo: "bench", title: `job ${i}`, body },
  };
}

/** One execute call, as composio.ts makes it; throws unless the sandbox answers successfully. */
export async function execute(o, slug, envelopeId, args) {
  const res = await fetch(`${o.baseUrl}/api/v3.1/tools/execute/${encodeURIComponent(slug)}`, {
    method: "POST",
    headers: {
      "x-api-key": o.apiKey,
      accept: "application/json",
      "content-type": "application/json",
      "x-envelope-id": envelopeId,
    },
    body: JSON.stringify({ arguments: args, version: "20250909_00" }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`execute ${res.status}`);
  const data = JSON.parse(text);
  if (data?.successful === false) throw new Error("execute: successful false");
}

/** Counts handler starts/ends; resolves `finished` when `jobs` handlers succeeded. */
export function tracker(jobs) {
  const latencies = [];
  let done = 0;
  let errors = 0;
  let resolve;
  const finished = new Promise((r) => (resolve = r));
  return {
    finished,
    latencies,
    get done() {
      return done;
    },
    get errors() {
      return errors;
    },
    async run(o, slug, id, p) {
      latencies.push(Date.now() - p.t);
      try {
        await execute(o, slug, id, p.arguments);
      } catch (err) {
        errors++;
        throw err;
      }
      if (++done === jobs) resolve();
    },
  };
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? null;
}

/**
 * Postgres' CPU so far in µs (as bench/machine.ts postgresCpuUs): the postmaster with its
 * exited children, plus every live child. Null without o.pgDataDir.
 */
function postgresCpuUs(o) {
  if (!o.pgDataDir) return null;
  const stat = (pid) => {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ").map(Number);
  };
  const pm = Number(readFileSync(`${o.pgDataDir}/postmaster.pid`, "utf8").split("\n")[0]);
  const f = stat(pm);
  let ticks = f[11] + f[12] + f[13] + f[14];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const c = stat(name);
      if (c[1] === pm) ticks += c[11] + c[12];
    } catch {
      // exited meanwhile
    }
  }
  return ticks * 10_000;
}

/** CPU time of this process's main thread in µs (Linux schedstat). */
function mainThreadCpuUs() {
  const ns = readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0];
  return Number(ns) / 1000;
}

/** Call just before the worker starts: enqueueing and migrations are not measured. */
export function started(o) {
  return {
    cpu: process.cpuUsage(),
    main: mainThreadCpuUs(),
    t0: performance.now(),
    pg: postgresCpuUs(o),
  };
}

/** Waits until every job is done or the budget is spent; returns the measured figures. */
export async function measure(o, t, start) {
  let timer;
  const budget = new Promise((r) => (timer = setTimeout(r, o.budgetMs)));
  await Promise.race([t.finished, budget]);
  clearTimeout(timer);
  const secs = (performance.now() - start.t0) / 1000;
  const cpu = process.cpuUsage(start.cpu);
  const pg = postgresCpuUs(o);
  return {
    done: t.done,
    errors: t.errors,
    secs,
    cpu_us: cpu.user + cpu.system,
    main_cpu_us: mainThreadCpuUs() - start.main,
    pg_cpu_us: pg === null ? null : pg - start.pg,
    start_p50_ms: percentile(t.latencies, 50),
    start_p95_ms: percentile(t.latencies, 95),
    timed_out: t.done < o.jobs,
  };
}
