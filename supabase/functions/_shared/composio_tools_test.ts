// The catalog client against its own Composio sandbox (stack/composio_sandbox.ts), so these
// tests need no stack and leave the shared sandbox alone.
import assert from "node:assert/strict";
import fc from "fast-check";
import { type ComposioSandbox, startComposioSandbox } from "../../../stack/composio_sandbox.ts";
import { type ComposioConfig, ComposioError, type ComposioResponse } from "./composio.ts";
import {
  type ComposioTool,
  composioToolSchema,
  parseTool,
  parseToolFast,
} from "./composio_tool.ts";
import {
  getTool,
  listAllTools,
  listToolkits,
  listToolPages,
  nextCursor,
  rateLimitWait,
  type RetryOptions,
} from "./composio_tools.ts";

async function withSandbox(fn: (sb: ComposioSandbox, config: ComposioConfig) => Promise<void>) {
  const sb = await startComposioSandbox({ port: 0 });
  try {
    await fn(sb, { baseUrl: sb.url, apiKey: sb.apiKey, timeoutMs: 5_000 });
  } finally {
    await sb.close();
  }
}

/** Retry options that record waits instead of sleeping. */
function recordingRetry(extra: RetryOptions = {}): RetryOptions & { waits: number[] } {
  const waits: number[] = [];
  return { ...extra, waits, sleep: (ms) => (waits.push(ms), Promise.resolve()) };
}

Deno.test("listToolPages follows next_cursor across many pages", async () => {
  await withSandbox(async (sb, config) => {
    sb.generateCatalog({ toolkit: "pager", count: 2345, seed: 11 });
    const slugs: string[] = [];
    let pages = 0;
    for await (const page of listToolPages(config, { toolkit: "pager", limit: 100 })) {
      pages++;
      assert.equal(page.page, pages);
      assert.equal(page.errors.length, 0);
      slugs.push(...page.tools.map((t) => t.slug));
    }
    assert.equal(pages, 24);
    assert.equal(slugs.length, 2345);
    assert.equal(new Set(slugs).size, 2345, "no tool twice");
  });
});

Deno.test("the toolkit version is pinned after the first page", async () => {
  await withSandbox(async (sb, config) => {
    sb.generateCatalog({ toolkit: "pinned", count: 50 });
    const first = sb.setToolkitVersions("pinned", { version: "20250101_00" });
    const versions: (string | null)[] = [];
    for await (const page of listToolPages(config, { toolkit: "pinned", limit: 10 })) {
      versions.push(...page.tools.map((t) => t.version));
      // Composio releases a new version in the middle of the listing.
      if (page.page === 1) sb.setToolkitVersions("pinned", { version: "20260101_00" });
    }
    assert.equal(first.version, "20250101_00");
    assert.equal(versions.length, 50);
    assert.deepEqual([...new Set(versions)], ["20250101_00"]);
    const again = await listAllTools(config, { toolkit: "pinned", limit: 10 });
    assert.equal(again.version, "20260101_00");
  });
});

Deno.test("429 with Retry-After, then success", async () => {
  await withSandbox(async (sb, config) => {
    sb.generateCatalog({ toolkit: "busy", count: 30 });
    sb.addFault({ route: "list", status: 429, retry_after: 7, times: 2 });
    const retry = recordingRetry();
    const { tools } = await listAllTools(config, { toolkit: "busy", retry });
    assert.equal(tools.length, 30);
    assert.equal(retry.waits.length, 2);
    assert.ok(retry.waits.every((w) => w >= 7000), `waited ${retry.waits} ms`);
    assert.deepEqual(sb.faults(), []);
  });
});

