// audit_log insert throughput with the per-tenant hash chain: N connections (direct, as
// postgres) each inserting multi-row batches to random tenants out of 100 for a fixed time;
// the same against a copy of the table without triggers (the ratio is the chain's price);
// then every connection on one tenant (all inserts queue on one chain head). Runs are
// interleaved, 3 of each; medians. pg_cron jobs are paused meanwhile so scheduled work does
// not share the CPU. Batches are sorted by tenant, as multi-tenant writers should do: chain
// heads are then locked in one order and concurrent batches cannot deadlock.
//
// AUDIT_BENCH_SECONDS (default 5) per run, AUDIT_BENCH_CONNECTIONS (default 12),
// AUDIT_BENCH_BATCH (default 100 rows).
import postgres from "postgres";
import type { BenchContext } from "./main.ts";
import { median } from "./machine.ts";

export const title = "audit_log: chained insert throughput";

const seconds = Number(Deno.env.get("AUDIT_BENCH_SECONDS") ?? 5);
const connections = Number(Deno.env.get("AUDIT_BENCH_CONNECTIONS") ?? 12);
const batch = Number(Deno.env.get("AUDIT_BENCH_BATCH") ?? 100);

type Target = "public.audit_log" | "bench_audit.plain";

/** Inserts for `seconds` from `connections` clients; returns rows per second. */
async function measure(
  url: string,
  target: Target,
  tenants: string[],
  mixed = false,
): Promise<number> {
  const clients = Array.from(
    { length: connections },
    () => postgres(url, { max: 1, onnotice: () => {}, prepare: true }),
  );
  try {
    await Promise.all(clients.map((c) => c`select 1`));
    const stopAt = performance.now() + seconds * 1000;
    const started = performance.now();
    const counts = await Promise.all(clients.map(async (sql, w) => {
      let n = 0;
      while (performance.now() < stopAt) {
        const pick = () => tenants[Math.floor(Math.random() * tenants.length)];
        const one = pick();
        const ids = Array.from({ length: batch }, () => mixed ? pick() : one).sort();
        const payloads = ids.map((_, i) => JSON.stringify({ worker: w, i, outcome: "succeeded" }));
        await sql.unsafe(
          `insert into ${target} (tenant_id, actor_type, actor_id, category, payload)
           select t, 'job', 'bench', 'bench_insert', p::jsonb
             from unnest($1::uuid[], $2::text[]) with ordinality as u (t, p, o) order by o`,
          [ids, payloads],
        );
        n += batch;
      }
      return n;
    }));
    const elapsed = (performance.now() - started) / 1000;
    return counts.reduce((a, b) => a + b, 0) / elapsed;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

export async function run(ctx: BenchContext): Promise<string> {
  const url = ctx.env.STACK_POSTGRES_URL;
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const paused: number[] = [];
  try {
    // cron.alter_job: postgres may only read cron.job, as on hosted.
    for (const r of await sql`select jobid from cron.job where active`) {
      await sql`select cron.alter_job(${r.jobid}::bigint, active := false)`;
      paused.push(Number(r.jobid));
    }
    await sql.unsafe(`
      drop schema if exists bench_audit cascade;
      create schema bench_audit;
      create table bench_audit.plain (
        id bigint generated always as identity primary key,
        tenant_id uuid, actor_type text not null, actor_id text, category text not null,
        envelope_id uuid, payload jsonb not null default '{}',
        created_at timestamptz not null default now(),
        seq bigint, prev_hash text, hash text
      );
      create index on bench_audit.plain (tenant_id, created_at desc);
      create index on bench_audit.plain (envelope_id) where envelope_id is not null;
      create unique index on bench_audit.plain (tenant_id, id);`);
    // Real tenants: the embedding queue follows audit rows to their tenant.
    const made = await sql`insert into public.tenants (name)
                           select 'audit bench ' || i from generate_series(1, 101) i
                           returning id`;
    const tenants = made.slice(0, 100).map((r) => r.id as string);
    const one = [made[100].id as string];

    const workloads: Array<{ name: string; target: Target; tenants: string[]; mixed: boolean }> = [
      {
        name: "public.audit_log (hash chain), 100 tenants, each batch one tenant",
        target: "public.audit_log",
        tenants,
        mixed: false,
      },
      {
        name: "same columns, no triggers, 100 tenants, each batch one tenant",
        target: "bench_audit.plain",
        tenants,
        mixed: false,
      },
      {
        name: "public.audit_log, 100 tenants, each batch mixed (sorted by tenant)",
        target: "public.audit_log",
        tenants,
        mixed: true,
      },
      {
        name: "public.audit_log, one tenant (one chain head)",
        target: "public.audit_log",
        tenants: one,
        mixed: false,
      },
    ];
    const results = workloads.map(() => [] as number[]);
    // Warm-up (chain heads created, caches filled), not counted.
    await measure(url, "public.audit_log", tenants);
    for (let i = 0; i < 3; i++) {
      for (const [k, w] of workloads.entries()) {
        results[k].push(await measure(url, w.target, w.tenants, w.mixed));
        ctx.log(`${w.name}, run ${i + 1}: ${results[k][i].toFixed(0)} rows/s`);
      }
    }

    // Every chain the bench wrote still verifies.
    const [{ bad }] = await sql`
      select count(*)::int as bad
        from unnest(${[...tenants, ...one]}::uuid[]) t
        cross join lateral internal.audit_log_verify(t) v
       where not v.valid`;
    const [{ rows }] = await sql`
      select count(*)::int as rows from public.audit_log where category = 'bench_insert'`;
    const [{ triggers }] = await sql`
      select string_agg(tgname, ', ' order by tgname) as triggers from pg_trigger
       where tgrelid = 'public.audit_log'::regclass and not tgisinternal`;

    const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
    const med = results.map(median);
    const rowsMd = workloads.map((w, k) =>
      `| ${w.name} | ${fmt(med[k])} | ${results[k].map(fmt).join(" / ")} | ${
        (med[k] / med[1]).toFixed(2)
      } |`
    ).join("\n");
    return `
${connections} connections (direct, as postgres), multi-row inserts of ${batch} rows, ${seconds} s
per run, workloads interleaved, median of 3 runs (after one warm-up run). pg_cron paused.

| workload | rows/s (median) | runs | vs. no triggers |
| --- | ---: | --- | ---: |
${rowsMd}

- Target 10,000 inserts/s across 100 tenants: **${med[0] >= 10000 ? "met" : "NOT met"}**
  (${fmt(med[0])}/s with a tenant per batch).
- After the runs, ${bad === 0 ? "every chain" : `${bad} of ${tenants.length + 1} chains`} written
  verified ${bad === 0 ? "valid" : "INVALID"} (\`internal.audit_log_verify\`), ${
      fmt(rows)
    } bench rows.
- Triggers on public.audit_log during the runs: ${triggers}. The embedding-queue statement
  trigger comes with the embeddings migration; it is part of what an insert costs here.
- Mixed batches take up to ${batch} chain heads each and hold them until commit, so
  concurrent mixed batches mostly wait for one another; one tenant: every insert of every
  connection waits for that tenant's head.
`;
  } finally {
    await sql.unsafe("drop schema if exists bench_audit cascade").catch(() => {});
    if (paused.length > 0) {
      for (const job of paused) await sql`select cron.alter_job(${job}::bigint, active := true)`;
    }
    await sql.end();
  }
}
