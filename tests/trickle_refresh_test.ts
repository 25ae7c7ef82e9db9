// trickle-refresh against the stack: the served function, the pooler and Postgres.
import { callFunction, withSql } from "./testing.ts";
import assert from "node:assert/strict";
import postgres from "postgres";

const callJob = (body: unknown) => callFunction("trickle-refresh", body);

/** A tenant with `n` read-only argument-free tools of toolkit `rk`, scheduled, and a bucket. */
async function setup(sql: postgres.Sql, n: number, tokens: number): Promise<string> {
  const [{ id }] = await sql`
    insert into public.tenants (name) values ('trickle test') returning id::text`;
  await sql`
    insert into public.connected_accounts (tenant_id, toolkit, external_account_id, status)
    values (${id}, 'rk', 'ca_rk', 'active')`;
  await sql`
    insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, read_only,
                                     content_hash)
    select ${id}, format('RK_LIST_%s', lpad(g::text, 3, '0')), 'rk', 'v1', 'low', true, 'h'
      from generate_series(1, ${n}) g`;
  // A write tool and a read tool that needs arguments: never refreshed.
  await sql`
    insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, read_only,
                                     content_hash, input_schema)
    values (${id}, 'RK_CREATE_X', 'rk', 'v1', 'medium', false, 'h', '{}'),
           (${id}, 'RK_GET_X', 'rk', 'v1', 'low', true, 'h', '{"required": ["id"]}')`;
  await sql`select internal.trickle_schedule_add(${id}, 'rk')`;
  await sql`
    insert into public.rate_buckets (tenant_id, toolkit, capacity, tokens, refill_per_second)
    values (${id}, 'rk', 1000, ${tokens}, 0)`;
  return id;
}

// outbox-drain may run meanwhile (its schedule) and dead-letter these envelopes (the tools
// are not in the sandbox): count both tables.
const envelopes = (sql: postgres.Sql, tenant: string) =>
  sql<{ tool_slug: string; external_id: string; read_only: boolean }[]>`
    select tool_slug, external_id, read_only from public.outbox where tenant_id = ${tenant}
    union all
    select tool_slug, external_id, read_only from public.outbox_dlq where tenant_id = ${tenant}`;

Deno.test(
  "concurrent refreshes never enqueue more than the rate bucket grants",
  withSql(async (sql) => {
    const tenant = await setup(sql, 30, 10);
    const body = { tenant_id: tenant, toolkit: "rk", immediate: true };
    const results = await Promise.all(Array.from({ length: 6 }, () => callJob(body)));
    assert.ok(results.every((r) => r.status === "succeeded"), JSON.stringify(results));
    const first = await envelopes(sql, tenant);
    assert.equal(first.length, 10, "exactly the 10 tokens' worth");
    assert.equal(results.reduce((n, r) => n + (r.counts.enqueued ?? 0), 0), 10);
    const [bucket] = await sql`
      select tokens::float8 as tokens from public.rate_buckets
       where tenant_id = ${tenant} and toolkit = 'rk'`;
    assert.equal(bucket.tokens, 0);
    assert.ok(first.every((e) => e.read_only && e.external_id.startsWith("trickle:rk:RK_LIST_")));

    // More tokens: the rest of the window's tools, none twice, then nothing.
    await sql`update public.rate_buckets set tokens = 100 where tenant_id = ${tenant}`;
    const more = await callJob(body);
    assert.equal(more.counts.enqueued, 20);
    const again = await callJob(body);
    assert.equal(again.counts.enqueued ?? 0, 0);
    const all = await envelopes(sql, tenant);
    assert.equal(all.length, 30);
    assert.equal(new Set(all.map((e) => e.external_id)).size, 30);
    assert.ok(!all.some((e) => e.tool_slug === "RK_CREATE_X" || e.tool_slug === "RK_GET_X"));
  }),
);

Deno.test(
  "a tick refreshes a pair once its window is due, once per window",
  withSql(async (sql) => {
    const tenant = await setup(sql, 3, 60);
    const early = await callJob({ tenant_id: tenant });
    assert.equal(early.counts.pairs ?? 0, 0, "not due before its first window");
    await sql`
      update internal.trickle_schedule set next_due_at = now() - interval '1 minute'
       where tenant_id = ${tenant}`;
    const due = await callJob({ tenant_id: tenant });
    assert.deepEqual([due.counts.pairs, due.counts.enqueued], [1, 3]);
    const [s] = await sql`
      select next_due_at > now() as later, last_window_start <= now() as started
        from internal.trickle_schedule where tenant_id = ${tenant}`;
    assert.deepEqual([s.later, s.started], [true, true]);
    const next = await callJob({ tenant_id: tenant });
    assert.equal(next.counts.pairs ?? 0, 0, "claimed once per window");
    assert.equal((await envelopes(sql, tenant)).length, 3);
  }),
);

Deno.test("immediate without tenant_id is a 400 naming the field", async () => {
  const res = await callJob({ immediate: true });
  assert.equal(res.error.code, "invalid_body");
  assert.match(res.error.message, /tenant_id/);
});
