// deno-lint-ignore-file no-explicit-any -- wire JSON is asserted field by field
// The sandbox's v3.1 shapes: base paths, the version an execution ran, the error body, the
// rate-limit headers, deprecation. composio_sandbox_test.ts covers the rest.
import assert from "node:assert/strict";
import { type ComposioSandbox, startComposioSandbox } from "./composio_sandbox.ts";
import { RollingWindow } from "./composio_sandbox/rate_limit.ts";

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

async function withSandbox(fn: (sb: ComposioSandbox, call: Call) => Promise<void>) {
  const sb = await startComposioSandbox({ port: 0 });
  const call: Call = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (!path.startsWith("/_sandbox/") && opts.key !== null) {
      headers["x-api-key"] = opts.key ?? sb.apiKey;
    }
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${sb.url}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
  try {
    await fn(sb, call);
  } finally {
    await sb.close();
  }
}

type Call = (
  method: string,
  path: string,
  opts?: { body?: unknown; headers?: Record<string, string>; key?: string | null },
) => Promise<Reply>;

const execute = (call: Call, api: string, slug: string, extra: object = {}, envelope = "env") =>
  call("POST", `/api/${api}/tools/execute/${slug}`, {
    body: { arguments: {}, user_id: "u1", ...extra },
    headers: { "x-envelope-id": envelope },
  });

Deno.test("v3.1 is the base path, v3 an alias of it; the log says which one a call used", async () => {
  await withSandbox(async (sb, call) => {
    const q = "?toolkit_slug=github&limit=3&include_deprecated=true";
    const v31 = await call("GET", `/api/v3.1/tools${q}`);
    const v3 = await call("GET", `/api/v3/tools${q}`);
    assert.equal(v31.status, 200);
    assert.deepEqual(v3.body, v31.body);
    const page = v31.body;
    assert.deepEqual(
      Object.keys(page).sort(),
      ["current_page", "items", "next_cursor", "total_items", "total_pages"],
    );
    assert.equal(page.current_page, 1);
    assert.equal(page.total_pages, Math.ceil(page.total_items / 3));
    for (const t of page.items) {
      assert.equal(t.is_deprecated, false);
      assert.deepEqual(Object.keys(t.deprecated).sort(), [
        "available_versions",
        "displayName",
        "is_deprecated",
        "toolkit",
        "version",
      ]);
    }
    assert.equal((await call("GET", "/api/v3.1/toolkits")).body.total_pages, 1);

    await execute(call, "v3.1", "GITHUB_LIST_ISSUES", { version: "20250909_00" }, "e1");
    await execute(call, "v3", "GITHUB_LIST_ISSUES", { version: "20250909_00" }, "e2");
    const log = sb.executions().log;
    assert.deepEqual(log.map((e) => e.api_version), ["v3.1", "v3"]);
    const counted = sb.requests();
    assert.equal(counted["GET /api/v3.1/tools"], 1);
    assert.equal(counted["GET /api/v3/tools"], 1);
    assert.equal(counted["POST /api/v3.1/tools/execute/GITHUB_LIST_ISSUES"], 1);
    // Over HTTP too; a call refused for its key is not counted.
    await call("GET", "/api/v3.1/tools", { key: "wrong" });
    const http = await call("GET", "/_sandbox/requests");
    assert.deepEqual(http.body.requests, sb.requests());
    sb.reset();
    assert.deepEqual(sb.requests(), {});
  });
});

Deno.test("execute: the version sent is recorded with the version run; none sent runs the latest", async () => {
  await withSandbox(async (sb, call) => {
    const pinned = await execute(call, "v3.1", "GITHUB_CREATE_ISSUE", { version: "20250827_00" });
    assert.equal(pinned.status, 200);
    await execute(call, "v3.1", "GITHUB_CREATE_ISSUE");
    await execute(call, "v3.1", "GITHUB_CREATE_ISSUE", { version: "latest" });
    const log = sb.executions().log;
    assert.deepEqual(log.map((e) => [e.version, e.executed_version]), [
      ["20250827_00", "20250827_00"],
      [null, "20250909_00"],
      ["latest", "20250909_00"],
    ]);
    // Refused before running: nothing was run, at any version.
    sb.addFault({ slug: "GITHUB_CREATE_ISSUE", status: 503, times: 1 });
    await execute(call, "v3.1", "GITHUB_CREATE_ISSUE", { version: "20250909_00" });
    await execute(call, "v3.1", "GITHUB_NOPE", { version: "20250909_00" });
    assert.deepEqual(sb.executions().log.slice(3).map((e) => [e.version, e.executed_version]), [
      ["20250909_00", null],
      ["20250909_00", null],
    ]);
  });
});

