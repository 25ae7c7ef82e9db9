import assert from "node:assert/strict";
import postgres from "postgres";
import { mintUserToken } from "../stack/keys.ts";
import { withUserContext } from "../supabase/functions/_shared/db.ts";
import {
  createEmbedder,
  hashEmbed,
  modelNames,
  normalize,
  toPgVector,
} from "../supabase/functions/_shared/embeddings.ts";
import { runJob } from "../supabase/functions/_shared/job.ts";
import { createTenant, quietReindexer, testDb, type TestTenant } from "./testing.ts";
import { reindexJob } from "../supabase/functions/embedding-reindexer/reindex.ts";
import {
  type SearchBody,
  searchEvidence,
} from "../supabase/functions/embedding-reindexer/search.ts";

const sql = testDb();
const resume = await quietReindexer(sql);
// The real offline model, loaded once for this file.
const offline = await createEmbedder("offline");

// 20 documents and a paraphrase of each that shares none of its content words.
const pairs: [string, string][] = [
  [
    "The customer could not sign in because single sign-on rejected her credentials.",
    "User login failing through SSO authentication",
  ],
  [
    "The application crashes immediately on startup after the latest update.",
    "Program quits right when launched following the newest release",
  ],
  [
    "Our monthly cloud hosting bill doubled unexpectedly.",
    "Server infrastructure expenses jumped sharply in recent weeks",
  ],
  [
    "A shipment of office chairs was delayed at customs.",
    "Furniture delivery held up by border inspection",
  ],
  [
    "The database backup job failed overnight because the disk was full.",
    "Nightly storage snapshot did not complete since no space remained on the drive",
  ],
  [
    "Employees asked for more flexible remote work arrangements.",
    "Staff want to stay home more often instead of commuting to the office",
  ],
  [
    "The marketing team launched a new advertising campaign on social media.",
    "Promotion efforts started on Twitter and Instagram",
  ],
  [
    "A security researcher reported a vulnerability in the password reset flow.",
    "Someone disclosed an exploit affecting credential recovery",
  ],
  [
    "The quarterly revenue exceeded the forecast by ten percent.",
    "Sales income beat projections for these three months",
  ],
  [
    "The kitchen sink is leaking water onto the floor.",
    "Plumbing drip causing puddles under the basin",
  ],
  [
    "Please schedule a meeting with the legal department next Tuesday.",
    "Set up a call with our lawyers early in the coming week",
  ],
  [
    "The dog barked all night and kept the neighbours awake.",
    "A noisy puppy disturbed residents' sleep",
  ],
  [
    "Flight to Berlin was cancelled because of a snowstorm.",
    "Winter weather grounded our plane to Germany",
  ],
  [
    "The new hire needs a laptop and an email account before Monday.",
    "Onboarding requires a computer and mailbox for the incoming colleague",
  ],
  [
    "Customers complain that the checkout page loads very slowly.",
    "Shoppers report sluggish performance when paying online",
  ],
  [
    "The contract with the supplier expires at the end of the year.",
    "Our vendor agreement terminates in December",
  ],
  [
    "A pull request added unit tests for the parser module.",
    "Someone contributed automated checks covering the syntax analyzer code",
  ],
  [
    "Heavy rain flooded the basement of the warehouse.",
    "Storage building's lower level got submerged after a downpour",
  ],
  [
    "The patient was prescribed antibiotics for a throat infection.",
    "Doctor gave medicine to treat bacterial tonsillitis",
  ],
  [
    "The website's SSL certificate expired and browsers show a warning.",
    "Visitors see a security alert since our HTTPS credential lapsed",
  ],
];
// The identifier is one detail of a longer text; tickets with other identifiers look more
// like the bare identifier to the model. Full text matches the exact token.
const identifierDoc =
  "Weekly operations digest: fourteen tickets closed, two agents onboarded, the printer on floor three replaced; the escalation is tracked as RF-88213-QX.";
const distractors = Array.from(
  { length: 8 },
  (_, i) =>
    `Refund request RF-${88220 + i * 7}-Q${
      "ABCDEFGH"[i]
    } was escalated to the second support tier.`,
);

let corpus: { tenant: TestTenant; ids: string[]; identifierId: string } | null = null;

/** A tenant whose evidence is the 20 documents plus one with an identifier, embedded offline. */
async function offlineCorpus() {
  if (corpus) return corpus;
  const tenant = await createTenant(sql, "paraphrase corpus");
  const ids: string[] = [];
  for (const [doc] of pairs) {
    const [{ id }] = await sql`
      insert into public.evidence (tenant_id, tool_slug, content, content_text)
      values (${tenant.id}, 'NOTES', '{}', ${doc}) returning id::text`;
    ids.push(id);
  }
  const [{ id: identifierId }] = await sql`
    insert into public.evidence (tenant_id, tool_slug, content, content_text)
    values (${tenant.id}, 'ZENDESK_TICKET', '{}', ${identifierDoc}) returning id::text`;
  for (const doc of distractors) {
    await sql`insert into public.evidence (tenant_id, tool_slug, content, content_text)
              values (${tenant.id}, 'ZENDESK_TICKET', '{}', ${doc})`;
  }
  const run = await runJob(reindexJob(() => Promise.resolve(offline)), {
    tenant_id: tenant.id,
    chain: false,
  }, { sql });
  assert.equal(run.counts.embedded, 21 + distractors.length, JSON.stringify(run));
  corpus = { tenant, ids, identifierId };
  return corpus;
}

