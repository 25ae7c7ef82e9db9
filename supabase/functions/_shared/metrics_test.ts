import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { createApp } from "./app.ts";
import { closeServiceDb } from "./db.ts";
import { jobBody, mountJob } from "./job.ts";

const rulesFile = join(import.meta.dirname!, "..", "..", "..", "monitoring", "alerts.yml");

async function scrape(): Promise<string> {
  const app = createApp("metrics-test");
  mountJob(app, {
    slug: "metrics-test",
    schema: jobBody,
    defaultBudgetMs: 1000,
    run: () => Promise.resolve({}),
  });
  const auth = { authorization: `Bearer ${Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")}` };
  const run = await app.fetch(
    new Request("http://x/metrics-test", { method: "POST", headers: auth, body: "{}" }),
  );
  assert.equal(run.status, 200);
  await run.body?.cancel();
  const denied = await app.fetch(new Request("http://x/metrics-test/metrics"));
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  const res = await app.fetch(new Request("http://x/metrics-test/metrics", { headers: auth }));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /text\/plain; version=0\.0\.4/);
  return await res.text();
}

Deno.test("metrics: rendered from database state, behind the service key", async () => {
  try {
    const text = await scrape();
    assert.match(text, /^job_runs_total\{job="metrics-test",status="succeeded"\} \d+$/m);
    assert.match(text, /^# TYPE outbox_queue_size gauge$/m);
    assert.match(text, /^# TYPE outbox_dlq_size gauge$/m);
  } finally {
    await closeServiceDb();
  }
});

Deno.test("alert rules only reference metrics the functions serve", async () => {
  try {
    const text = await scrape();
    const served = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    const rules = parse(await Deno.readTextFile(rulesFile));
    const alerts = rules.groups.flatMap((g: { rules: Array<{ alert: string; expr: string }> }) =>
      g.rules
    );
    assert.deepEqual(
      alerts.map((a: { alert: string }) => a.alert).sort(),
      ["JobConsecutiveFailures", "JobInvocationFailing", "JobSilent", "OutboxDeadLetters"],
    );
    for (const a of alerts) {
      const names = [
        ...a.expr.matchAll(/\b([a-z_]+_(?:size|total|failures|silent|failing|errors))\b/g),
      ].map((m) => m[1]);
      assert.ok(names.length > 0, a.alert);
      for (const n of names) {
        assert.ok(served.has(n), `${a.alert} uses ${n}, which no function serves`);
      }
    }
  } finally {
    await closeServiceDb();
  }
});
