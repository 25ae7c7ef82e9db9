// The price of checking membership at query time: a tenant member's dashboard queries on 1M
// outbox rows over 100 tenants, under the policy as it is (tenant_id = (select
// internal.active_tenant_id()), a membership lookup once per statement) and under the policy
// it replaced (the token's tenant_id claim alone), side by side: each round runs both, in
// alternating order, the old policy swapped in inside a transaction that is rolled back.
import postgres from "postgres";
import type { BenchContext } from "./main.ts";
import { median, percentile } from "./machine.ts";
import { makeTenants } from "./outbox_bench.ts";

export const title = "Tenancy: membership checked at query time, on a 1M-row dashboard";

const ROUNDS = 3;
const RUNS = 60;

const TOKEN_ONLY_POLICY = `
  drop policy outbox_select_member on public.outbox;
  create policy outbox_select_member on public.outbox for select to authenticated
    using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid)`;

const queries = {
  "dashboard page (50 newest, offset 100)":
    "select id, tool_slug, status, attempts, created_at from public.outbox order by created_at desc limit 50 offset 100",
  "depth by status": "select status, count(*) from public.outbox group by 1",
} as const;

type Variant = "membership at query time" | "token claim only";

export async function run(ctx: BenchContext): Promise<string> {
  const sql = postgres(ctx.env.STACK_POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    const tenants = await makeTenants(sql, 100, 1);
    ctx.log("inserting 1M outbox rows");
    await sql`
      insert into public.outbox (tenant_id, tool_slug, toolkit, arguments, risk, read_only,
                                 status, attempts, next_run_at, created_at, completed_at)
      select (${tenants}::uuid[])[1 + g % 100], 'GITHUB_LIST_ISSUES', 'github',
             '{"owner": "acme", "repo": "big"}', 'low', true,
             case when g % 100 < 2 then 'pending' else 'succeeded' end, 1,
             now() - make_interval(secs => g % 86400), now() - make_interval(secs => g),
             now() - make_interval(secs => g)
      from generate_series(1, 1000000) g`;
    await sql`vacuum analyze public.outbox`;
    const tenant = tenants[7];
    const user = crypto.randomUUID();
    await sql`insert into auth.users (id, aud, role, email)
              values (${user}, 'authenticated', 'authenticated', ${`${user}@example.com`})`;
    await sql`insert into public.tenant_members (tenant_id, user_id, role)
              values (${tenant}, ${user}, 'member')`;
    const claims = JSON.stringify({
      sub: user,
      role: "authenticated",
      aud: "authenticated",
      tenant_id: tenant,
      tenant_role: "member",
    });

    const ms: Record<Variant, Record<string, number[]>> = {
      "membership at query time": {},
      "token claim only": {},
    };
    const measure = async (variant: Variant) => {
      await sql.begin(async (tx) => {
        if (variant === "token claim only") await tx.unsafe(TOKEN_ONLY_POLICY);
        await tx.unsafe("set local role authenticated");
        await tx`select set_config('request.jwt.claims', ${claims}, true)`;
        for (const [name, q] of Object.entries(queries)) {
          const rows = await tx.unsafe(q);
          if (rows.length === 0) throw new Error(`${variant}: ${name} saw nothing`);
          const times = ms[variant][name] ??= [];
          for (let i = 0; i < RUNS; i++) {
            const t = performance.now();
            await tx.unsafe(q);
            times.push(performance.now() - t);
          }
        }
        throw new Rollback();
      }).catch((e) => {
        if (!(e instanceof Rollback)) throw e;
      });
    };
    for (let r = 0; r < ROUNDS; r++) {
      ctx.log(`round ${r + 1}`);
      const order: Variant[] = r % 2 === 0
        ? ["membership at query time", "token claim only"]
        : ["token claim only", "membership at query time"];
      for (const v of order) await measure(v);
    }

    const lines = [
      `1M outbox rows over 100 tenants; a member of one tenant (10,000 rows) runs each query ${RUNS} times per round, as authenticated with its claims (as PostgREST would), ${ROUNDS} interleaved rounds; medians over all runs:`,
      "",
      "| query | membership at query time p50 | p95 | token claim only p50 | p95 | ratio (p50) |",
      "|---|---:|---:|---:|---:|---:|",
    ];
    for (const name of Object.keys(queries)) {
      const now = ms["membership at query time"][name];
      const old = ms["token claim only"][name];
      lines.push(
        `| ${name} | ${median(now).toFixed(2)} ms | ${percentile(now, 95).toFixed(2)} ms | ${
          median(old).toFixed(2)
        } ms | ${percentile(old, 95).toFixed(2)} ms | ${(median(now) / median(old)).toFixed(3)} |`,
      );
    }
    lines.push(
      "",
      "The membership lookup runs once per statement (an InitPlan), so its cost is one primary-key probe of tenant_members whatever the number of rows.",
    );
    return lines.join("\n");
  } finally {
    await sql.end();
  }
}

class Rollback extends Error {}