Deno.test("retries stop at the attempt limit and at the deadline; 4xx is not retried", async () => {
  await withSandbox(async (sb, config) => {
    sb.addFault({ route: "list", status: 503, times: 10 });
    const retry = recordingRetry({ attempts: 3 });
    await assert.rejects(listAllTools(config, { toolkit: "github", retry }), (err) => {
      assert.ok(err instanceof ComposioError);
      assert.equal(err.status, 503);
      return true;
    });
    assert.equal(retry.waits.length, 2);
    assert.equal(sb.faults()[0].remaining, 7);

    sb.clearFaults();
    sb.addFault({ route: "list", status: 429, retry_after: 60, times: 1 });
    const short = recordingRetry({ deadline: Date.now() + 1_000 });
    await assert.rejects(listAllTools(config, { toolkit: "github", retry: short }), /429/);
    assert.equal(short.waits.length, 0, "a wait past the deadline is not started");

    const bad = recordingRetry();
    await assert.rejects(
      listAllTools({ ...config, apiKey: "wrong" }, { toolkit: "github", retry: bad }),
      (err) => err instanceof ComposioError && err.status === 401,
    );
    assert.equal(bad.waits.length, 0);
  });
});

Deno.test("a malformed tool becomes an error for that tool; its page is kept", async () => {
  await withSandbox(async (sb, config) => {
    sb.addRawTools("slack", [{ slug: "SLACK_BROKEN", name: 42 }, "not a tool"]);
    const { tools, errors } = await listAllTools(config, { toolkit: "slack", limit: 5 });
    assert.equal(tools.length, 7);
    assert.deepEqual(errors.map((e) => [e.index, e.slug]), [[7, "SLACK_BROKEN"], [8, null]]);
    assert.match(errors[0].message, /name/);
  });
});

Deno.test("parseTool fills Composio's optional fields", () => {
  const t = parseTool({
    slug: "X_GET_Y",
    name: "Get Y",
    description: null,
    toolkit: { slug: "x", name: "X" },
    input_parameters: {},
    version: "1",
    extra: true,
  }, 0);
  assert.ok(!("message" in t));
  assert.deepEqual({ ...t }, {
    slug: "X_GET_Y",
    name: "Get Y",
    description: "",
    toolkit: { slug: "x" },
    input_parameters: {},
    output_parameters: {},
    tags: [],
    scopes: [],
    version: "1",
    available_versions: [],
    is_deprecated: false,
  });
});

Deno.test("parseTool: is_deprecated or the deprecated object marks a tool deprecated", () => {
  const base = {
    slug: "X_GET_Y",
    name: "Get Y",
    toolkit: { slug: "x" },
    input_parameters: {},
    version: "20260101_00",
  };
  const deprecated = (extra: object) =>
    (parseTool({ ...base, ...extra }, 0) as ComposioTool).is_deprecated;
  assert.equal(deprecated({}), false);
  assert.equal(deprecated({ is_deprecated: true }), true);
  assert.equal(deprecated({ is_deprecated: false, deprecated: { is_deprecated: true } }), true);
  assert.equal(deprecated({ is_deprecated: false, deprecated: { is_deprecated: false } }), false);
  // Read leniently: an odd deprecated object never makes the tool unreadable.
  assert.equal(deprecated({ deprecated: "soon" }), false);
  assert.ok(!("deprecated" in parseTool({ ...base, deprecated: {} }, 0)), "not kept");
});

