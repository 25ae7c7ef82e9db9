import assert from "node:assert/strict";
import {
  createEmbedder,
  dot,
  embeddingDimensions,
  gteSmallEmbedder,
  hashTestEmbedder,
  modelNames,
  normalize,
  openAiEmbedder,
  selectProvider,
  toPgVector,
} from "./embeddings.ts";
import { project, projectionRows } from "./embeddings_offline.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("provider selection: Edge Runtime → gte-small, OpenAI key → openai, else offline", () => {
  assert.equal(selectProvider(envOf({}), true), "gte-small");
  assert.equal(selectProvider(envOf({ OPENAI_API_KEY: "sk-x" }), true), "gte-small");
  assert.equal(selectProvider(envOf({ OPENAI_API_KEY: "sk-x" }), false), "openai");
  assert.equal(selectProvider(envOf({}), false), "offline");
  // The explicit override wins everywhere; hash-test is never chosen without it.
  assert.equal(selectProvider(envOf({ EMBEDDINGS_PROVIDER: "hash-test" }), true), "hash-test");
  assert.equal(
    selectProvider(envOf({ EMBEDDINGS_PROVIDER: "offline", OPENAI_API_KEY: "k" }), false),
    "offline",
  );
  assert.throws(
    () => selectProvider(envOf({ EMBEDDINGS_PROVIDER: "gte-large" }), false),
    /EMBEDDINGS_PROVIDER must be one of gte-small, openai, offline, hash-test, got "gte-large"/,
  );
});

Deno.test("provider selection: this process (no Edge Runtime, no key) gets the offline model", () => {
  if (Deno.env.get("EMBEDDINGS_PROVIDER") || Deno.env.get("OPENAI_API_KEY")) return;
  assert.equal(selectProvider(), "offline");
});

Deno.test("gte-small: a Supabase.ai session, mean-pooled and normalised, one run per text", async () => {
  const calls: unknown[] = [];
  const g = globalThis as { Supabase?: unknown };
  g.Supabase = {
    ai: {
      Session: class {
        constructor(readonly model: string) {
          calls.push(["session", model]);
        }
        run(input: string, opts: unknown) {
          calls.push(["run", input, opts]);
          return Promise.resolve(
            normalize(Array.from({ length: 384 }, (_, i) => i + input.length)),
          );
        }
      },
    },
  };
  try {
    assert.equal(selectProvider(envOf({})), "gte-small");
    const e = gteSmallEmbedder();
    assert.equal(e.model, "gte-small");
    assert.equal(e.maxTokens, 512);
    const vs = await e.embed(["a", "bb"]);
    assert.equal(vs.length, 2);
    assert.deepEqual(calls, [
      ["session", "gte-small"],
      ["run", "a", { mean_pool: true, normalize: true }],
      ["run", "bb", { mean_pool: true, normalize: true }],
    ]);
    await assert.rejects(createEmbedder("offline"), /not available inside the Edge Runtime/);
  } finally {
    delete g.Supabase;
  }
});

Deno.test("hash-test: deterministic unit vectors; shared words make neighbours", async () => {
  const e = hashTestEmbedder();
  assert.equal(e.model, modelNames["hash-test"]);
  const [a, b, c, a2] = await e.embed([
    "invoice 42 paid",
    "invoice 42 overdue",
    "kitten photo",
    "Invoice 42 PAID",
  ]);
  for (const v of [a, b, c]) {
    assert.equal(v.length, embeddingDimensions);
    assert.ok(Math.abs(dot(v, v) - 1) < 1e-9);
  }
  assert.deepEqual(a, a2);
  assert.ok(dot(a, b) > dot(a, c));
});

Deno.test("offline projection: orthonormal rows keep inner products within a few hundredths", () => {
  const rows = projectionRows();
  assert.equal(rows.length, 384);
  assert.equal(rows[0].length, 512);
  assert.ok(Math.abs(dot(rows[3], rows[3]) - 1) < 1e-9);
  assert.ok(Math.abs(dot(rows[3], rows[200])) < 1e-9);
  // Two random 512-d unit vectors with a known cosine.
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
  const x = normalize(Array.from({ length: 512 }, rand));
  const noise = normalize(Array.from({ length: 512 }, rand));
  const y = normalize(x.map((v, i) => v + 0.8 * noise[i]));
  const before = dot(x, y);
  const after = dot(project(x, rows), project(y, rows));
  assert.ok(Math.abs(before - after) < 0.05, `${before} vs ${after}`);
  assert.throws(() => project([1, 2, 3], rows), /expected 512 dimensions, got 3/);
});

Deno.test("openai: text-embedding-3-small at 384 dimensions against a loopback server", async () => {
  const requests: { auth: string | null; body: Record<string, unknown> }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (req.method !== "POST" || url.pathname !== "/v1/embeddings") {
      return Response.json({ error: { message: "not found" } }, { status: 404 });
    }
    const body = await req.json();
    requests.push({ auth: req.headers.get("authorization"), body });
    const inputs = body.input as string[];
    // Out of order on purpose, unnormalised: the client must sort by index and normalise.
    const data = inputs.map((t, index) => ({
      object: "embedding",
      index,
      embedding: Array.from({ length: body.dimensions }, (_, i) => (i === t.length ? 3 : 0)),
    })).reverse();
    return Response.json({
      object: "list",
      data,
      model: body.model,
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
  });
  try {
    const port = (server.addr as Deno.NetAddr).port;
    const env = envOf({
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    });
    assert.equal(selectProvider(env, false), "openai");
    const e = await createEmbedder("openai", env);
    assert.equal(e.model, "text-embedding-3-small-384");
    const [a, bb] = await e.embed(["a", "bb"]);
    assert.equal(a[1], 1);
    assert.equal(bb[2], 1);
    assert.equal(a.length, 384);
    assert.equal(requests.length, 1);
    assert.equal(requests[0].auth, "Bearer sk-test");
    assert.deepEqual(
      { ...requests[0].body },
      {
        model: "text-embedding-3-small",
        input: ["a", "bb"],
        dimensions: 384,
        encoding_format: "float",
      },
    );
    assert.throws(() => openAiEmbedder({ apiKey: "" }), /OPENAI_API_KEY is not set/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("toPgVector writes pgvector's text form", () => {
  assert.equal(toPgVector([0.5, 0, -0.25]), "[0.5,0,-0.25]");
});
