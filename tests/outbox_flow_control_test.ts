// outbox-drain's flow control over HTTP against the stack and the Composio sandbox: a
// tenant's rate bucket and the project's Composio bucket hold envelopes back before they
// are sent, deferred to when a token comes without spending an attempt, and a 429 closes the
// project's bucket until its Retry-After, for every tenant. The fairness shares and the
// priorities are tested in SQL (supabase/tests/32_outbox_flow_control.test.sql).
import assert from "node:assert/strict";
import {
  audit,
  connect,
  drain,
  enqueue,
  env,
  executions,
  LIST,
  makeTenant,
  pauseDrain,
  resetSandbox,
  row,
  sandboxControl,
  stackTest,
} from "./testing.ts";

const sql = connect(env.postgresUrl);

stackTest("flow control: setup (the drain's schedule and kick paused)", async () => {
  await pauseDrain(true);
});

stackTest(
  "flow control: a tenant's rate bucket lets through what it holds; the rest waits, attempts unspent",
  async () => {
    await resetSandbox();
    const t = await makeTenant(sql);
    await sql`
      update public.rate_buckets set capacity = 2, tokens = 2, refill_per_second = 0.5,
                                     refilled_at = clock_timestamp()
       where tenant_id = ${t} and toolkit = 'github'`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST));

    const res = await drain({ tenant_id: t });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const counts = res.json.counts as Record<string, number>;
    assert.equal(counts.succeeded, 2, JSON.stringify(counts));
    assert.equal(counts.throttled, 3, JSON.stringify(counts));
    const sent = await executions();
    const rows = await Promise.all(ids.map((id) => row(sql, id)));
    const held = ids.filter((_, i) => rows[i].status === "deferred");
    assert.equal(held.length, 3);
    for (const id of held) {
      const r = await row(sql, id);
      assert.equal(r.attempts, 0, "no attempt spent");
      assert.equal(sent[id] ?? 0, 0, "never sent");
      // The next token of a bucket refilling 0.5/s: about two seconds away.
      const wait = r.next_run_at.getTime() - Date.now();
      assert.ok(wait > -5_000 && wait < 10_000, `due again soon (${wait} ms)`);
      assert.deepEqual(await audit(sql, id), ["outbox_deferred"]);
    }
  },
);

stackTest(
  "flow control: Composio's rate limit, learnt from its headers; a 429 closes it for every tenant",
  async () => {
    await resetSandbox();
    await sandboxControl("PUT", "rate-limit", { limit: 3, window_seconds: 600 });
    try {
      const t = await makeTenant(sql);
      const first: string[] = [];
      for (let i = 0; i < 5; i++) first.push(await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST));
      // Nothing known yet: the batch goes, Composio admits three and answers 429 to the rest.
      const one = await drain({ tenant_id: t, concurrency: 1 });
      const c1 = one.json.counts as Record<string, number>;
      assert.equal(c1.succeeded, 3, JSON.stringify(c1));
      assert.equal(c1.throttled, 2, JSON.stringify(c1));
      for (const r of await Promise.all(first.map((id) => row(sql, id)))) {
        assert.ok(["succeeded", "deferred"].includes(r.status));
        if (r.status === "deferred") assert.equal(r.attempts, 0, "a 429 spends no attempt");
      }
      const [bucket] = await sql`
        select rate_limit, window_seconds, closed_until from internal.composio_rate_limit`;
      assert.equal(bucket.rate_limit, 3, "the limit is Composio's, from X-RateLimit");
      assert.equal(bucket.window_seconds, 600, "and the window, from X-RateLimit-Window-Size");
      assert.ok(bucket.closed_until.getTime() > Date.now() + 60_000, "closed until Retry-After");

      // Another tenant: held back before sending, nothing reaches Composio.
      const other = await makeTenant(sql);
      const requestsBefore = (await sandboxControl("GET", "requests")).requests.length;
      const later = await enqueue(sql, other, "GITHUB_LIST_ISSUES", LIST);
      const two = await drain({ tenant_id: other });
      const c2 = two.json.counts as Record<string, number>;
      assert.equal(c2.throttled, 1, JSON.stringify(c2));
      assert.equal(c2.succeeded ?? 0, 0);
      const r = await row(sql, later);
      assert.equal(r.status, "deferred");
      assert.equal(r.attempts, 0);
      assert.ok(r.next_run_at.getTime() >= bucket.closed_until.getTime() - 1_000);
      const requestsAfter = (await sandboxControl("GET", "requests")).requests.length;
      assert.equal(requestsAfter, requestsBefore, "no request was sent while closed");
    } finally {
      await resetSandbox();
    }
  },
);

stackTest("flow control: clean up", async () => {
  await sql.end();
});
