// audit-export: what one export costs for N chains (tenants): the job's wall time (snapshot,
// canonical JSON and hash, the PUT to the stack's audit sink, the record), the snapshot
// statement alone, the rows it reads per table (pg_stat_user_tables deltas), the export's
// size; and what the verifier costs over the same database and exports. The first export
// of a chain searches its young row from the chain's start; later ones resume at the mark
// (the steady state, median of the runs).
//
// AUDIT_EXPORT_BENCH_TENANTS (default 100,1000,10000) chains, each with
// AUDIT_EXPORT_BENCH_ROWS (default 5) rows; AUDIT_EXPORT_BENCH_RUNS (default 5) exports each.
import postgres from "postgres";
import type { BenchContext } from "./main.ts";
import { machineDescription, median } from "./machine.ts";
import { auditSinkToken } from "../stack/keys.ts";
import type { Sql } from "../supabase/functions/_shared/db.ts";
import { runJob } from "../supabase/functions/_shared/job.ts";
import { setLogSink } from "../supabase/functions/_shared/log.ts";
import { exportJob } from "../supabase/functions/audit-export/export.ts";
import { verifyNow } from "../supabase/functions/audit-export/routes.ts";
import { HttpSink } from "../supabase/functions/audit-export/sink.ts";

export const title = "audit-export: export and verify cost per number of chains";

const levels = (Deno.env.get("AUDIT_EXPORT_BENCH_TENANTS") ?? "100,1000,10000")
  .split(",").map(Number);
const rowsPerChain = Number(Deno.env.get("AUDIT_EXPORT_BENCH_ROWS") ?? 5);
const runs = Number(Deno.env.get("AUDIT_EXPORT_BENCH_RUNS") ?? 5);

const tables = [
  "public.audit_log",
  "internal.audit_chain_heads",
  "internal.audit_chain_anchors",
  "internal.audit_export_marks",
];

/**
 * Heap tuples this backend has read per table and not yet reported: sequentially, and
 * fetched through any of its indexes (what pg_stat_user_tables' seq_tup_read and
 * idx_tup_fetch count). Differences within one transaction are that transaction's reads.
 */
async function tupleReads(tx: postgres.TransactionSql): Promise<Map<string, number>> {
  const rows = await tx`
    select n.nspname || '.' || c.relname as t,
           (pg_stat_get_xact_tuples_returned(c.oid) + pg_stat_get_xact_tuples_fetched(c.oid)
            + coalesce((select sum(pg_stat_get_xact_tuples_fetched(i.indexrelid))
                          from pg_index i where i.indrelid = c.oid), 0))::float8 as n
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.oid = any(${tables}::regclass[])`;
  return new Map(rows.map((r) => [r.t as string, r.n as number]));
}

export async function run(ctx: BenchContext): Promise<string> {
  const sql = postgres(ctx.env.STACK_POSTGRES_URL, { max: 2, onnotice: () => {} });
  const sink = new HttpSink(`${ctx.env.STACK_AUDIT_SINK_URL}/exports`, auditSinkToken);
  const job = exportJob(() => sink, { horizonSeconds: 3600 });
  const restoreLog = setLogSink(() => {});
  const lines: string[] = [];
  let chains = 0;
  let bytesPerChain = 0;
  try {
    for (const target of levels) {
      // Grow the database to `target` chains of rowsPerChain rows, 1,000 chains a statement.
      while (chains < target) {
        const n = Math.min(1000, target - chains);
        await sql`
          insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
          select t, 'job', 'bench', 'bench_export', jsonb_build_object('i', i)
            from (select gen_random_uuid() as t from generate_series(1, ${n})) c
            cross join generate_series(1, ${rowsPerChain}) i
           order by t, i`;
        chains += n;
      }
      const [{ total }] = await sql`select count(*)::float8 as total from public.audit_log`;
      const [{ heads }] =
        await sql`select count(*)::float8 as heads from internal.audit_chain_heads`;

      const exportOnce = async () => {
        const started = performance.now();
        const s = await runJob(job, {}, { sql: sql as unknown as Sql });
        if (s.status !== "succeeded") throw new Error(JSON.stringify(s));
        return { ms: performance.now() - started, bytes: Number(s.details?.bytes) };
      };
      const first = await exportOnce();
      const steady: number[] = [];
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const e = await exportOnce();
        steady.push(e.ms);
        bytes = e.bytes;
      }

      // The snapshot statement alone, and the rows it reads (marks in place: steady state).
      const snapshotMs: number[] = [];
      let reads: Map<string, number> = new Map();
      for (let i = 0; i < runs; i++) {
        await sql.begin(async (tx) => {
          const before = await tupleReads(tx);
          const started = performance.now();
          await tx`select internal.audit_export_snapshot(interval '1 hour', true)`;
          snapshotMs.push(performance.now() - started);
          const after = await tupleReads(tx);
          reads = new Map(tables.map((t) => [t, (after.get(t) ?? 0) - (before.get(t) ?? 0)]));
        });
      }

      const verifyStarted = performance.now();
      const report = await verifyNow(sql as unknown as Sql, sink, { maxAgeSeconds: null });
      const verifyMs = performance.now() - verifyStarted;
      if (!report.valid) throw new Error(`verify: ${report.first?.message}`);

      bytesPerChain = bytes / heads;
      const read = (t: string) => Math.round(reads.get(t) ?? 0).toLocaleString("en-US");
      lines.push(
        `| ${target.toLocaleString("en-US")} | ${heads.toLocaleString("en-US")} | ${
          total.toLocaleString("en-US")
        } | ${first.ms.toFixed(0)} | ${median(steady).toFixed(0)} | ${
          median(snapshotMs).toFixed(0)
        } | ${read("public.audit_log")} | ${read("internal.audit_chain_heads")} | ${
          read("internal.audit_export_marks")
        } | ${(bytes / 1024).toFixed(0)} | ${
          verifyMs.toFixed(0)
        } (${report.exports.read} exports, ${report.rows_checked.toLocaleString("en-US")} rows) |`,
      );
      ctx.log(lines[lines.length - 1]);
    }
  } finally {
    setLogSink(restoreLog);
    await sql.end();
  }
  return `
Machine: ${await machineDescription()}.

Chains of ${rowsPerChain} rows each (plus the stack's own), the export job run in-process
against the bench stack (as postgres, direct), sending to the stack's audit sink over
loopback; ${runs} steady-state exports per level (median). "rows read" are heap tuples of
one snapshot statement in the steady state (sequential reads and index fetches of its
transaction, pg_stat_get_xact_*). Verify: the whole database against every export written so far.

| chains (level) | chain heads | audit_log rows | first export ms | export ms (median) | snapshot statement ms | rows read: audit_log | rows read: chain heads | rows read: marks | export KiB | verify ms |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${lines.join("\n")}

- Rows read grow with the number of chains, not with the rows in them: its head, its mark
  (twice: read and upsert check), the anchor probe and its young row. A chain whose young
  row ages also reads the rows that aged since the last export (none here: every row is
  new). At the smallest level the planner reads the small table whole instead.
- The export is about ${Math.round(bytesPerChain)} bytes per chain: that, every export
  interval (5 minutes by default), is what the sink stores.
- Verify reads every row and every export written so far: the operator's check, not a
  per-tick job (\`--from\` limits the exports it reads).
`;
}