Deno.test("execute: `text` instead of `arguments`", async () => {
  await withSandbox(async (_sb, call) => {
    const r = await call("POST", "/api/v3.1/tools/execute/SLACK_SEND_MESSAGE", {
      body: { text: "say hi in #general", version: "20251016_00" },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data.arguments_keys, []);
    const neither = await call("POST", "/api/v3.1/tools/execute/SLACK_SEND_MESSAGE", {
      body: { version: "20251016_00" },
    });
    assert.equal(neither.status, 400);
  });
});

Deno.test("errors carry Composio's body: message, code, slug, status, request_id, suggested_fix", async () => {
  await withSandbox(async (sb, call) => {
    const shape = (r: Reply, status: number) => {
      assert.equal(r.status, status);
      const e = r.body.error;
      assert.equal(typeof e.message, "string");
      assert.equal(e.code, status);
      assert.equal(e.status, status);
      assert.equal(typeof e.slug, "string");
      assert.match(e.request_id, /^req_sandbox_\d+$/);
      return e;
    };
    assert.match(
      shape(await call("GET", "/api/v3.1/tools", { key: null }), 401).suggested_fix,
      /x-api-key/,
    );
    assert.ok(shape(await execute(call, "v3.1", "GITHUB_NOPE"), 404).suggested_fix);
    const bad = await call("POST", "/api/v3.1/tools/execute/GITHUB_LIST_ISSUES", {
      body: { arguments: [1] },
    });
    assert.match(shape(bad, 400).suggested_fix, /arguments/);
    sb.addFault({ status: 422, message: "owner is required", suggested_fix: "Pass owner." });
    const e = shape(await execute(call, "v3.1", "GITHUB_LIST_ISSUES"), 422);
    assert.deepEqual([e.message, e.slug, e.suggested_fix], [
      "owner is required",
      "UnprocessableEntity",
      "Pass owner.",
    ]);
    const ids = new Set([bad.body.error.request_id, e.request_id]);
    assert.equal(ids.size, 2, "each error has its own request id");
  });
});

Deno.test("429 faults carry Retry-After and the rate-limit headers", async () => {
  await withSandbox(async (sb, call) => {
    sb.addFault({ route: "list", status: 429, retry_after: 5, times: 1 });
    const r = await call("GET", "/api/v3.1/tools?toolkit_slug=github");
    assert.equal(r.status, 429);
    assert.equal(r.body.error.status, 429);
    assert.deepEqual(
      ["retry-after", "x-ratelimit", "x-ratelimit-remaining", "x-ratelimit-window-size"].map(
        (h) => r.headers.get(h),
      ),
      ["5", "20000", "0", "600s"],
    );
    sb.addFault({ status: 429, times: 1 });
    const bare = await execute(call, "v3.1", "GITHUB_LIST_ISSUES");
    assert.equal(bare.headers.get("retry-after"), null, "only when the fault sets one");
    assert.equal(bare.headers.get("x-ratelimit-remaining"), "0");
    // Other statuses carry no rate-limit headers.
    sb.addFault({ status: 503, times: 1 });
    assert.equal(
      (await execute(call, "v3.1", "GITHUB_LIST_ISSUES")).headers.get("x-ratelimit"),
      null,
    );
  });
});

Deno.test("rate limit: a rolling window over every API route, 429 with Retry-After past it", async () => {
  await withSandbox(async (sb, call) => {
    assert.equal((await call("GET", "/api/v3.1/toolkits")).headers.get("x-ratelimit"), null);
    const set = await call("PUT", "/_sandbox/rate-limit", {
      body: { limit: 3, window_seconds: 60 },
    });
    assert.equal(set.status, 200);
    const seen: (string | null)[][] = [];
    for (
      const path of ["/api/v3.1/toolkits", "/api/v3.1/tools", "/api/v3/tools/GITHUB_GET_ISSUE"]
    ) {
      const r = await call("GET", path);
      assert.equal(r.status, 200);
      seen.push(
        ["x-ratelimit", "x-ratelimit-remaining", "x-ratelimit-window-size"].map((h) =>
          r.headers.get(h)
        ),
      );
    }
    assert.deepEqual(seen, [["3", "2", "60s"], ["3", "1", "60s"], ["3", "0", "60s"]]);
    const over = await execute(call, "v3.1", "GITHUB_LIST_ISSUES", {}, "env-over");
    assert.equal(over.status, 429);
    assert.equal(over.body.error.status, 429);
    const wait = Number(over.headers.get("retry-after"));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.equal(over.headers.get("x-ratelimit-remaining"), "0");
    assert.equal(sb.executions().total, 0, "refused at the door, like a bad key");
    // Unauthenticated calls do not use the organisation's budget.
    assert.equal((await call("GET", "/api/v3.1/tools", { key: null })).status, 401);

    assert.equal((await call("PUT", "/_sandbox/rate-limit", { body: { limit: 0 } })).status, 400);
    await call("DELETE", "/_sandbox/rate-limit");
    const free = await call("GET", "/api/v3.1/toolkits");
    assert.equal(free.status, 200);
    assert.equal(free.headers.get("x-ratelimit"), null);
    sb.setRateLimit({ limit: 1, window_seconds: 1 });
    sb.reset();
    assert.equal((await call("GET", "/api/v3.1/toolkits")).headers.get("x-ratelimit"), null);
  });
});

Deno.test("RollingWindow admits `limit` per window and says when the oldest request leaves", () => {
  const w = new RollingWindow({ limit: 2, window_seconds: 10 });
  assert.deepEqual(w.take(0), { admitted: true, remaining: 1, retryAfterSeconds: 0 });
  assert.deepEqual(w.take(3_000), { admitted: true, remaining: 0, retryAfterSeconds: 0 });
  assert.deepEqual(w.take(4_500), { admitted: false, remaining: 0, retryAfterSeconds: 6 });
  // The first request rolls out at 10 s; the second at 13 s.
  assert.equal(w.take(10_000).admitted, true);
  assert.deepEqual(w.take(12_999), { admitted: false, remaining: 0, retryAfterSeconds: 1 });
  assert.deepEqual(w.take(13_000), { admitted: true, remaining: 0, retryAfterSeconds: 0 });
});

Deno.test("deprecation: a tool marked deprecated is listed with is_deprecated when asked for", async () => {
  await withSandbox(async (sb, call) => {
    const slugs = async (q: string) =>
      (await call("GET", `/api/v3.1/tools?toolkit_slug=github&limit=100${q}`)).body.items
        .map((t: any) => t.slug);
    const mark = (is_deprecated: unknown, slug = "GITHUB_CREATE_ISSUE") =>
      call("PATCH", `/_sandbox/catalog/github/${slug}`, { body: { is_deprecated } });
    assert.deepEqual((await mark(true)).body, {
      toolkit: "github",
      slug: "GITHUB_CREATE_ISSUE",
      is_deprecated: true,
    });
    assert.ok(!(await slugs("")).includes("GITHUB_CREATE_ISSUE"), "hidden by default");
    const all = await call(
      "GET",
      "/api/v3.1/tools?toolkit_slug=github&limit=100&include_deprecated=true",
    );
    const t = all.body.items.find((i: any) => i.slug === "GITHUB_CREATE_ISSUE");
    assert.equal(t.is_deprecated, true);
    assert.equal(t.deprecated.is_deprecated, true);
    assert.equal(
      (await call("GET", "/api/v3.1/tools/GITHUB_CREATE_ISSUE")).body.is_deprecated,
      true,
    );

    assert.equal((await mark("yes")).status, 400);
    assert.equal((await mark(true, "GITHUB_NOPE")).status, 404);
    await mark(false);
    assert.ok((await slugs("")).includes("GITHUB_CREATE_ISSUE"), "live again");
    assert.equal(sb.setDeprecated("github", "github_list_issues", true), true);
    sb.reset();
    assert.ok((await slugs("")).includes("GITHUB_LIST_ISSUES"), "reset restores the fixtures");
  });
});
