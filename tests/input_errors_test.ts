// Input a caller controls never makes a 500: a well-formed tenant id that names no tenant, a
// NUL character (Postgres stores none) in any string, a signed token whose tenant_id claim
// is not a uuid. Each is sent to every route that could take it, on the served functions, and
// each answers a 4xx JSON error naming the problem, with nothing written.
import assert from "node:assert/strict";
import fc from "fast-check";
import { signJwt } from "../stack/keys.ts";
import { connect, createTenant, env, need } from "./testing.ts";

const NO_TENANT = "00000000-0000-0000-0000-0000000000ff";
const OWNER_A = "00000000-0000-0000-0000-0000000000a1";
const TENANT_A = "00000000-0000-0000-0000-00000000000a";
const NUL = "a\u0000b";
const jobs = [
  "catalog-sync",
  "trickle-refresh",
  "drift-monitor",
  "embedding-reindexer",
  "outbox-drain",
];

const url = (path: string) => `${env.apiUrl}/functions/v1/${path}`;

async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: string } = {},
): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
  const res = await fetch(url(path), {
    method,
    headers: {
      authorization: `Bearer ${opts.token ?? need("SUPABASE_SERVICE_ROLE_KEY")}`,
      "content-type": "application/json",
    },
    body: opts.body,
    signal: AbortSignal.timeout(60_000),
  });
  assert.match(res.headers.get("content-type") ?? "", /application\/json/, `${method} ${path}`);
  return { status: res.status, body: await res.json() };
}

function expectError(
  what: string,
  got: Awaited<ReturnType<typeof call>>,
  status: number,
  code: string,
  mentions: RegExp,
) {
  assert.equal(got.status, status, `${what}: ${JSON.stringify(got.body)}`);
  assert.equal(got.body.error?.code, code, what);
  assert.match(got.body.error?.message ?? "", mentions, what);
}

Deno.test("a well-formed tenant id naming no tenant: 404 on every route taking one, nothing run", async () => {
  const sql = connect(env.adminUrl);
  try {
    const [{ before }] = await sql`select count(*)::int as before from public.job_runs`;
    for (const job of jobs) {
      const got = await call("POST", job, {
        body: JSON.stringify({ tenant_id: NO_TENANT, dry_run: true, chain: false }),
      });
      expectError(job, got, 404, "tenant_not_found", new RegExp(NO_TENANT));
    }
    for (const route of ["outbox-drain/requeue-dlq", "outbox-drain/drain"]) {
      const got = await call("POST", route, { body: JSON.stringify({ tenant_id: NO_TENANT }) });
      expectError(route, got, 404, "tenant_not_found", new RegExp(NO_TENANT));
    }
    const status = await call("GET", `outbox-drain/status?tenant_id=${NO_TENANT}`);
    expectError("status", status, 404, "tenant_not_found", new RegExp(NO_TENANT));
    const [{ after }] = await sql`select count(*)::int as after from public.job_runs`;
    assert.equal(after, before, "no job run was recorded");
  } finally {
    await sql.end();
  }
});

