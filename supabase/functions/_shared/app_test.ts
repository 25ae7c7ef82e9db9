import assert from "node:assert/strict";
import { z } from "zod";
import { createApp, nulPath, parseJsonBody } from "./app.ts";
import { closeServiceDb, serviceDb } from "./db.ts";
import { jobBodyFields, mountJob } from "./job.ts";

const slug = "app-test-job";
const serviceKey = () => Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!;

function testApp() {
  const app = createApp(slug, { maxBodyBytes: 1024 });
  mountJob(app, {
    slug,
    schema: z.strictObject({ ...jobBodyFields, label: z.string().max(20).optional() }),
    defaultBudgetMs: 5000,
    run: async (ctx) => {
      ctx.count("done");
      await Promise.resolve();
      return {};
    },
  });
  app.post("/echo", async (c) => c.json(await parseJsonBody(c, z.strictObject({ n: z.number() }))));
  return app;
}

const post = (app: ReturnType<typeof testApp>, body: string, path = "") =>
  app.fetch(
    new Request(`http://x/${slug}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey()}`, "content-type": "application/json" },
      body,
    }),
  );

async function runCount(): Promise<number> {
  const [{ n }] =
    await serviceDb()`select count(*)::int as n from public.job_runs where job = ${slug}`;
  return n;
}

Deno.test("app: bad input gets a 4xx naming the problem and writes nothing", async () => {
  const app = testApp();
  try {
    const before = await runCount();
    const cases: Array<[string, number, string, RegExp]> = [
      ["{not json", 400, "invalid_json", /body is not valid JSON/],
      ['{"limit": "ten"}', 400, "invalid_body", /body\.limit: .*number/i],
      ['{"surprise": 1}', 400, "invalid_body", /unknown field surprise/],
      ['{"tenant_id": "not-a-uuid"}', 400, "invalid_body", /body\.tenant_id/],
      ["[1, 2]", 400, "invalid_body", /body: .*object/i],
      [JSON.stringify({ label: "x".repeat(2000) }), 413, "body_too_large", /exceeds 1024 bytes/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await post(app, body);
      assert.equal(res.status, status, body.slice(0, 40));
      const json = await res.json();
      assert.equal(json.error.code, code, body.slice(0, 40));
      assert.match(json.error.message, message);
      assert.ok(res.headers.get("x-request-id"));
    }
    assert.equal(await runCount(), before, "no job_runs row for rejected requests");

    const ok = await post(app, '{"label":"fine"}');
    assert.equal(ok.status, 200);
    const summary = await ok.json();
    assert.equal(summary.status, "succeeded");
    assert.deepEqual(summary.counts, { done: 1 });
    assert.equal(await runCount(), before + 1);
    // Ids Postgres accepts are accepted, RFC version nibble or not (the seeded tenants).
    const seeded = await post(app, '{"tenant_id":"00000000-0000-0000-0000-00000000000a"}');
    assert.equal(seeded.status, 200);
    await seeded.body?.cancel();
  } finally {
    await closeServiceDb();
  }
});

Deno.test("app: job routes need a service key; errors and 404s share one shape", async () => {
  const app = testApp();
  try {
    let res = await app.fetch(new Request(`http://x/${slug}`, { method: "POST", body: "{}" }));
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, "unauthorized");
    res = await app.fetch(new Request(`http://x/${slug}/nowhere`));
    assert.equal(res.status, 404);
    assert.deepEqual(Object.keys((await res.json()).error), ["code", "message"]);
    res = await post(app, '{"n": 1}', "/echo");
    assert.deepEqual(await res.json(), { n: 1 });
  } finally {
    await closeServiceDb();
  }
});

Deno.test("app: healthz reports the database and the age of the last run", async () => {
  const app = testApp();
  try {
    await post(app, "{}");
    const res = await app.fetch(new Request(`http://x/${slug}/healthz`));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.database, "reachable");
    assert.ok(body.last_run_age_seconds >= 0 && body.last_run_age_seconds < 60);
  } finally {
    await closeServiceDb();
  }
});

Deno.test("nulPath: names the first NUL in a value or a field name, at any depth", () => {
  assert.equal(nulPath("plain", "body"), null);
  assert.equal(nulPath({ a: [1, "x", { b: "ok" }] }, "body"), null);
  assert.equal(nulPath("a\u0000", "body"), "body");
  assert.equal(nulPath({ a: ["x", { b: "\u0000" }] }, "body"), "body.a.1.b");
  assert.equal(nulPath({ ["k\u0000"]: 1 }, "query"), "query.k\\u0000");
});
