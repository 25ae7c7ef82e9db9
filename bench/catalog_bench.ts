// Catalog jobs on a generated 10,000-tool toolkit: catalog-sync's first sync, its no-change
// resync, and a drift-monitor scan, against the bench stack's Composio sandbox and database.
//
// Each run executes the job the way its Edge Function does (runJob with the job definition)
// in a fresh Deno process of its own, as the functions server runs each function in its own
// process; the child reports wall time, CPU time (user + system, process.cpuUsage) and peak
// resident memory (VmHWM) of that process. The sandbox runs in the bench process, so its
// CPU is not counted; Postgres' is not either (on hosted it is the database's, not the
// function's). Peak memory includes the process baseline (Deno, imports, postgres.js).
// Three tenants, each synced, resynced and scanned: medians of three.
import postgres from "postgres";
import type { BenchContext } from "./main.ts";
import { median } from "./machine.ts";

export const title = "Catalog jobs: 10,000-tool catalog";

const TOOLS = 10_000;
const RUNS = 3;
const toolkit = "benchkit";

interface Measured {
  wall_ms: number;
  cpu_ms: number;
  peak_mb: number;
  /** Resident memory just before the job started (runtime, modules, connection). */
  base_mb: number;
  /** catalog-sync's own breakdown (its toolkit_synced log line): list, normalize, upsert. */
  phases?: Record<string, number>;
  summary: { status: string; counts: Record<string, number>; error?: string };
}

type Scenario = "sync" | "drift";

/** Runs one job in a child process and returns what it measured. */
async function measure(
  env: Record<string, string>,
  scenario: Scenario,
  tenant: string,
): Promise<Measured> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--driver", scenario, tenant],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("BENCH "));
  if (!out.success || !line) {
    throw new Error(`driver ${scenario} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(line.slice(6));
}

export async function run(ctx: BenchContext): Promise<string> {
  const { env } = ctx;
  const { defaultPageSize } = await import("../supabase/functions/catalog-sync/sync.ts");
  const sql = postgres(env.STACK_POSTGRES_URL, { max: 2, onnotice: () => {} });
  try {
    const gen = await fetch(`${env.COMPOSIO_BASE_URL}/_sandbox/catalog/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ toolkit, count: TOOLS, seed: 42 }),
    });
    if (!gen.ok) throw new Error(`generate: ${gen.status} ${await gen.text()}`);
    await gen.body?.cancel();

    const rows: { first: Measured; resync: Measured; writes: number; drift: Measured }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const [{ id: tenant }] = await sql`
        insert into public.tenants (name) values (${`bench ${i}`}) returning id::text`;
      await sql`
        insert into public.connected_accounts (tenant_id, toolkit, status)
        values (${tenant}, ${toolkit}, 'active')`;
      const first = await measure(env, "sync", tenant);
      ctx.log(`first sync ${i + 1}: ${first.wall_ms} ms, ${first.summary.counts.added} added`);
      const versions = () =>
        sql`select id, xmin::text || ctid::text as v from public.tool_catalog
             where tenant_id = ${tenant} order by id`;
      const before = await versions();
      const resync = await measure(env, "sync", tenant);
      const after = await versions();
      const writes = after.filter((r, j) => r.v !== before[j]?.v).length +
        Math.abs(after.length - before.length);
      ctx.log(`resync ${i + 1}: ${resync.wall_ms} ms, ${writes} rows written`);
      ctx.log(
        `  phases first ${JSON.stringify(first.phases)} resync ${JSON.stringify(resync.phases)}`,
      );
      const drift = await measure(env, "drift", tenant);
      ctx.log(`drift ${i + 1}: ${drift.wall_ms} ms`);
      for (const m of [first, resync, drift]) {
        if (m.summary.status !== "succeeded") {
          throw new Error(`run ${i + 1}: ${JSON.stringify(m.summary)}`);
        }
      }
      rows.push({ first, resync, writes, drift });
    }

    const med = (pick: (r: (typeof rows)[number]) => number) => median(rows.map(pick));
    const fmt = (n: number) => n.toFixed(0);
    const line = (
      name: string,
      get: (r: (typeof rows)[number]) => Measured,
      target: string,
      extra: string,
    ) =>
      `| ${name} | ${fmt(med((r) => get(r).wall_ms))} | ${fmt(med((r) => get(r).cpu_ms))} | ${
        fmt(med((r) => get(r).peak_mb))
      } | ${fmt(med((r) => get(r).base_mb))} | ${extra} | ${target} |`;
    const c = rows[0];
    return [
      `${TOOLS.toLocaleString("en")} generated tools in one toolkit (sandbox seed 42); ` +
      `${RUNS} tenants, each: first sync, no-change resync, drift scan. Medians of ${RUNS}.`,
      "",
      "| run | wall ms | CPU ms | peak MB | MB at start | result | target |",
      "| --- | ---: | ---: | ---: | ---: | --- | --- |",
      line(
        "catalog-sync, first sync",
        (r) => r.first,
        "< 3 s wall",
        `${c.first.summary.counts.added} added`,
      ),
      line(
        "catalog-sync, no-change resync",
        (r) => r.resync,
        "< 1 s wall, 0 writes",
        `${c.resync.summary.counts.unchanged} unchanged, ` +
          `${Math.max(...rows.map((r) => r.writes))} rows written (max of ${RUNS}; xmin/ctid)`,
      ),
      line(
        "drift-monitor, scan",
        (r) => r.drift,
        "< 1 s wall",
        `${c.drift.summary.counts.breaking ?? 0} breaking, ` +
          `${c.drift.summary.counts.non_breaking ?? 0} non-breaking`,
      ),
      "",
      "Where catalog-sync's wall time goes (medians, ms; compare and upsert overlap the next " +
      "page's listing):",
      "",
      "| run | list | normalize + hash | compare hashes | upsert | deprecate |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      ...(["first", "resync"] as const).map((k) => {
        const p = (name: string) => fmt(med((r) => r[k].phases?.[name] ?? 0));
        return `| ${k === "first" ? "first sync" : "no-change resync"} | ${p("list_ms")} | ${
          p("normalize_ms")
        } | ${p("compare_ms")} | ${p("upsert_ms")} | ${p("deprecate_ms")} |`;
      }),
      "",
      `Peak memory target < 128 MB (hosted limit 256 MB): peak is the process's resident ` +
      `high-water mark, "MB at start" what the process held before the job ran (Deno, ` +
      `modules, one connection). CPU is the function process's (hosted limit 2 s). ` +
      `Pages of ${defaultPageSize} tools (catalog-sync's default). Resync/first wall ratio: ` +
      `${(med((r) => r.resync.wall_ms) / med((r) => r.first.wall_ms)).toFixed(2)}.`,
    ].join("\n");
  } finally {
    await sql.end();
  }
}