Deno.test("a NUL character in any string: 400 naming the field, on every route", async () => {
  const sql = connect(env.adminUrl);
  try {
    const token = await signJwt({
      sub: OWNER_A,
      aud: "authenticated",
      role: "authenticated",
      tenant_id: TENANT_A,
      tenant_role: "owner",
    });
    const id = crypto.randomUUID();
    const cases: Array<[string, string, Record<string, unknown>, string | undefined]> = [
      ["outbox-drain/requeue-dlq", "body.actor", { actor: NUL }, undefined],
      ["outbox-drain/drain", "body.actor", { actor: NUL }, undefined],
      ["outbox-drain/retry-dlq", "body.actor", { id, actor: NUL }, undefined],
      ["outbox-drain/resolve", "body.note", { id, resolution: "done", note: NUL }, undefined],
      ["outbox-drain/resolve", "body.actor", { id, resolution: "done", actor: NUL }, undefined],
      ["embedding-reindexer/search", "body.query", { query: NUL }, token],
      // Inside an array, and in a field name: still named, still refused.
      ["embedding-reindexer/search", "body.source_types.0", {
        query: "x",
        source_types: [NUL],
      }, token],
      ...jobs.map((job): [string, string, Record<string, unknown>, undefined] => [
        job,
        "body.a\\u0000b",
        { [NUL]: 1 },
        undefined,
      ]),
    ];
    const [{ before }] = await sql`select count(*)::int as before from public.audit_log`;
    for (const [route, field, body, t] of cases) {
      const got = await call("POST", route, { token: t, body: JSON.stringify(body) });
      expectError(`${route} ${field}`, got, 400, "invalid_body", /NUL/);
      assert.ok(
        got.body.error!.message.includes(field),
        `${route}: ${got.body.error!.message} names ${field}`,
      );
    }
    const q = await call("GET", "outbox-drain/status?dlq_threshold=1%00");
    expectError("status query", q, 400, "invalid_query", /NUL/);
    const [{ after }] = await sql`select count(*)::int as after from public.audit_log`;
    assert.equal(after, before, "nothing was audited: nothing was written");
  } finally {
    await sql.end();
  }
});

Deno.test("a signed token whose tenant_id is not a uuid: 401 on every user route", async () => {
  for (const tenant of ["not-a-uuid", 42, "00000000-0000-0000-0000-00000000000a; drop"]) {
    const token = await signJwt({
      sub: OWNER_A,
      aud: "authenticated",
      role: "authenticated",
      tenant_id: tenant,
    });
    const routes: Array<[string, string, string | undefined]> = [
      ["GET", "drift-monitor", undefined],
      ["POST", "embedding-reindexer/search", JSON.stringify({ query: "hello" })],
    ];
    for (const [method, route, body] of routes) {
      const got = await call(method, route, { token, body });
      expectError(`${route} ${tenant}`, got, 401, "unauthorized", /tenant_id/);
    }
    // Job and operator routes take only the service key, whatever the token says.
    for (const route of [...jobs, "outbox-drain/requeue-dlq"]) {
      const got = await call("POST", route, { token, body: "{}" });
      assert.equal(got.status, 401, route);
    }
  }
});

Deno.test("any string in the operator and search fields: never a 500", async () => {
  // A tenant of its own, with an empty DLQ: requeueing finds nothing of another test's.
  const sql = connect(env.adminUrl);
  const tenant = await createTenant(sql, "input errors");
  await sql.end();
  const token = await signJwt({
    sub: OWNER_A,
    aud: "authenticated",
    role: "authenticated",
    tenant_id: TENANT_A,
  });
  const id = crypto.randomUUID();
  const routes: Array<[string, (s: string) => Record<string, unknown>, string | undefined]> = [
    ["outbox-drain/requeue-dlq", (s) => ({ tenant_id: tenant.id, actor: s }), undefined],
    ["outbox-drain/resolve", (s) => ({ id, resolution: "done", note: s, actor: s }), undefined],
    ["embedding-reindexer/search", (s) => ({ query: s, k: 1 }), token],
  ];
  // Lone surrogates, control characters, non-characters, astral planes and the empty string.
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.constantFrom("\ud800", "x\udfffy", "\u0001\u001f", "\uffff\ufffe", "", " "),
      ),
      async (s) => {
        for (const [route, body, t] of routes) {
          const got = await call("POST", route, { token: t, body: JSON.stringify(body(s)) });
          assert.ok(got.status < 500, `${route} ${JSON.stringify(s)}: ${JSON.stringify(got.body)}`);
          if (got.status >= 400) assert.ok(got.body.error?.code, route);
        }
      },
    ),
    { numRuns: 20, seed: 17 },
  );
});