async function searchAs(tenant: TestTenant, model: string, vector: number[], body: SearchBody) {
  return await withUserContext(
    sql as never,
    tenant.claims,
    (tx) => searchEvidence(tx as never, model, vector, body),
  );
}

Deno.test("retrieval with the offline model: paraphrases find their document (top-1 ≥ 0.8)", async () => {
  const { tenant, ids } = await offlineCorpus();
  const queries = await offline.embed(pairs.map(([, q]) => q));
  let hits = 0;
  const misses: string[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const [top] = await searchAs(tenant, offline.model, queries[i], {
      query: pairs[i][1],
      k: 1,
      mode: "vector",
    });
    if (top?.source_id === ids[i]) hits++;
    else misses.push(`"${pairs[i][1]}" → "${top?.content}"`);
  }
  const accuracy = hits / pairs.length;
  console.log(`offline retrieval top-1 accuracy: ${hits}/${pairs.length} = ${accuracy}`);
  for (const m of misses) console.log(`  miss: ${m}`);
  assert.ok(accuracy >= 0.8, `top-1 accuracy ${accuracy}`);
});

Deno.test("hybrid search finds an exact identifier that vector search misses", async () => {
  const { tenant, identifierId } = await offlineCorpus();
  const query = "RF-88213-QX";
  const [v] = await offline.embed([query]);
  const vector = await searchAs(tenant, offline.model, v, { query, k: 1, mode: "vector" });
  console.log(`vector top-1 for ${query}: "${vector[0].content}"`);
  const hybrid = await searchAs(tenant, offline.model, v, { query, k: 3, mode: "hybrid" });
  assert.notEqual(vector[0].source_id, identifierId, "the vector alone misses it");
  assert.equal(hybrid[0].source_id, identifierId);
  assert.equal(hybrid[0].text_rank, 1);
  assert.ok(hybrid[0].score > hybrid[1].score);
  // Filters: a source type or time range without it returns none of it.
  const audits = await searchAs(tenant, offline.model, v, {
    query,
    k: 3,
    mode: "hybrid",
    source_types: ["audit"],
  });
  assert.deepEqual(audits, []);
  const future = await searchAs(tenant, offline.model, v, {
    query,
    k: 3,
    mode: "vector",
    since: new Date(Date.now() + 3_600_000).toISOString(),
  });
  assert.deepEqual(future, []);
});

Deno.test("tenant isolation: A's query returns k rows of A even when B's rows are nearer", async () => {
  const a = await createTenant(sql, "isolation A");
  const b = await createTenant(sql, "isolation B");
  const model = modelNames["hash-test"];
  const query = hashEmbed("quarterly revenue report");
  // B: 300 rows almost equal to the query; A: 30 rows further away.
  const near = (i: number) => normalize(query.map((x, j) => x + (j === i % 384 ? 0.05 : 0)));
  const far = (i: number) => normalize(query.map((x, j) => x + (j === i % 384 ? 2 : 0)));
  const rows = (tenant: string, n: number, f: (i: number) => number[]) =>
    Array.from({ length: n }, (_, i) => ({
      tenant_id: tenant,
      source_type: "evidence",
      source_id: crypto.randomUUID(),
      chunk: 0,
      content_hash: `h${i}`,
      content: `${tenant} row ${i}`,
      embedding: toPgVector(f(i)),
      metadata: {},
      source_created_at: null,
    }));
  const sources = [...rows(b.id, 300, near), ...rows(a.id, 30, far)];
  await sql`select internal.embeddings_store(${model}, ${sql.json(sources)}, '[]')`;
  await sql`analyze public.evidence_embeddings`;

  for (const forceIndex of [false, true]) {
    const got = await withUserContext(sql as never, a.claims, async (tx) => {
      // With sorts and sequential scans off, the planner must take the HNSW index scan.
      if (forceIndex) {
        await tx`set local enable_seqscan = off`;
        await tx`set local enable_sort = off`;
      }
      return await searchEvidence(tx as never, model, query, { query: "x", k: 10, mode: "vector" });
    });
    assert.equal(got.length, 10, `k rows (forceIndex ${forceIndex})`);
    assert.ok(got.every((r) => r.content.startsWith(a.id)), "only A's rows");
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].similarity >= got[i].similarity);
  }
  // As B: B's own rows, none of A's.
  const asB = await searchAs(b, model, query, { query: "x", k: 10, mode: "hybrid" });
  assert.equal(asB.length, 10);
  assert.ok(asB.every((r) => r.content.startsWith(b.id)));
  // Anon sees nothing and may not even call it.
  await assert.rejects(
    withUserContext(
      sql as never,
      { role: "anon" },
      (tx) => searchEvidence(tx as never, model, query, { query: "x", k: 10, mode: "vector" }),
    ),
    /permission denied for function search_evidence/,
  );
});

