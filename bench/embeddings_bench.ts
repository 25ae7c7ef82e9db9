// embedding-reindexer and evidence search: reindexer throughput (sources/s) with the fast
// deterministic test embedder (hash-test) and with the offline model (USE-lite → 384), and
// HNSW search on clustered 384-d vectors over 100 tenants: top-10 p50/p95 latency and
// recall@10 against exact search, ef_search 40 and 100, with and without the tenant filter,
// naming the plan each used.
//
// EMBED_BENCH_VECTORS (default 100000) vectors, EMBED_BENCH_QUERIES (default 200) queries.
// Vectors: 1000 cluster centres (random unit vectors), each vector its centre plus Gaussian
// noise, normalised; tenants assigned at random, so every cluster mixes all 100 tenants and
// the tenant filter keeps ~1% of the rows anywhere in the space (the hard case for a
// filtered HNSW scan). Queries: a centre plus noise, for a random tenant.
import postgres from "postgres";
import {
  createEmbedder,
  type Embedder,
  hashTestEmbedder,
} from "../supabase/functions/_shared/embeddings.ts";
import { runJob } from "../supabase/functions/_shared/job.ts";
import { setLogSink } from "../supabase/functions/_shared/log.ts";
import { reindexJob } from "../supabase/functions/embedding-reindexer/reindex.ts";
import type { BenchContext } from "./main.ts";
import { median, percentile } from "./machine.ts";

export const title = "embedding-reindexer: reindex throughput and HNSW search over 100 tenants";

const dims = 384;
const model = "hash-test-v1";

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, gauss };
}

function unit(v: Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  return v.map((x) => x / n);
}

const pgVec = (v: Float64Array) => `[${Array.from(v, (x) => x.toFixed(5)).join(",")}]`;

const words = (
  "invoice payment refund ticket escalation login outage deploy release customer vendor " +
  "contract meeting schedule budget forecast revenue latency database backup incident report " +
  "review approval policy security certificate password account shipment delivery warehouse"
).split(" ");

async function reindexRate(
  sql: postgres.Sql,
  embedder: Embedder,
  rows: number,
  rounds: number,
): Promise<{ fresh: number; unchanged: number; steps: Record<string, number> }> {
  const fresh: number[] = [], unchanged: number[] = [];
  const steps: Record<string, number> = {};
  const rand = prng(7);
  for (let r = 0; r < rounds; r++) {
    const tenant = crypto.randomUUID();
    await sql`insert into public.tenants (id, name) values (${tenant}, 'bench reindex')`;
    // Audited writes may have queued an audit entry of the new tenant: only evidence counts.
    await sql`delete from internal.embedding_queue where tenant_id = ${tenant}`;
    const texts = Array.from(
      { length: rows },
      (_, i) =>
        `Row ${i}: ` +
        Array.from({ length: 30 }, () => words[Math.floor(rand.next() * words.length)]).join(" "),
    );
    await sql`insert into public.evidence (tenant_id, tool_slug, content, content_text)
              select ${tenant}, 'BENCH', '{}', t from unnest(${texts}::text[]) t`;
    const job = reindexJob(() => Promise.resolve(embedder));
    let t0 = performance.now();
    let s = await runJob(job, { tenant_id: tenant, chain: false, budget_ms: 120_000 }, { sql });
    if (s.counts.embedded !== rows) throw new Error(`embedded ${JSON.stringify(s.counts)}`);
    fresh.push(rows / ((performance.now() - t0) / 1000));
    for (const [k, v] of Object.entries(s.details?.step_ms as Record<string, number>)) {
      steps[k] = (steps[k] ?? 0) + v / rounds;
    }
    // Same text again (a touched row): claimed, hashed, skipped.
    await sql`update public.evidence set tool_slug = 'BENCH2' where tenant_id = ${tenant}`;
    t0 = performance.now();
    s = await runJob(job, { tenant_id: tenant, chain: false, budget_ms: 120_000 }, { sql });
    if (s.counts.unchanged !== rows) throw new Error(`unchanged ${JSON.stringify(s.counts)}`);
    unchanged.push(rows / ((performance.now() - t0) / 1000));
  }
  return { fresh: median(fresh), unchanged: median(unchanged), steps };
}

