// Realtime: what publishing costs the drain, and how fast events reach listeners.
//
// 1. The drain with the outbox's publishing triggers on and off, side by side: each round
//    runs every mode, in rotating order, REALTIME_BENCH_JOBS (default 2000) envelopes over 20
//    tenants per run, one drain invocation each (drain_worker.ts, as outbox_bench); "off"
//    disables the three realtime_publish_* triggers on outbox for that run, a third mode
//    publishes without the local stack's NOTIFY trigger (hosted has none). Medians, ratios.
// 2. Commit → client: 100 supabase-js clients (defaults, protocol 2.0.0) in a process of their
//    own, each signed in and joined to one tenant's private outbox channel; single-row
//    envelope inserts, each its own commit: paced for the latency, then as fast as four
//    connections go for the throughput.
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import postgres from "postgres";
import type { BenchContext } from "./main.ts";
import { median, percentile, postgresCpuUs } from "./machine.ts";
import { makeTenants, runWorker } from "./outbox_bench.ts";

export const title = "Realtime: the drain's cost with publishing on, commit→client latency";

const PUBLISH_TRIGGERS = [
  "realtime_publish_insert",
  "realtime_publish_update",
  "realtime_publish_delete",
];
const SUBSCRIBERS = 100;
const PASSWORD = "bench-password";

type Mode = "publishing off" | "publishing on" | "on, without the stand-in's NOTIFY";
const MODES: Mode[] = ["publishing off", "publishing on", "on, without the stand-in's NOTIFY"];

/** Publishing on or off; `notify` off leaves out the local stack's delivery trigger too. */
async function setPublishing(admin: postgres.Sql, on: boolean, notify = true) {
  for (const t of PUBLISH_TRIGGERS) {
    await admin.unsafe(`alter table public.outbox ${on ? "enable" : "disable"} trigger ${t}`);
  }
  await admin.unsafe(
    `alter table realtime.messages ${notify ? "enable" : "disable"} trigger stack_notify_committed`,
  );
}

