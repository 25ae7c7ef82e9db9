// outbox-drain's flow control: what it costs per envelope, and the shares it gives.
// - Shares: three backlogged tenants on plans weighing 1, 2 and 4, caps not binding, claims of
//   a few sizes made and settled in SQL (deterministic, as supabase/tests/32_… does), and the
//   same with a tenant whose cap binds.
// - Postgres: internal.outbox_rate_take for a batch, the one statement flow control adds per
//   batch, with the project's limit unknown and known.
// - Main thread: the TypeScript around it (wantsOf, splitByGrants, observe) per envelope.
import postgres from "postgres";
import { join } from "node:path";
import type { BenchContext } from "./main.ts";
import { median, postgresCpuUs } from "./machine.ts";
import { makeTenants } from "./outbox_bench.ts";
import type { Claimed } from "../supabase/functions/outbox-drain/claim.ts";
import {
  observe,
  splitByGrants,
  wantsOf,
} from "../supabase/functions/outbox-drain/flow_control.ts";
import type { ExecuteOutcome } from "../supabase/functions/_shared/composio_execute.ts";

export const title = "outbox-drain flow control: cost per envelope and the fairness shares";

const ROUNDS = 5;
const BATCH = 20;

async function shares(
  sql: postgres.Sql,
  claimSize: number,
  claims: number,
): Promise<number[]> {
  return await sql.begin(async (tx) => {
    await tx`update public.outbox set next_run_at = now() + interval '1 day'
              where internal.outbox_waiting(status)`;
    const ids: string[] = [];
    for (const [plan, cap] of [["free", 2], ["pro", 16], ["enterprise", 1000]]) {
      const [{ id }] = await tx`
        insert into public.tenants (name, plan) values ('fair bench', ${plan}) returning id::text`;
      await tx`update public.guardrails set concurrency_cap = ${cap} where tenant_id = ${id}`;
      await tx`
        insert into public.outbox (tenant_id, tool_slug, toolkit, risk, read_only)
        select ${id}, 'T_READ', 'tk', 'low', true from generate_series(1, ${claims * claimSize})`;
      ids.push(id);
    }
    const got = new Map(ids.map((id) => [id, 0]));
    for (let i = 0; i < claims; i++) {
      const rows =
        await tx`select tenant_id::text from public.outbox_claim('fair', ${claimSize}, 60000)`;
      for (const r of rows) got.set(r.tenant_id, (got.get(r.tenant_id) ?? 0) + 1);
      await tx`update public.outbox set status = 'succeeded', lease_token = null,
                                        lease_expires_at = null, completed_at = now()
                where status = 'running' and claimed_by = 'fair'`;
    }
    const out = ids.map((id) => got.get(id) ?? 0);
    throw new Rollback(out);
  }).catch((err) => {
    if (err instanceof Rollback) return err.value;
    throw err;
  });
}

class Rollback extends Error {
  constructor(readonly value: number[]) {
    super("rollback");
  }
}

const fmtShare = (got: number[]) => {
  const total = got.reduce((a, b) => a + b, 0);
  return got.map((n, i) => {
    const want = [1, 2, 4][i] / 7;
    return `${n} (${(100 * n / total).toFixed(1)} % vs ${(100 * want).toFixed(1)} %)`;
  });
};