// ---------------------------------------------------------------------------------------
// Driver: one job run in this process, measured.
async function driver(scenario: Scenario, tenant: string): Promise<void> {
  const process = (await import("node:process")).default;
  const { runJob } = await import("../supabase/functions/_shared/job.ts");
  const { closeServiceDb, serviceDb } = await import("../supabase/functions/_shared/db.ts");
  const { setLogSink } = await import("../supabase/functions/_shared/log.ts");
  let phases: Record<string, number> | undefined;
  setLogSink((line) => {
    if (!line.includes('"toolkit_synced"')) return;
    const e = JSON.parse(line);
    phases = {
      list_ms: e.list_ms,
      normalize_ms: e.normalize_ms,
      compare_ms: e.compare_ms,
      upsert_ms: e.upsert_ms,
      deprecate_ms: e.deprecate_ms,
    };
  });
  const sql = serviceDb();
  await sql`select 1`; // connect before measuring, as a warm isolate would be
  const def = scenario === "sync"
    ? (await import("../supabase/functions/catalog-sync/sync.ts")).catalogSyncJob
    : (await import("../supabase/functions/drift-monitor/drift.ts")).driftMonitorJob;
  const baseMb = Deno.memoryUsage().rss / 2 ** 20;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // deno-lint-ignore no-explicit-any -- both job bodies accept {tenant_id, budget_ms}
  const summary = await runJob(def as any, { tenant_id: tenant, budget_ms: 60_000 }, { sql });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const status = await Deno.readTextFile("/proc/self/status").catch(() => "");
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  const peakMb = hwm ? Number(hwm[1]) / 1024 : Deno.memoryUsage().rss / 2 ** 20;
  await closeServiceDb();
  console.log(`BENCH ${
    JSON.stringify({
      wall_ms: Math.round(wall),
      cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
      peak_mb: Math.round(peakMb),
      base_mb: Math.round(baseMb),
      phases,
      summary,
    })
  }`);
}

if (import.meta.main && Deno.args[0] === "--driver") {
  await driver(Deno.args[1] as Scenario, Deno.args[2]);
}