async function drainCost(ctx: BenchContext, sql: postgres.Sql, admin: postgres.Sql) {
  const { env } = ctx;
  const jobs = Number(Deno.env.get("REALTIME_BENCH_JOBS") ?? 2000);
  const rounds = Number(Deno.env.get("REALTIME_BENCH_ROUNDS") ?? 5);
  const pgDataDir = join(env.STACK_SERVER_DIR, "db", "data");
  const tenants = await makeTenants(sql, 20, 24);
  const topics = tenants.flatMap((t) => [`outbox:${t}`, `approvals:${t}`]);
  // Whatever else is due (the seed's envelopes) is drained first, so every run drains ours.
  await runWorker(env, { budget_ms: 60_000, limit: 1_000_000 });
  const idle = await runWorker(env, { tenant_id: tenants[0] });
  const runs = Object.fromEntries(MODES.map((m) => [m, []])) as unknown as Record<
    Mode,
    Array<Record<string, number>>
  >;
  for (let r = 0; r < rounds; r++) {
    // Each round starts with another mode.
    const order = MODES.map((_, i) => MODES[(i + r) % MODES.length]);
    for (const mode of order) {
      await setPublishing(admin, mode !== "publishing off", mode === "publishing on");
      await sql`
        insert into public.outbox (tenant_id, tool_slug, toolkit, arguments, connected_account_id,
                                   risk, read_only, trust_context)
        select t, 'GITHUB_CREATE_ISSUE', 'github',
               jsonb_build_object('owner', 'acme', 'repo', 'bench', 'title', 'job ' || g),
               'ca_' || t, 'medium', false, '{"score": 0.99}'
        from generate_series(1, ${jobs}) g,
             lateral (select (${tenants}::uuid[])[1 + g % 20] as t) x`;
      await admin`vacuum analyze public.outbox`;
      const [{ before }] = await sql`
        select count(*)::int as before from realtime.messages where topic = any (${topics})`;
      const pg0 = postgresCpuUs(pgDataDir);
      const started = performance.now();
      const summary = await runWorker(env, {
        budget_ms: 120_000,
        batch_size: 200,
        concurrency: 10,
        limit: 1_000_000,
      });
      const secs = (performance.now() - started) / 1000;
      const pgUs = postgresCpuUs(pgDataDir) - pg0;
      const [{ after }] = await sql`
        select count(*)::int as after from realtime.messages where topic = any (${topics})`;
      const done = (summary.counts as Record<string, number>).succeeded ?? 0;
      const per = (us: number) => us / Math.max(done, 1);
      const row = {
        jobsPerSec: done / secs,
        cpu: per(Number(summary.cpu_us) - Number(idle.cpu_us)),
        main: per(Number(summary.main_cpu_us) - Number(idle.main_cpu_us)),
        pg: per(pgUs),
        messages: after - before,
        done,
      };
      runs[mode].push(row);
      ctx.log(
        `round ${r + 1} ${mode}: ${done}/${jobs} in ${secs.toFixed(1)} s, cpu ${
          row.cpu.toFixed(0)
        } µs, postgres ${row.pg.toFixed(0)} µs, ${row.messages} messages`,
      );
      // Keep every run's table the same size; the cleanup publishes nothing.
      await setPublishing(admin, false);
      await sql`delete from public.outbox where tenant_id = any (${tenants}::uuid[])`;
      await admin`vacuum public.outbox`;
    }
  }
  await setPublishing(admin, true, true);
  const med = (mode: Mode, k: string) => median(runs[mode].map((x) => x[k]));
  const lines = [
    `${jobs} envelopes per run (GITHUB_CREATE_ISSUE, 20 tenants, concurrency_cap 24), one drain ` +
    `invocation each (batch_size 200, concurrency 10), ${rounds} rounds of every mode in ` +
    `rotating order; medians. "off" disables the realtime_publish_* triggers on outbox for the ` +
    `run. No one listens (the stand-in fetches nothing), so the figures are the database side: ` +
    `the triggers, realtime.send and, locally, the stand-in's NOTIFY trigger.`,
    "",
    "| mode | jobs/s | drain CPU per envelope | of it main thread | Postgres CPU per envelope | messages per run |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const mode of MODES) {
    lines.push(
      `| ${mode} | ${med(mode, "jobsPerSec").toFixed(0)} | ${med(mode, "cpu").toFixed(0)} µs | ${
        med(mode, "main").toFixed(0)
      } µs | ${med(mode, "pg").toFixed(0)} µs | ${med(mode, "messages").toFixed(0)} |`,
    );
  }
  const ratio = (mode: Mode, k: string) => (med(mode, k) / med("publishing off", k)).toFixed(2);
  const perRound = (mode: Mode) => runs[mode].map((x) => x.jobsPerSec.toFixed(0)).join(", ");
  lines.push(
    "",
    `Publishing on / off: jobs/s ${ratio("publishing on", "jobsPerSec")}, drain CPU ${
      ratio("publishing on", "cpu")
    }, Postgres CPU ${ratio("publishing on", "pg")}; without the stand-in's NOTIFY (what the ` +
      `hosted database does: hosted reads realtime.messages from the WAL): Postgres CPU ${
        ratio("on, without the stand-in's NOTIFY", "pg")
      }. jobs/s per round: ${MODES.map((m) => `${m} ${perRound(m)}`).join("; ")}.`,
    "",
  );
  return lines.join("\n");
}