const stepText = (s: Record<string, number>) =>
  ["claim", "read", "embed", "store", "complete"].map((k) => (s[k] ?? 0).toFixed(0)).join(" / ");

export async function run(ctx: BenchContext): Promise<string> {
  const sql = postgres(ctx.env.STACK_POSTGRES_URL, { max: 4, onnotice: () => {} });
  const admin = postgres(ctx.env.STACK_ADMIN_URL, { max: 1, onnotice: () => {} });
  const restoreLog = setLogSink(() => {});
  const out: string[] = [];
  try {
    // The every-minute tick must not take the bench's rows.
    await admin`select jobs.pause('embedding-reindexer')`;

    // --- reindexer throughput --------------------------------------------------------
    ctx.log("reindexer throughput");
    const hashRows = 3000, offlineRows = 240, rounds = 3;
    const hash = await reindexRate(sql, hashTestEmbedder(), hashRows, rounds);
    const t0 = performance.now();
    const offline = await createEmbedder("offline");
    const loadMs = performance.now() - t0;
    const use = await reindexRate(sql, offline, offlineRows, rounds);
    out.push(
      "### Reindexer throughput",
      "",
      `Sources (evidence rows of ~35 words, one chunk each) per second through the whole job: claim, read, chunk, hash, embed, store (one statement per batch of 32), complete. Median of ${rounds} rounds, one invocation each, in-process against the direct connection. "Unchanged": the same rows touched again, so every chunk's hash matches and nothing is embedded.`,
      "",
      "| embedder | rows per round | new content, rows/s | unchanged, rows/s | new content: ms per step (claim / read+chunk+hash / embed / store / complete) |",
      "| --- | ---: | ---: | ---: | --- |",
      `| hash-test (feature hashing) | ${hashRows} | ${hash.fresh.toFixed(0)} | ${
        hash.unchanged.toFixed(0)
      } | ${stepText(hash.steps)} |`,
      `| offline (${offline.model}) | ${offlineRows} | ${use.fresh.toFixed(1)} | ${
        use.unchanged.toFixed(0)
      } | ${stepText(use.steps)} |`,
      "",
      `Offline model load: ${
        loadMs.toFixed(0)
      } ms (once per process). Ratio hash-test / offline on new content: ${
        (hash.fresh / use.fresh).toFixed(0)
      }×. With hash-test the store step dominates: the upsert's HNSW index maintenance (~2 ms per vector here); with the offline model, the model dominates.`,
      "",
    );

    // --- HNSW over 100 tenants -------------------------------------------------------
    const n = Number(Deno.env.get("EMBED_BENCH_VECTORS") ?? 100_000);
    const nq = Number(Deno.env.get("EMBED_BENCH_QUERIES") ?? 200);
    const nTenants = 100, nClusters = 1000, noise = 0.9 / Math.sqrt(dims);
    ctx.log(`generating ${n} vectors`);
    const rand = prng(42);
    const centres = Array.from(
      { length: nClusters },
      () => unit(Float64Array.from({ length: dims }, rand.gauss)),
    );
    const near = (c: Float64Array) => unit(c.map((x) => x + noise * rand.gauss()));
    const tenants = Array.from({ length: nTenants }, () => crypto.randomUUID());
    await sql`insert into public.tenants (id, name)
              select id, 'bench search' from unnest(${tenants}::uuid[]) id`;
    await sql`drop index if exists public.evidence_embeddings_hnsw_hash_test`;
    await sql`delete from public.evidence_embeddings where model = ${model}`;
    ctx.log("loading");
    const batch = 2000;
    for (let i = 0; i < n; i += batch) {
      const m = Math.min(batch, n - i);
      const tids: string[] = [], sids: string[] = [], vecs: string[] = [];
      for (let j = 0; j < m; j++) {
        tids.push(tenants[Math.floor(rand.next() * nTenants)]);
        sids.push(`bench-${i + j}`);
        vecs.push(pgVec(near(centres[Math.floor(rand.next() * nClusters)])));
      }
      await sql`
        insert into public.evidence_embeddings (tenant_id, source_type, source_id, model,
                                                content_hash, content, embedding)
        select t, 'evidence', s, ${model}, 'h', 'bench row', v::extensions.vector
        from unnest(${tids}::uuid[], ${sids}::text[], ${vecs}::text[]) as x (t, s, v)`;
    }
    ctx.log("building the HNSW index");
    const tb = performance.now();
    await sql.begin(async (tx) => {
      await tx`set local maintenance_work_mem = '1GB'`;
      await tx.unsafe(
        `create index evidence_embeddings_hnsw_hash_test on public.evidence_embeddings
         using hnsw (embedding extensions.vector_ip_ops) where model = '${model}'`,
      );
    });
    const buildS = (performance.now() - tb) / 1000;
    await sql`analyze public.evidence_embeddings`;

    const queries = Array.from({ length: nq }, () => ({
      vec: pgVec(near(centres[Math.floor(rand.next() * nClusters)])),
      tenant: tenants[Math.floor(rand.next() * nTenants)],
    }));

    const searchSql = (filter: string) => `
      with nearest as materialized (
        select e.id, e.embedding operator(extensions.<#>) $1::extensions.vector as distance
        from public.evidence_embeddings e
        where e.model = '${model}' ${filter}
        order by e.embedding operator(extensions.<#>) $1::extensions.vector
        limit 10)
      select id::text from nearest order by distance, id`;

    type Mode = {
      label: string;
      tenant: boolean;
      ef?: number;
      settings: string[];
      fn?: boolean;
    };
    const runMode = async (mode: Mode, q: { vec: string; tenant: string }) =>
      await sql.begin(async (tx) => {
        if (mode.tenant) {
          await tx`set local role authenticated`;
          await tx`select set_config('request.jwt.claims', ${
            JSON.stringify({ role: "authenticated", sub: crypto.randomUUID(), tenant_id: q.tenant })
          }, true)`;
        }
        // As search_evidence() does: JIT's compile time would dwarf the search (and the
        // enable_* = off used to force a plan inflate costs past jit_above_cost).
        await tx`set local jit = off`;
        for (const s of mode.settings) await tx.unsafe(`set local ${s}`);
        if (mode.ef) await tx.unsafe(`set local hnsw.ef_search = ${mode.ef}`);
        const text = mode.fn
          ? `select id::text from public.search_evidence($1::extensions.vector, '${model}', 10)`
          : searchSql("");
        const t = performance.now();
        const rows = await tx.unsafe(text, [q.vec]);
        const ms = performance.now() - t;
        let plan = "";
        if (!mode.fn) {
          const ex = await tx.unsafe(`explain (costs off) ${text}`, [q.vec]);
          plan = ex.map((r) => String(r["QUERY PLAN"]))
            .filter((l) => /Scan|Sort\b/.test(l) && !/Sort Key/.test(l))
            .map((l) => l.trim().replace(/^->\s*/, "").replace(/ on evidence_embeddings e$/, ""))
            .join(" → ");
        }
        return { ids: rows.map((r) => r.id as string), ms, plan };
      });

    // Exact answers: no index scans (HNSW needs one), so a sequential scan, or the tenant
    // btree as a bitmap scan, then a full sort.
    ctx.log("exact answers");
    const exact = { all: [] as string[][], tenant: [] as string[][] };
    const exactMs = { all: [] as number[], tenant: [] as number[] };
    for (const q of queries) {
      for (const tenant of [false, true]) {
        const r = await runMode({
          label: "exact",
          tenant,
          settings: ["enable_indexscan = off"],
        }, q);
        (tenant ? exact.tenant : exact.all).push(r.ids);
        (tenant ? exactMs.tenant : exactMs.all).push(r.ms);
      }
    }

    // Without these the planner takes the tenant btree and sorts (exact): see its row.
    const forceHnsw = ["enable_bitmapscan = off", "enable_sort = off"];
    const modes: Mode[] = [
      { label: "HNSW, no filter", tenant: false, ef: 40, settings: [] },
      { label: "HNSW, no filter", tenant: false, ef: 100, settings: [] },
      {
        label: "HNSW + tenant (RLS), iterative relaxed_order",
        tenant: true,
        ef: 40,
        settings: ["hnsw.iterative_scan = relaxed_order", ...forceHnsw],
      },
      {
        label: "HNSW + tenant (RLS), iterative relaxed_order",
        tenant: true,
        ef: 100,
        settings: ["hnsw.iterative_scan = relaxed_order", ...forceHnsw],
      },
      {
        label: "HNSW + tenant (RLS), iterative off",
        tenant: true,
        ef: 100,
        settings: forceHnsw,
      },
      {
        label: "planner's choice + tenant (RLS)",
        tenant: true,
        ef: 100,
        settings: ["hnsw.iterative_scan = relaxed_order"],
      },
      {
        label: "search_evidence() as a member (its SET: ef 100, relaxed_order)",
        tenant: true,
        settings: [],
        fn: true,
      },
    ];
    const table = [
      "| search | ef_search | p50 ms | p95 ms | recall@10 | rows returned (mean) | plan |",
      "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
      `| exact, no filter | – | ${median(exactMs.all).toFixed(2)} | ${
        percentile(exactMs.all, 95).toFixed(2)
      } | 1 | 10 | sequential scan + sort |`,
      `| exact, tenant (RLS) | – | ${median(exactMs.tenant).toFixed(2)} | ${
        percentile(exactMs.tenant, 95).toFixed(2)
      } | 1 | 10 | bitmap scan of the tenant btree + sort |`,
    ];
    for (const mode of modes) {
      ctx.log(`${mode.label} ef ${mode.ef ?? "fn"}`);
      // Warm-up pass (index pages into shared buffers), then the measured pass.
      for (const q of queries.slice(0, 20)) await runMode(mode, q);
      const ms: number[] = [];
      let hits = 0, returned = 0, plan = "";
      for (let i = 0; i < queries.length; i++) {
        const r = await runMode(mode, queries[i]);
        ms.push(r.ms);
        plan ||= r.plan;
        const truth = new Set((mode.tenant ? exact.tenant : exact.all)[i]);
        hits += r.ids.filter((id) => truth.has(id)).length;
        returned += r.ids.length;
      }
      table.push(
        `| ${mode.label} | ${mode.ef ?? 100} | ${median(ms).toFixed(2)} | ${
          percentile(ms, 95).toFixed(2)
        } | ${(hits / (10 * queries.length)).toFixed(3)} | ${
          (returned / queries.length).toFixed(1)
        } | ${plan || "(inside the function)"} |`,
      );
    }
    const [{ size }] = await sql`
      select pg_size_pretty(pg_relation_size('public.evidence_embeddings_hnsw_hash_test')) as size`;
    out.push(
      `### HNSW search: ${n} × ${dims} clustered vectors, ${nTenants} tenants`,
      "",
      `${nClusters} clusters (noise σ = ${
        noise.toFixed(3)
      } per dimension), tenants at random (each ~${
        Math.round(n / nTenants)
      } rows spread over all clusters, so the tenant filter keeps ~1% of the rows around any query). ${queries.length} queries, each near a random centre for a random tenant; latency is the search statement alone, client-side, on the direct connection after 20 warm-up queries; recall@10 is against the exact answer with the same filter. Index: m = 16, ef_construction = 64 (defaults), built after loading in ${
        buildS.toFixed(1)
      } s with maintenance_work_mem 1 GB, ${size}. "Tenant (RLS)" runs as \`authenticated\` with the tenant's claims, as search_evidence() callers do; the HNSW + tenant rows force the HNSW scan (bitmap scans and sorts off) to measure it; "planner's choice" leaves the plan to Postgres.`,
      "",
      ...table,
      "",
      "",
      "With ~1% of the rows per tenant the planner reads the tenant's rows through its btree and sorts them exactly (recall 1); search_evidence() gets the same plan. Forced onto the HNSW index at that selectivity, the iterative scan has to pass ~100 candidates per row kept and stops at hnsw.max_scan_tuples (20 000) before it has the tenant's true top 10; without iterative scan it returns ~1 row instead of 10. The iterative HNSW plan is left for tenants holding a large share of the rows, where the planner estimates the btree path as dearer (not measured here).",
      "",
      "Target: p95 < 10 ms at recall@10 ≥ 0.95 with the tenant filter. Anchor: Supabase publishes 100k × 384 at recall 0.99, p95 24 ms on its smallest compute.",
    );
    await sql`delete from public.evidence_embeddings where model = ${model}`;
    return out.join("\n");
  } finally {
    setLogSink(restoreLog);
    await admin`select jobs.resume('embedding-reindexer')`.catch(() => {});
    await admin.end();
    await sql.end();
  }
}