Deno.test("POST /embedding-reindexer/search: a member's JWT gets ranked evidence of their tenant", async () => {
  const { tenant, ids } = await offlineCorpus();
  const base = `${Deno.env.get("SUPABASE_URL")}/functions/v1/embedding-reindexer/search`;
  const admin = postgres(Deno.env.get("STACK_ADMIN_URL")!, { max: 1, onnotice: () => {} });
  let token: string;
  try {
    token = await mintUserToken(admin, tenant.userId);
  } finally {
    await admin.end();
  }
  const post = (body: unknown, auth: string | null = token) =>
    fetch(base, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
      },
      body: JSON.stringify(body),
    });

  const res = await post({ query: pairs[12][1], k: 3, mode: "vector" });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  assert.equal(json.model, offline.model);
  assert.equal(json.results.length, 3);
  assert.equal(json.results[0].source_id, ids[12]);
  assert.ok(json.results[0].score > json.results[1].score);
  assert.equal(json.results[0].metadata.tool_slug, "NOTES");

  const hybrid = await (await post({ query: "RF-88213-QX" })).json();
  assert.equal(hybrid.mode, "hybrid");
  assert.equal(hybrid.results[0].content, identifierDoc);

  const noAuth = await post({ query: "x" }, null);
  assert.equal(noAuth.status, 401);
  assert.equal((await noAuth.json()).error.code, "unauthorized");
  const bad = await post({ query: "x", k: 0 });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.message, /body\.k/);
  const badRange = await post({
    query: "x",
    since: "2026-02-01T00:00:00Z",
    until: "2026-01-01T00:00:00Z",
  });
  assert.equal(badRange.status, 400);
  assert.match((await badRange.json()).error.message, /body\.until/);

  // Memory of the function process (it holds the offline model), from the functions log.
  const logFile = Deno.env.get("STACK_FUNCTIONS_LOG");
  for (let i = 0; logFile && i < 20; i++) {
    const line = (await Deno.readTextFile(logFile)).split("\n")
      .filter((l) => l.includes('"event":"request"') && l.includes("/embedding-reindexer/search"))
      .at(-1);
    if (line) {
      const { memory_mb, cpu_ms, wall_ms } = JSON.parse(line);
      console.log(`search request: memory_mb ${memory_mb}, cpu_ms ${cpu_ms}, wall_ms ${wall_ms}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
});

Deno.test({
  name: "search tests: resume the schedules",
  fn: async () => {
    await resume();
    await sql.end();
  },
  sanitizeOps: false,
  sanitizeResources: false,
});

Deno.test("POST /embedding-reindexer/search: each user's budget is the plan's; spent, 429 with Retry-After", async () => {
  const admin = postgres(Deno.env.get("STACK_ADMIN_URL")!, { max: 1, onnotice: () => {} });
  const plan = `search_test_${Date.now().toString(36)}`;
  const tenant = await createTenant(admin, "search budget test");
  try {
    await admin`
      insert into public.plans (slug, name, concurrency_cap_max, max_attempts_max,
                                trust_threshold_min, fairness_weight, task_quota_per_day,
                                search_per_minute)
      values (${plan}, 'Search test', 2, 5, 0.5, 1, 10, 2)`;
    await admin`update public.tenants set plan = ${plan} where id = ${tenant.id}`;
    const token = await mintUserToken(admin, tenant.userId);
    const post = () =>
      fetch(`${Deno.env.get("SUPABASE_URL")}/functions/v1/embedding-reindexer/search`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "budget", k: 1 }),
      });
    for (let i = 0; i < 2; i++) {
      const ok = await post();
      const text = await ok.text();
      assert.equal(ok.status, 200, text);
    }
    const spent = await post();
    const body = await spent.json();
    assert.equal(spent.status, 429, JSON.stringify(body));
    assert.equal(body.error.code, "rate_limited");
    assert.equal(body.error.details.limit_per_minute, 2);
    const retry = Number(spent.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 30, `Retry-After ${retry}`);
    assert.equal(body.error.details.retry_after_seconds, retry);

    // Removed from the tenant: refused before the model runs, whatever the token says.
    await admin`delete from public.tenant_members where user_id = ${tenant.userId}`;
    const gone = await post();
    assert.equal(gone.status, 403, await gone.text());
  } finally {
    await admin`delete from public.tenants where id = ${tenant.id}`;
    await admin`delete from public.plans where slug = ${plan}`;
    await admin.end();
  }
});
