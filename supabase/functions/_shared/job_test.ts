import assert from "node:assert/strict";
import { z } from "zod";
import { closeServiceDb, serviceDb } from "./db.ts";
import { jobBody, runJob } from "./job.ts";

Deno.test("runner: stops at its budget and records a partial run", async () => {
  const sql = serviceDb();
  try {
    let batches = 0;
    const summary = await runJob({
      slug: "budget-test",
      schema: jobBody,
      defaultBudgetMs: 5000,
      run: async (ctx) => {
        while (!ctx.outOfTime()) {
          await new Promise((r) => setTimeout(r, 20));
          batches++;
          ctx.count("batches");
        }
        return { remaining: true };
      },
    }, { budget_ms: 300, chain: false });
    assert.equal(summary.status, "partial");
    assert.equal(summary.remaining, true);
    assert.equal(summary.reinvoked, false);
    assert.ok(summary.duration_ms >= 300 && summary.duration_ms < 2000, `${summary.duration_ms}`);
    const [row] =
      await sql`select status, counts, finished_at from public.job_runs where id = ${summary.run_id}`;
    assert.equal(row.status, "partial");
    assert.equal(row.counts.batches, batches);
    assert.ok(row.finished_at);
  } finally {
    await closeServiceDb();
  }
});

Deno.test("runner: a throwing job is recorded as failed with its error", async () => {
  const sql = serviceDb();
  try {
    const summary = await runJob({
      slug: "failing-test",
      schema: jobBody,
      defaultBudgetMs: 1000,
      run: () => Promise.reject(new Error("composio exploded")),
    }, {});
    assert.equal(summary.status, "failed");
    assert.equal(summary.error, "composio exploded");
    const [row] = await sql`select status, error from public.job_runs where id = ${summary.run_id}`;
    assert.deepEqual({ ...row }, { status: "failed", error: "composio exploded" });
  } finally {
    await closeServiceDb();
  }
});

Deno.test("runner: two concurrent invocations never hold the same lease", async () => {
  try {
    const holders: string[] = [];
    let inside = 0, peak = 0;
    const def = {
      slug: "lease-test",
      schema: jobBody,
      defaultBudgetMs: 5000,
      run: async (ctx: Parameters<Parameters<typeof runJob>[0]["run"]>[0]) => {
        const lease = await ctx.acquireLease("tenant-1", 10_000);
        if (!lease) return { skipped: "tenant-1 is being worked on by another invocation" };
        holders.push(ctx.runId);
        inside++;
        peak = Math.max(peak, inside);
        await new Promise((r) => setTimeout(r, 200));
        inside--;
        return {};
      },
    };
    const results = await Promise.all(Array.from({ length: 4 }, () => runJob(def, {})));
    assert.equal(peak, 1);
    assert.equal(results.filter((r) => r.status === "succeeded").length, 1);
    assert.equal(results.filter((r) => r.status === "skipped").length, 3);
    // Released at the end of the run: the next invocation gets it.
    const again = await runJob(def, {});
    assert.equal(again.status, "succeeded");
  } finally {
    await closeServiceDb();
  }
});

Deno.test("runner: an expired lease is taken over", async () => {
  const sql = serviceDb();
  try {
    await sql`select internal.lease_acquire('expiry-test', 'k', 'crashed-run', 1)`;
    await new Promise((r) => setTimeout(r, 20));
    const summary = await runJob({
      slug: "expiry-test",
      schema: jobBody,
      defaultBudgetMs: 1000,
      run: async (ctx) => ((await ctx.acquireLease("k", 5000)) ? {} : { skipped: "held" }),
    }, {});
    assert.equal(summary.status, "succeeded");
  } finally {
    await closeServiceDb();
  }
});

Deno.test("runner: re-invokes itself through jobs.invoke when work remains", async () => {
  const sql = serviceDb();
  try {
    await sql`select jobs.register('chain-test', 5000, 60)`;
    const schema = z.strictObject({ ...jobBody.shape });
    const summary = await runJob({
      slug: "chain-test",
      schema,
      defaultBudgetMs: 1000,
      run: () => Promise.resolve({ remaining: true }),
    }, { limit: 5 });
    assert.equal(summary.reinvoked, true);
    const [inv] = await sql`
      select q.url, convert_from(q.body, 'UTF8')::jsonb as body
      from jobs.invocations i
      left join net.http_request_queue q on q.id = i.request_id
      where i.slug = 'chain-test'`;
    assert.ok(inv, "an invocation was recorded");
    // Either still queued (then its body is the next depth) or already delivered.
    if (inv.body) assert.deepEqual(inv.body, { limit: 5, depth: 1 });
  } finally {
    await closeServiceDb();
  }
});