Deno.test("parseToolFast accepts only what zod accepts, with zod's output", () => {
  // Items near the schema's edges: every field present, missing, null, of another type.
  // Mostly valid, so that many whole items are; now and then missing, null or anything.
  const field = <T>(arb: fc.Arbitrary<T>) =>
    fc.oneof(
      { arbitrary: arb, weight: 30 },
      { arbitrary: fc.constant(undefined), weight: 1 },
      { arbitrary: fc.constant(null), weight: 1 },
      { arbitrary: fc.anything(), weight: 1 },
    );
  const strings = fc.array(
    fc.oneof({ arbitrary: fc.string(), weight: 30 }, { arbitrary: fc.anything(), weight: 1 }),
    { maxLength: 3 },
  );
  const item = fc.record({
    slug: field(fc.string({ maxLength: 3 })),
    name: field(fc.string()),
    description: field(fc.string()),
    toolkit: field(fc.record({ slug: field(fc.string({ maxLength: 2 })) })),
    input_parameters: field(fc.dictionary(fc.string(), fc.jsonValue())),
    output_parameters: field(
      fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.nat())),
    ),
    tags: field(strings),
    scopes: field(strings),
    version: field(fc.string({ maxLength: 2 })),
    available_versions: field(strings),
    is_deprecated: field(fc.boolean()),
    deprecated: field(fc.record({ is_deprecated: field(fc.boolean()), version: fc.string() })),
    extra: field(fc.string()),
  }, { requiredKeys: ["slug", "name", "toolkit", "input_parameters", "version"] });
  let accepted = 0;
  fc.assert(
    fc.property(fc.oneof({ arbitrary: item, weight: 4 }, fc.anything()), (v) => {
      const fast = parseToolFast(v);
      if (fast === null) return;
      accepted++;
      const zod = composioToolSchema.safeParse(v);
      assert.ok(zod.success, "zod accepts what the fast path accepts");
      assert.deepEqual(fast, zod.data);
    }),
    { numRuns: 2000 },
  );
  assert.ok(accepted > 50, `only ${accepted} items took the fast path`);
  // The common case does take the fast path.
  const tool = {
    slug: "X_GET_Y",
    name: "Get Y",
    toolkit: { slug: "x" },
    input_parameters: { type: "object" },
    version: "1",
    tags: ["readOnlyHint"],
  };
  assert.deepEqual(parseToolFast(tool), composioToolSchema.parse(tool));
});

Deno.test("rateLimitWait waits out an exhausted window only when Composio says how long", () => {
  const res = (rateLimit: Partial<ComposioResponse<unknown>["rateLimit"]>) =>
    ({
      rateLimit: {
        limit: 100,
        remaining: null,
        windowSeconds: 600,
        retryAfterMs: null,
        ...rateLimit,
      },
    }) as ComposioResponse<unknown>;
  assert.equal(rateLimitWait(res({ remaining: 3, retryAfterMs: 10_000 })), 0);
  assert.equal(rateLimitWait(res({ remaining: 0, retryAfterMs: 2_000 })), 2_000);
  // A rolling window names no reset: the next call's 429 will say when.
  assert.equal(rateLimitWait(res({ remaining: 0 })), 0);
  assert.equal(rateLimitWait(res({})), 0);
});

Deno.test("nextCursor: the cursor, total_pages and current_page decide; a short listing is an error", () => {
  const page = (
    next_cursor: string | null,
    total_pages: number | null,
    current_page: number | null,
  ) => ({
    next_cursor,
    total_pages,
    current_page,
  });
  assert.deepEqual(nextCursor(page("c2", 3, 1), 1), { next: "c2" });
  assert.deepEqual(nextCursor(page(null, 3, 3), 3), { next: null });
  // A cursor on the last page is not followed.
  assert.deepEqual(nextCursor(page("c4", 3, 3), 3), { next: null });
  assert.deepEqual(nextCursor(page(null, 0, 1), 1), { next: null }, "an empty listing");
  // No counts: the cursor alone.
  assert.deepEqual(nextCursor(page("c2", null, null), 1), { next: "c2" });
  assert.deepEqual(nextCursor(page(null, null, null), 1), { next: null });
  // No current_page (the toolkit list): our own count stands in.
  assert.deepEqual(nextCursor(page(null, 2, null), 2), { next: null });
  assert.deepEqual(nextCursor(page(null, 3, 1), 1), { truncated: "no next_cursor on page 1 of 3" });
  assert.deepEqual(nextCursor(page(null, 2, null), 1), {
    truncated: "no next_cursor on page 1 of 2",
  });
});