/** Runs the subscriber driver below; resolves once its clients have all joined. */
function startSubscribers(env: Record<string, string>, email: string, topic: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      import.meta.filename!,
      "--subscribers",
      String(SUBSCRIBERS),
      env.SUPABASE_URL,
      env.SUPABASE_ANON_KEY,
      email,
      topic,
    ],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  async function nextLine(): Promise<string> {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error(`subscriber driver ended: ${buffered}`);
      buffered += value;
    }
  }
  const writer = child.stdin.getWriter();
  return {
    ready: nextLine().then((l) => {
      if (l !== "ready") throw new Error(`subscriber driver: ${l}`);
    }),
    /** Asks for the receive times recorded so far: envelope id → ms (one per client). */
    async collect(): Promise<Record<string, number[]>> {
      await writer.write(new TextEncoder().encode("collect\n"));
      return JSON.parse(await nextLine());
    },
    /** How many deliveries the clients have recorded so far. */
    async count(): Promise<number> {
      await writer.write(new TextEncoder().encode("count\n"));
      return Number(await nextLine());
    },
    async stop() {
      await writer.write(new TextEncoder().encode("stop\n"));
      await writer.close();
      await child.status;
    },
  };
}

const nowMs = () => performance.timeOrigin + performance.now();

async function latency(ctx: BenchContext, sql: postgres.Sql) {
  const [tenant] = await makeTenants(sql, 1, 1);
  const user = crypto.randomUUID();
  const email = `bench-${user}@example.com`;
  await sql`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                            email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
    values ('00000000-0000-0000-0000-000000000000', ${user}, 'authenticated', 'authenticated',
            ${email}, extensions.crypt(${PASSWORD}, extensions.gen_salt('bf', 4)), now(),
            '{"provider":"email"}', '{}')`;
  await sql`insert into public.tenant_members (tenant_id, user_id, role)
            values (${tenant}, ${user}, 'member')`;
  const subs = startSubscribers(ctx.env, email, `outbox:${tenant}`);
  await subs.ready;
  ctx.log(`${SUBSCRIBERS} subscribers joined`);

  const insert = (s: postgres.Sql) =>
    s`insert into public.outbox (tenant_id, tool_slug, toolkit, risk, read_only)
      values (${tenant}, 'GITHUB_LIST_ISSUES', 'github', 'low', true) returning id::text`;
  const committed = new Map<string, number>();

  // Paced: one commit every 25 ms.
  const PACED = 200;
  for (let i = 0; i < PACED; i++) {
    const [{ id }] = await insert(sql);
    committed.set(id, nowMs());
    await new Promise((r) => setTimeout(r, 25));
  }
  await new Promise((r) => setTimeout(r, 2000));
  const paced = await subs.collect();

  // Flat out: four connections, each commit its own statement.
  const BURST = Number(Deno.env.get("REALTIME_BENCH_BURST") ?? 2000);
  const burstIds = new Set<string>();
  const pool = postgres(ctx.env.STACK_POSTGRES_URL, { max: 4, onnotice: () => {} });
  const burstStart = nowMs();
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < BURST) {
      next++;
      const [{ id }] = await insert(pool);
      committed.set(id, nowMs());
      burstIds.add(id);
    }
  }));
  const burstCommitted = nowMs();
  await pool.end();
  // Until every client has every message (or a minute has passed).
  const expected = committed.size * SUBSCRIBERS;
  for (let i = 0; i < 120 && await subs.count() < expected; i++) {
    await new Promise((r) => setTimeout(r, 500));
  }
  const burst = await subs.collect();
  await subs.stop();
  await sql`delete from public.outbox where tenant_id = ${tenant}`;

  const stats = (recv: Record<string, number[]>, ids: Iterable<string>) => {
    const ms: number[] = [];
    let missing = 0;
    let last = 0;
    for (const id of ids) {
      const times = recv[id] ?? [];
      missing += SUBSCRIBERS - times.length;
      for (const t of times) {
        ms.push(t - committed.get(id)!);
        last = Math.max(last, t);
      }
    }
    const max = ms.reduce((a, x) => Math.max(a, x), 0);
    return { p50: median(ms), p95: percentile(ms, 95), max, missing, last };
  };
  const pacedIds = [...committed.keys()].filter((id) => !burstIds.has(id));
  const p = stats(paced, pacedIds);
  const b = stats(burst, burstIds);
  const secs = (b.last - burstStart) / 1000;
  return [
    `${SUBSCRIBERS} supabase-js clients (defaults, protocol 2.0.0) in one process, each signed ` +
    `in as a member and joined to the tenant's private outbox channel; one \`envelopes\` ` +
    `message per single-row insert, from the commit returning to the publisher to each ` +
    `client's callback (one machine, one clock).`,
    "",
    "| load | messages | deliveries | commit→client p50 | p95 | max | missed |",
    "|---|---:|---:|---:|---:|---:|---:|",
    `| paced, one commit every 25 ms | ${pacedIds.length} | ${pacedIds.length * SUBSCRIBERS} | ${
      p.p50.toFixed(1)
    } ms | ${p.p95.toFixed(1)} ms | ${p.max.toFixed(0)} ms | ${p.missing} |`,
    `| flat out, 4 connections | ${burstIds.size} | ${burstIds.size * SUBSCRIBERS} | ${
      b.p50.toFixed(0)
    } ms | ${b.p95.toFixed(0)} ms | ${b.max.toFixed(0)} ms | ${b.missing} |`,
    "",
    `Flat out: ${burstIds.size} commits in ${
      ((burstCommitted - burstStart) / 1000).toFixed(1)
    } s, ` +
    `all delivered ${secs.toFixed(1)} s after the first: ${
      (burstIds.size / secs).toFixed(0)
    } messages/s, ${((burstIds.size * SUBSCRIBERS) / secs).toFixed(0)} deliveries/s.`,
  ].join("\n");
}