export async function run(ctx: BenchContext): Promise<string> {
  const sql = postgres(ctx.env.STACK_POSTGRES_URL, { max: 1, onnotice: () => {} });
  const dataDir = join(ctx.env.STACK_SERVER_DIR, "db", "data");
  try {
    ctx.log("fairness shares");
    const shareRows: string[] = [];
    for (const [size, claims] of [[1, 3500], [7, 500]]) {
      const got = await shares(sql, size, claims);
      shareRows.push(`| ${size} | ${claims} | ${fmtShare(got).join(" | ")} |`);
    }
    // Claims of 100: the free plan's cap (2) and pro's (16) bind within one claim.
    const capped = await shares(sql, 100, 35);

    ctx.log("Postgres: rate take per batch");
    const tenants = await makeTenants(sql, 2, 100);
    const wants = tenants.map((t) => ({ tenant_id: t, toolkit: "github", n: BATCH / 2 }));
    const takeUs: number[] = [];
    const takeCpuUs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const n = 500;
      const pg0 = postgresCpuUs(dataDir);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await sql`select count(*) from internal.outbox_rate_take(${sql.json(wants)})`;
      }
      takeUs.push(((performance.now() - t0) * 1000) / (n * BATCH));
      takeCpuUs.push((postgresCpuUs(dataDir) - pg0) / (n * BATCH));
    }
    // The same with the project's bucket known (a row to lock and update).
    await sql`select internal.composio_rate_observe(1000000000, 1000000000, 600, null, false)`;
    const takeKnownCpuUs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const n = 500;
      const pg0 = postgresCpuUs(dataDir);
      for (let i = 0; i < n; i++) {
        await sql`select count(*) from internal.outbox_rate_take(${sql.json(wants)})`;
      }
      takeKnownCpuUs.push((postgresCpuUs(dataDir) - pg0) / (n * BATCH));
    }
    await sql`delete from internal.composio_rate_limit`;

    ctx.log("main thread: the TypeScript per batch");
    const envs = Array.from({ length: BATCH }, (_, i) =>
      ({
        id: `e${i}`,
        tenant_id: tenants[i % 2],
        toolkit: "github",
        lease_token: `t${i}`,
        attempts: 0,
      }) as Claimed);
    const answers = envs.map((_, i) => ({
      exec: {
        call: { kind: "response", status: 200 },
        body: null,
        durationMs: 1,
        rateLimit: { limit: 100, remaining: 50, windowSeconds: 600, retryAfterMs: null },
      } as ExecuteOutcome,
      at: i,
    }));
    const tsUs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const n = 20_000;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const w = wantsOf(envs);
        splitByGrants(envs, w.map((x) => ({ ...x, granted: x.n - 1, retry_at: null })), {});
        observe(answers);
      }
      tsUs.push(((performance.now() - t0) * 1000) / (n * BATCH));
    }

    return [
      `Shares of a busy drain: three backlogged tenants on plans weighing 1, 2 and 4 (free, pro, enterprise), caps not binding (2, 16, 1000), each claim settled before the next, in SQL (outbox_claim; the counts are deterministic):`,
      "",
      "| envelopes per claim | claims | weight 1 | weight 2 | weight 4 |",
      "|---:|---:|---:|---:|---:|",
      ...shareRows,
      "",
      `Claims of 100 × 35, where the caps bind (2 and 16 running at once): ${
        fmtShare(capped).join(", ")
      }. A capped tenant gets its cap in every claim and the rest goes to the tenants with room: a cap is a ceiling, never a reason to leave the drain idle.`,
      "",
      `Cost per envelope, batches of ${BATCH} over 2 (tenant, toolkit) pairs, median of ${ROUNDS} rounds:`,
      "",
      "| what | per envelope |",
      "|---|---:|",
      `| internal.outbox_rate_take, client-side wall | ${median(takeUs).toFixed(1)} µs |`,
      `| internal.outbox_rate_take, Postgres CPU, project limit not known yet | ${
        median(takeCpuUs).toFixed(1)
      } µs |`,
      `| internal.outbox_rate_take, Postgres CPU, project limit known (its row locked and updated) | ${
        median(takeKnownCpuUs).toFixed(1)
      } µs |`,
      `| main thread: wantsOf + splitByGrants + observe | ${median(tsUs).toFixed(2)} µs |`,
      "",
      "The claim's share of it (fairness: the pass lookup, the stride order, one upsert of internal.outbox_fair_share per claim) is inside outbox_claim's figures in the outbox-drain section (`deno task bench outbox`).",
    ].join("\n");
  } finally {
    await sql.end();
  }
}