Deno.test("a listing stops on its last page, with a null, absent or trailing cursor; a cut one fails", async () => {
  const tool = (i: number) => ({
    slug: `K_GET_${i}`,
    name: `Get ${i}`,
    toolkit: { slug: "k" },
    input_parameters: {},
    version: "20260101_00",
  });
  // Each scenario answers pages of one tool each, with whatever the scenario leaves out.
  const scenarios: Record<string, (page: number) => Record<string, unknown>> = {
    absent: (p) => ({
      items: [tool(p)],
      total_pages: 3,
      current_page: p,
      ...(p < 3 ? { next_cursor: `c${p + 1}` } : {}),
    }),
    trailing: (p) => ({
      items: [tool(p)],
      total_pages: 3,
      current_page: p,
      next_cursor: `c${p + 1}`,
    }),
    cut: (p) => ({
      items: [tool(p)],
      total_pages: 3,
      current_page: p,
      next_cursor: p < 2 ? "c2" : null,
    }),
  };
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    requests++;
    const url = new URL(req.url);
    const cursor = url.searchParams.get("cursor");
    const page = cursor ? Number(cursor.slice(1)) : 1;
    return Response.json(scenarios[url.searchParams.get("toolkit_slug")!](page));
  });
  const config = {
    baseUrl: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    apiKey: "k",
    timeoutMs: 2_000,
  };
  try {
    for (const kit of ["absent", "trailing"]) {
      requests = 0;
      const all = await listAllTools(config, { toolkit: kit });
      assert.deepEqual(all.tools.map((t) => t.slug), ["K_GET_1", "K_GET_2", "K_GET_3"], kit);
      assert.equal(requests, 3, `${kit}: the last page ends it`);
    }
    await assert.rejects(listAllTools(config, { toolkit: "cut" }), (err) => {
      assert.ok(err instanceof ComposioError);
      assert.match(err.message, /cut short \(no next_cursor on page 2 of 3\)/);
      return true;
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("the client lists deprecated tools too, flagged, and only through v3.1", async () => {
  await withSandbox(async (sb, config) => {
    assert.equal(sb.setDeprecated("github", "GITHUB_CREATE_ISSUE", true), true);
    const { tools } = await listAllTools(config, { toolkit: "github", limit: 3 });
    const flagged = tools.filter((t) => t.is_deprecated).map((t) => t.slug);
    assert.deepEqual(flagged, ["GITHUB_CREATE_ISSUE"]);
    assert.ok(tools.length > 1);
    assert.equal((await getTool(config, "GITHUB_CREATE_ISSUE")).is_deprecated, true);
    await listToolkits(config);
    const paths = Object.keys(sb.requests());
    assert.ok(paths.length >= 3);
    assert.ok(paths.every((p) => p.includes(" /api/v3.1/")), paths.join(", "));
  });
});

Deno.test("a listing over Composio's rate limit waits out Retry-After and goes on", async () => {
  await withSandbox(async (sb, config) => {
    sb.generateCatalog({ toolkit: "limited", count: 5 });
    sb.setRateLimit({ limit: 3, window_seconds: 1 });
    const retries: { status: number | null; delay: number; remaining: number | null }[] = [];
    const { tools, pages } = await listAllTools(config, {
      toolkit: "limited",
      limit: 1,
      retry: {
        onRetry: (err, delay) =>
          retries.push({ status: err.status, delay, remaining: err.rateLimit?.remaining ?? null }),
      },
    });
    assert.equal(tools.length, 5);
    assert.equal(pages, 5);
    assert.ok(retries.length >= 1);
    for (const r of retries) {
      assert.equal(r.status, 429);
      assert.equal(r.remaining, 0);
      assert.ok(r.delay >= 1_000, `waited ${r.delay} ms, Retry-After is 1 s`);
    }
  });
});

Deno.test("getTool and listToolkits", async () => {
  await withSandbox(async (_sb, config) => {
    const tool = await getTool(config, "GITHUB_LIST_ISSUES");
    assert.equal(tool.toolkit.slug, "github");
    assert.ok(tool.tags.includes("readOnlyHint"));
    await assert.rejects(
      getTool(config, "NOPE_NOTHING"),
      (e) => (e as ComposioError).status === 404,
    );
    const kits = await listToolkits(config);
    assert.deepEqual(kits.map((k) => k.slug).sort(), ["github", "gmail", "slack"]);
  });
});