export async function run(ctx: BenchContext): Promise<string> {
  const sql = postgres(ctx.env.STACK_POSTGRES_URL, { max: 4, onnotice: () => {} });
  const admin = postgres(ctx.env.STACK_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin`select jobs.pause('outbox-drain')`;
    const cost = await drainCost(ctx, sql, admin);
    const lat = await latency(ctx, sql);
    return `### The drain, publishing on and off\n\n${cost}\n### Commit → client\n\n${lat}\n`;
  } finally {
    await sql.end();
    await admin.end();
  }
}

// ---------------------------------------------------------------------------------------
// Driver: `n` supabase-js clients joined to `topic`; records when each `envelopes` message
// reaches each client. Prints "ready" once all have joined; answers "collect" with the
// receive times so far (envelope id → ms per client) and "count" with how many there are;
// exits on "stop".
async function subscriberDriver(
  n: number,
  url: string,
  anonKey: string,
  email: string,
  topic: string,
) {
  const { createClient } = await import("@supabase/supabase-js");
  const recv: Record<string, number[]> = {};
  const clients = await Promise.all(Array.from({ length: n }, async () => {
    const client = createClient(url, anonKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    });
    const { error } = await client.auth.signInWithPassword({ email, password: PASSWORD });
    if (error) throw new Error(`sign-in: ${error.message}`);
    await new Promise<void>((resolve, reject) => {
      client.channel(topic, { config: { private: true } })
        .on("broadcast", { event: "envelopes" }, (m) => {
          const at = nowMs();
          for (const e of (m.payload.envelopes ?? []) as Array<{ id: string }>) {
            (recv[e.id] ??= []).push(at);
          }
        })
        .subscribe((status, err) => {
          if (status === "SUBSCRIBED") resolve();
          else if (status !== "CLOSED") reject(new Error(`${status} ${err?.message ?? ""}`));
        }, 60_000);
    });
    return client;
  }));
  console.log("ready");
  const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buffered = "";
  for await (const chunk of input) {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const cmd = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (cmd === "collect") console.log(JSON.stringify(recv));
      if (cmd === "count") {
        console.log(Object.values(recv).reduce((sum, times) => sum + times.length, 0));
      }
      if (cmd === "stop") {
        await Promise.all(clients.map((c) => c.removeAllChannels()));
        Deno.exit(0);
      }
    }
  }
}

if (import.meta.main && Deno.args[0] === "--subscribers") {
  const [, n, url, anonKey, email, topic] = Deno.args;
  await subscriberDriver(Number(n), url, anonKey, email, topic);
}
