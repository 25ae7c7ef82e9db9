// deno-lint-ignore-file no-explicit-any -- wire JSON is asserted field by field
import assert from "node:assert/strict";
import {
  type ComposioSandbox,
  DEFAULT_API_KEY,
  type Fault,
  generateTools,
  matchFault,
  parseToolkitVersions,
  startComposioSandbox,
} from "./composio_sandbox.ts";

// ---------------------------------------------------------------------------------------------
// Helpers: every test gets its own sandbox on an ephemeral port and always closes it.

async function withSandbox(fn: (sb: ComposioSandbox, c: Client) => Promise<void>) {
  const sb = await startComposioSandbox({ port: 0 });
  try {
    await fn(sb, client(sb));
  } finally {
    await sb.close();
  }
}

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

type Client = ReturnType<typeof client>;

function client(sb: ComposioSandbox) {
  const call = async (
    method: string,
    path: string,
    opts: { body?: unknown; raw?: string; headers?: Record<string, string>; key?: string | null } =
      {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = { ...opts.headers };
    const key = opts.key === undefined ? sb.apiKey : opts.key;
    if (key !== null) headers["x-api-key"] = key;
    let payload: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers["content-type"] = "application/json";
    }
    const res = await fetch(`${sb.url}${path}`, { method, headers, body: payload });
    const text = await res.text(); // always drain, or the sanitizer flags the open body
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };
  return {
    call,
    list: (query = "") => call("GET", `/api/v3.1/tools${query}`),
    execute: (slug: string, args: unknown, envelope?: string, extra: object = {}) =>
      call("POST", `/api/v3.1/tools/execute/${slug}`, {
        body: { arguments: args, user_id: "user_1", ...extra },
        headers: envelope ? { "x-envelope-id": envelope } : {},
      }),
    fault: (spec: object) => call("POST", "/_sandbox/faults", { body: spec, key: null }),
    executions: () => call("GET", "/_sandbox/executions", { key: null }),
  };
}

// ---------------------------------------------------------------------------------------------
// Catalog

Deno.test("paging: 250 generated tools, limit 50, follow next_cursor to the end", async () => {
  await withSandbox(async (_sb, c) => {
    const gen = await c.call("POST", "/_sandbox/catalog/generate", {
      body: { toolkit: "benchkit", count: 250, seed: 7 },
      key: null,
    });
    assert.equal(gen.status, 200);
    assert.equal(gen.body.count, 250);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `?toolkit_slug=benchkit&limit=50${
        cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""
      }`;
      const r = await c.list(q);
      assert.equal(r.status, 200);
      pages++;
      assert.equal(r.body.current_page, pages);
      assert.equal(r.body.total_pages, 5);
      assert.equal(r.body.total_items, 250);
      assert.equal(r.body.items.length, 50);
      seen.push(...r.body.items.map((t: { slug: string }) => t.slug));
      cursor = r.body.next_cursor;
    } while (cursor);
    assert.equal(pages, 5);
    assert.equal(seen.length, 250);
    assert.equal(new Set(seen).size, 250, "no duplicates across pages");
    assert.ok(seen.every((s) => s.startsWith("BENCHKIT_")));
  });
});

Deno.test("list: default limit, clamping, bad limit and bad cursor", async () => {
  await withSandbox(async (sb, c) => {
    sb.generateCatalog({ toolkit: "big", count: 1500 });
    const first = await c.list("?toolkit_slug=big");
    assert.equal(first.body.items.length, 20);
    assert.equal(typeof first.body.next_cursor, "string");
    const clamped = await c.list("?toolkit_slug=big&limit=5000");
    assert.equal(clamped.body.items.length, 1000);
    assert.equal(clamped.body.total_pages, 2);
    assert.equal((await c.list("?limit=0")).status, 400);
    assert.equal((await c.list("?limit=abc")).status, 400);
    const bad = await c.list("?cursor=not-a-cursor");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.status, 400);
  });
});

Deno.test("list: toolkit filter, multiple toolkits, tool_slugs, tags", async () => {
  await withSandbox(async (_sb, c) => {
    const gh = await c.list("?toolkit_slug=github&limit=100");
    assert.ok(gh.body.items.length >= 5);
    assert.ok(gh.body.items.every((t: any) => t.toolkit.slug === "github"));
    assert.equal(gh.body.next_cursor, null);

    const two = await c.list("?toolkit_slug=github,slack&limit=100");
    const kits = new Set(two.body.items.map((t: any) => t.toolkit.slug));
    assert.deepEqual([...kits].sort(), ["github", "slack"]);

    const picked = await c.list("?tool_slugs=GMAIL_SEND_EMAIL,slack_send_message");
    assert.deepEqual(
      picked.body.items.map((t: any) => t.slug).sort(),
      ["GMAIL_SEND_EMAIL", "SLACK_SEND_MESSAGE"],
    );

    const ro = await c.list("?toolkit_slug=gmail&tags=readOnlyHint");
    assert.ok(ro.body.items.length > 0);
    assert.ok(ro.body.items.every((t: any) => t.tags.includes("readOnlyHint")));

    const none = await c.list("?toolkit_slug=nope");
    assert.deepEqual(
      { ...none.body, items: none.body.items.length },
      { items: 0, next_cursor: null, total_pages: 0, current_page: 1, total_items: 0 },
    );
  });
});

Deno.test("list and get: tool objects carry Composio's fields", async () => {
  await withSandbox(async (_sb, c) => {
    const r = await c.call("GET", "/api/v3.1/tools/GITHUB_CREATE_ISSUE");
    assert.equal(r.status, 200);
    const t = r.body;
    for (
      const key of [
        "slug",
        "name",
        "description",
        "toolkit",
        "input_parameters",
        "output_parameters",
        "tags",
        "scopes",
        "no_auth",
        "version",
        "available_versions",
        "is_deprecated",
        "deprecated",
      ]
    ) assert.ok(key in t, `missing ${key}`);
    assert.deepEqual(Object.keys(t.toolkit).sort(), ["logo", "name", "slug"]);
    assert.equal(t.toolkit.slug, "github");
    assert.equal(t.input_parameters.type, "object");
    assert.ok(t.input_parameters.required.includes("title"));
    assert.equal(t.version, "20250909_00");
    assert.ok(t.available_versions.includes("20250909_00"));

    // Lower-case slugs resolve, like the real API's case-insensitive lookups.
    assert.equal((await c.call("GET", "/api/v3.1/tools/github_create_issue")).status, 200);
    // v3 is served too.
    assert.equal((await c.call("GET", "/api/v3/tools/GITHUB_CREATE_ISSUE")).status, 200);

    const missing = await c.call("GET", "/api/v3.1/tools/GITHUB_NOPE");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.status, 404);
    assert.equal(typeof missing.body.error.message, "string");
  });
});

Deno.test("toolkit_versions is echoed on each tool, in every accepted form", async () => {
  await withSandbox(async (_sb, c) => {
    const versionsOf = async (q: string) => {
      const r = await c.list(`?toolkit_slug=github,slack&limit=100&${q}`);
      return Object.fromEntries(r.body.items.map((t: any) => [t.toolkit.slug, t.version]));
    };
    assert.deepEqual(await versionsOf(""), { github: "20250909_00", slack: "20251016_00" });
    assert.deepEqual(await versionsOf("toolkit_versions=latest"), {
      github: "20250909_00",
      slack: "20251016_00",
    });
    const json = encodeURIComponent(JSON.stringify({ github: "20250827_00" }));
    assert.deepEqual(await versionsOf(`toolkit_versions=${json}`), {
      github: "20250827_00",
      slack: "20251016_00",
    });
    assert.deepEqual(await versionsOf("toolkit_versions=github:20250827_00,slack:latest"), {
      github: "20250827_00",
      slack: "20251016_00",
    });
    assert.deepEqual(await versionsOf("toolkit_versions%5Bslack%5D=20250925_00"), {
      github: "20250909_00",
      slack: "20250925_00",
    });
    const one = await c.call("GET", "/api/v3.1/tools/SLACK_SEND_MESSAGE?version=20250925_00");
    assert.equal(one.body.version, "20250925_00");
    assert.equal(one.body.deprecated.version, "20250925_00");
  });
});

Deno.test("toolkits list has Composio's shape", async () => {
  await withSandbox(async (_sb, c) => {
    const r = await c.call("GET", "/api/v3.1/toolkits");
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ["items", "next_cursor", "total_pages"]);
    const slugs = r.body.items.map((k: any) => k.slug);
    assert.deepEqual(slugs, ["github", "gmail", "slack"]);
    const gh = r.body.items[0];
    assert.equal(gh.is_local_toolkit, false);
    assert.ok(gh.meta.tools_count >= 5);
    assert.equal(typeof gh.meta.logo, "string");
    assert.ok(Array.isArray(gh.meta.categories));
    const paged = await c.call("GET", "/api/v3.1/toolkits?limit=2");
    assert.equal(paged.body.items.length, 2);
    assert.equal(paged.body.total_pages, 2);
    const rest = await c.call(
      "GET",
      `/api/v3.1/toolkits?cursor=${encodeURIComponent(paged.body.next_cursor)}`,
    );
    assert.deepEqual(rest.body.items.map((k: any) => k.slug), ["slack"]);
    const comms = await c.call("GET", "/api/v3.1/toolkits?category=communication");
    assert.deepEqual(comms.body.items.map((k: any) => k.slug), ["gmail", "slack"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Auth and routing

Deno.test("api key is required on /api routes, not on /_sandbox routes", async () => {
  await withSandbox(async (sb, c) => {
    assert.equal(sb.apiKey, DEFAULT_API_KEY);
    const none = await c.list("");
    assert.equal(none.status, 200);
    for (const key of [null, "wrong-key"]) {
      const r = await c.call("GET", "/api/v3.1/tools", { key });
      assert.equal(r.status, 401);
      assert.equal(r.body.error.status, 401);
      assert.equal(r.body.error.code, 401);
      assert.equal(typeof r.body.error.slug, "string");
    }
    const ex = await c.call("POST", "/api/v3.1/tools/execute/GMAIL_SEND_EMAIL", {
      body: { arguments: {} },
      key: null,
      headers: { "x-envelope-id": "env-noauth" },
    });
    assert.equal(ex.status, 401);
    // Rejected at the door: it never reached the execute handler, so it is not counted.
    assert.equal((await c.executions()).body.total, 0);
    assert.equal((await c.call("GET", "/_sandbox/executions", { key: null })).status, 200);
  });
});

Deno.test("custom api key and unknown routes", async () => {
  const sb = await startComposioSandbox({ apiKey: "k-123" });
  try {
    const c = client(sb);
    assert.equal((await c.list("")).status, 200);
    assert.equal((await c.call("GET", "/api/v3.1/tools", { key: DEFAULT_API_KEY })).status, 401);
    const nf = await c.call("GET", "/api/v3.1/nothing-here");
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.status, 404);
    assert.equal((await c.call("GET", "/elsewhere", { key: null })).status, 404);
    assert.equal((await c.call("DELETE", "/api/v3.1/tools")).status, 404);
  } finally {
    await sb.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Execute

Deno.test("execute: success envelope, deterministic echo, counts by envelope id", async () => {
  await withSandbox(async (_sb, c) => {
    const r = await c.execute(
      "GMAIL_SEND_EMAIL",
      { recipient_email: "a@b.c", body: "hi" },
      "env-1",
      {
        connected_account_id: "ca_1",
        version: "20251027_00",
      },
    );
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      data: { ok: true, tool: "GMAIL_SEND_EMAIL", arguments_keys: ["body", "recipient_email"] },
      error: null,
      successful: true,
      log_id: "log_sandbox_000001",
    });
    await c.execute("GMAIL_SEND_EMAIL", {}, "env-1");
    await c.execute("SLACK_SEND_MESSAGE", { channel: "C1", text: "x" }, "env-2");
    await c.execute("SLACK_SEND_MESSAGE", { channel: "C1", text: "x" }); // no envelope id

    const ex = (await c.executions()).body;
    assert.deepEqual(ex.by_envelope, { "env-1": 2, "env-2": 1 });
    assert.equal(ex.total, 4);
    assert.equal(ex.log[0].slug, "GMAIL_SEND_EMAIL");
    assert.equal(ex.log[0].status, 200);
    assert.equal(ex.log[0].successful, true);
    assert.equal(ex.log[0].connected_account_id, "ca_1");
    assert.equal(ex.log[0].user_id, "user_1");
    assert.equal(ex.log[0].version, "20251027_00");
    assert.deepEqual(ex.log[0].arguments, { recipient_email: "a@b.c", body: "hi" });
    assert.equal(ex.log[3].envelope_id, null);
  });
});

Deno.test("execute: configured result, bad bodies and unknown tools are answered and counted", async () => {
  await withSandbox(async (_sb, c) => {
    const set = await c.call("PUT", "/_sandbox/execute-result/GITHUB_LIST_ISSUES", {
      body: { issues: [{ number: 1, title: "Bug" }] },
      key: null,
    });
    assert.equal(set.status, 200);
    const r = await c.execute("GITHUB_LIST_ISSUES", { owner: "o", repo: "r" }, "env-a");
    assert.deepEqual(r.body.data, { issues: [{ number: 1, title: "Bug" }] });

    const notJson = await c.call("POST", "/api/v3.1/tools/execute/GITHUB_LIST_ISSUES", {
      raw: "{not json",
      headers: { "x-envelope-id": "env-b" },
    });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error.status, 400);
    const noArgs = await c.call("POST", "/api/v3.1/tools/execute/GITHUB_LIST_ISSUES", {
      body: { user_id: "u" },
      headers: { "x-envelope-id": "env-b" },
    });
    assert.equal(noArgs.status, 400);
    const arrayArgs = await c.execute("GITHUB_LIST_ISSUES", [1, 2], "env-b");
    assert.equal(arrayArgs.status, 400);
    const unknown = await c.execute("GITHUB_NOPE", {}, "env-c");
    assert.equal(unknown.status, 404);

    const ex = (await c.executions()).body;
    assert.deepEqual(ex.by_envelope, { "env-a": 1, "env-b": 3, "env-c": 1 });
    assert.deepEqual(ex.log.map((e: any) => e.status), [200, 400, 400, 400, 404]);
  });
});

// ---------------------------------------------------------------------------------------------
// Faults

Deno.test("faults: 409, 429 with Retry-After, 500 and 503 use Composio's error body", async () => {
  await withSandbox(async (_sb, c) => {
    const cases = [
      { slug: "SLACK_SEND_MESSAGE", status: 409 },
      { slug: "SLACK_LIST_CHANNELS", status: 429, retry_after: 7 },
      { slug: "GITHUB_CREATE_ISSUE", status: 500 },
      { slug: "GMAIL_SEND_EMAIL", status: 503, retry_after: 2, message: "maintenance" },
    ];
    for (const spec of cases) {
      assert.equal((await c.fault(spec)).status, 201);
      const r = await c.execute(spec.slug, {}, `env-${spec.status}`);
      assert.equal(r.status, spec.status);
      assert.equal(r.body.error.status, spec.status);
      assert.equal(r.headers.get("retry-after"), spec.retry_after?.toString() ?? null);
    }
    const r503 = await c.execute("GMAIL_SEND_EMAIL", {}, "env-x");
    assert.equal(r503.status, 503, "no times = unlimited");
    assert.equal(r503.body.error.message, "maintenance");

    const ex = (await c.executions()).body;
    assert.deepEqual(ex.by_envelope, {
      "env-409": 1,
      "env-429": 1,
      "env-500": 1,
      "env-503": 1,
      "env-x": 1,
    });
    assert.deepEqual(ex.log.map((e: any) => e.status), [409, 429, 500, 503, 503]);
  });
});

Deno.test("faults: successful:false, custom body, delay", async () => {
  await withSandbox(async (_sb, c) => {
    await c.fault({ slug: "GMAIL_SEND_EMAIL", successful_false: true, message: "quota", times: 1 });
    const failed = await c.execute("GMAIL_SEND_EMAIL", {}, "env-f");
    assert.equal(failed.status, 200);
    assert.equal(failed.body.successful, false);
    assert.equal(failed.body.error, "quota");
    assert.deepEqual(failed.body.data, {});
    assert.match(failed.body.log_id, /^log_/);

    await c.fault({ slug: "GMAIL_SEND_EMAIL", status: 500, body: { detail: "raw" }, times: 1 });
    const custom = await c.execute("GMAIL_SEND_EMAIL", {});
    assert.equal(custom.status, 500);
    assert.deepEqual(custom.body, { detail: "raw" });

    await c.fault({ slug: "SLACK_SEND_MESSAGE", delay_ms: 150, times: 1 });
    const t0 = performance.now();
    const slow = await c.execute("SLACK_SEND_MESSAGE", { channel: "C", text: "t" }, "env-d");
    assert.ok(performance.now() - t0 >= 140, "delayed");
    assert.equal(slow.status, 200);
    assert.equal(slow.body.successful, true);

    const ex = (await c.executions()).body;
    assert.deepEqual(ex.log.map((e: any) => [e.status, e.successful]), [
      [200, false],
      [500, null],
      [200, true],
    ]);
  });
});

Deno.test("faults: times, FIFO order, envelope matching", async () => {
  await withSandbox(async (sb, c) => {
    await c.fault({ slug: "SLACK_SEND_MESSAGE", status: 429, retry_after: 1, times: 2 });
    await c.fault({ slug: "SLACK_SEND_MESSAGE", status: 500, times: 1 });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await c.execute("SLACK_SEND_MESSAGE", {}, "env-retry")).status);
    }
    assert.deepEqual(statuses, [429, 429, 500, 200, 200]);
    assert.equal(sb.faults().length, 0, "spent faults leave the queue");
    assert.equal((await c.executions()).body.by_envelope["env-retry"], 5);

    await c.fault({ envelope_id: "env-target", status: 409 });
    assert.equal((await c.execute("GITHUB_CREATE_ISSUE", {}, "env-other")).status, 200);
    assert.equal((await c.execute("GITHUB_CREATE_ISSUE", {}, "env-target")).status, 409);
    assert.equal((await c.execute("GMAIL_SEND_EMAIL", {}, "env-target")).status, 409);

    const listed = await c.call("GET", "/_sandbox/faults", { key: null });
    assert.equal(listed.body.faults.length, 1);
    assert.equal(listed.body.faults[0].remaining, null);
    await c.call("DELETE", "/_sandbox/faults", { key: null });
    assert.equal((await c.execute("GMAIL_SEND_EMAIL", {}, "env-target")).status, 200);
  });
});

Deno.test("faults: list-route 429 then success; get-route fault by slug", async () => {
  await withSandbox(async (_sb, c) => {
    await c.fault({ route: "list", status: 429, retry_after: 3, times: 1 });
    const limited = await c.list("?toolkit_slug=github");
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "3");
    assert.equal(limited.body.error.status, 429);
    const ok = await c.list("?toolkit_slug=github");
    assert.equal(ok.status, 200);
    assert.ok(ok.body.items.length > 0);

    await c.fault({ route: "get", slug: "GMAIL_SEND_EMAIL", status: 503, times: 1 });
    assert.equal((await c.call("GET", "/api/v3.1/tools/GMAIL_FETCH_EMAILS")).status, 200);
    assert.equal((await c.call("GET", "/api/v3.1/tools/GMAIL_SEND_EMAIL")).status, 503);
    assert.equal((await c.call("GET", "/api/v3.1/tools/GMAIL_SEND_EMAIL")).status, 200);

    await c.fault({ route: "toolkits", status: 500, times: 1 });
    assert.equal((await c.call("GET", "/api/v3.1/toolkits")).status, 500);
    assert.equal((await c.call("GET", "/api/v3.1/toolkits")).status, 200);
    // Catalog faults never touch the execution counts.
    assert.equal((await c.executions()).body.total, 0);
  });
});

Deno.test("faults: invalid specs are rejected", async () => {
  await withSandbox(async (sb, c) => {
    for (
      const spec of [
        {},
        { status: 200 },
        { status: 500, times: 0 },
        { route: "nope", status: 500 },
        { delay_ms: -1 },
        { slug: 5, status: 500 },
        { status: 500, after_apply: "yes" },
        { successful_false: true, after_apply: true },
        { route: "list", status: 500, after_apply: true },
      ]
    ) {
      assert.equal((await c.fault(spec)).status, 400, JSON.stringify(spec));
    }
    assert.equal(
      (await c.call("POST", "/_sandbox/faults", { raw: "nope", key: null })).status,
      400,
    );
    assert.throws(() => sb.addFault({}), TypeError);
    assert.equal(sb.faults().length, 0);
  });
});

Deno.test("faults: after_apply runs the tool, then answers the fault", async () => {
  await withSandbox(async (sb, c) => {
    sb.setIssues({ enabled: true });
    await c.fault({ envelope_id: "env-lost", status: 500, after_apply: true, times: 1 });
    const lost = await c.execute("GITHUB_CREATE_ISSUE", {
      owner: "o",
      repo: "r",
      title: "t",
    }, "env-lost");
    assert.equal(lost.status, 500);
    assert.equal(sb.issues().length, 1, "the issue was created before the 500");
    assert.equal(sb.issues()[0].envelope_id, "env-lost");
    // A fault before applying (the default) leaves nothing behind.
    await c.fault({ envelope_id: "env-refused", status: 500, times: 1 });
    assert.equal(
      (await c.execute("GITHUB_CREATE_ISSUE", { owner: "o", repo: "r" }, "env-refused"))
        .status,
      500,
    );
    assert.equal(sb.issues().length, 1);
    const log = (await c.executions()).body.log;
    assert.deepEqual(log.map((e: any) => [e.status, e.applied, e.log_id !== null]), [
      [500, true, true],
      [500, false, false],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Issue tracker

Deno.test("issues: off by default; on, creates are listed per user and repository", async () => {
  await withSandbox(async (_sb, c) => {
    const echo = await c.execute("GITHUB_CREATE_ISSUE", { owner: "o", repo: "r", title: "a" });
    assert.deepEqual(echo.body.data.arguments_keys, ["owner", "repo", "title"], "off: the echo");
    const on = await c.call("PUT", "/_sandbox/issues", { body: { enabled: true }, key: null });
    assert.deepEqual(on.body, { enabled: true, visibility_delay_ms: 0 });
    const made = await c.execute("GITHUB_CREATE_ISSUE", {
      owner: "o",
      repo: "r",
      title: "a",
      body: "ref: k1",
    }, "env-1");
    assert.equal(made.body.data.number, 1);
    assert.equal(made.body.data.body, "ref: k1");
    assert.equal(made.body.data.html_url, "https://github.com/o/r/issues/1");
    await c.execute("GITHUB_CREATE_ISSUE", { owner: "o", repo: "r", title: "b" }, "env-2");
    await c.execute("GITHUB_CREATE_ISSUE", { owner: "o", repo: "other", title: "c" });
    const listed = await c.execute("GITHUB_LIST_ISSUES", { owner: "o", repo: "r" });
    assert.deepEqual(listed.body.data.issues.map((i: any) => i.title), ["b", "a"], "newest first");
    const paged = await c.execute("GITHUB_LIST_ISSUES", { owner: "o", repo: "r", per_page: 1 });
    assert.deepEqual(paged.body.data.issues.map((i: any) => i.title), ["b"]);
    const otherUser = await c.execute("GITHUB_LIST_ISSUES", { owner: "o", repo: "r" }, undefined, {
      user_id: "user_2",
    });
    assert.deepEqual(otherUser.body.data.issues, [], "another user's listing");
    const all = (await c.call("GET", "/_sandbox/issues", { key: null })).body.issues;
    assert.deepEqual(all.map((i: any) => [i.repo, i.envelope_id]), [
      ["r", "env-1"],
      ["r", "env-2"],
      ["other", null],
    ]);
    const bad = await c.call("PUT", "/_sandbox/issues", {
      body: { visibility_delay_ms: -1 },
      key: null,
    });
    assert.equal(bad.status, 400);
    await c.call("POST", "/_sandbox/reset", { key: null });
    assert.deepEqual((await c.call("GET", "/_sandbox/issues", { key: null })).body.issues, []);
  });
});

Deno.test("issues: a created issue is listed only after the visibility delay", async () => {
  await withSandbox(async (sb, c) => {
    sb.setIssues({ enabled: true, visibility_delay_ms: 300 });
    await c.execute("GITHUB_CREATE_ISSUE", { owner: "o", repo: "r", title: "late" });
    const early = await c.execute("GITHUB_LIST_ISSUES", { owner: "o", repo: "r" });
    assert.deepEqual(early.body.data.issues, [], "not visible yet");
    await new Promise((r) => setTimeout(r, 350));
    const later = await c.execute("GITHUB_LIST_ISSUES", { owner: "o", repo: "r" });
    assert.deepEqual(later.body.data.issues.map((i: any) => i.title), ["late"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Catalog control and reset

Deno.test("catalog: replace, remove, and reset restores fixtures, faults and counts", async () => {
  await withSandbox(async (_sb, c) => {
    const put = await c.call("PUT", "/_sandbox/catalog/github", {
      body: [
        { slug: "GITHUB_ONLY_TOOL", tags: ["readOnlyHint"] },
        { slug: "GITHUB_SECOND", name: "Second", input_parameters: { type: "object" } },
      ],
      key: null,
    });
    assert.equal(put.status, 200);
    const gh = await c.list("?toolkit_slug=github");
    assert.deepEqual(gh.body.items.map((t: any) => t.slug), ["GITHUB_ONLY_TOOL", "GITHUB_SECOND"]);
    assert.equal(gh.body.items[0].toolkit.name, "GitHub", "toolkit metadata kept");
    assert.equal(gh.body.items[0].name, "Github Only Tool", "missing fields filled");
    assert.equal((await c.call("GET", "/api/v3.1/tools/GITHUB_CREATE_ISSUE")).status, 404);

    const del = await c.call("DELETE", "/_sandbox/catalog/github/GITHUB_SECOND", { key: null });
    assert.equal(del.status, 200);
    assert.equal(
      (await c.call("DELETE", "/_sandbox/catalog/github/GITHUB_SECOND", { key: null })).status,
      404,
    );
    assert.equal((await c.list("?toolkit_slug=github")).body.total_items, 1);

    // A new toolkit appears in the toolkit list too.
    await c.call("PUT", "/_sandbox/catalog/linear", { body: [{ slug: "LINEAR_X" }], key: null });
    const kits = await c.call("GET", "/api/v3.1/toolkits");
    assert.ok(kits.body.items.some((k: any) => k.slug === "linear"));

    const bad = await c.call("PUT", "/_sandbox/catalog/github", { body: [{}], key: null });
    assert.equal(bad.status, 400);
    assert.equal(
      (await c.call("PUT", "/_sandbox/catalog/github", { body: { slug: "X" }, key: null })).status,
      400,
    );

    await c.fault({ status: 500 });
    await c.execute("GITHUB_ONLY_TOOL", {}, "env-1");
    await c.call("PUT", "/_sandbox/execute-result/GMAIL_SEND_EMAIL", { body: 1, key: null });

    assert.equal((await c.call("POST", "/_sandbox/reset", { key: null })).status, 200);
    assert.equal((await c.call("GET", "/api/v3.1/tools/GITHUB_CREATE_ISSUE")).status, 200);
    assert.equal((await c.call("GET", "/api/v3.1/tools/GITHUB_ONLY_TOOL")).status, 404);
    assert.deepEqual(
      (await c.call("GET", "/api/v3.1/toolkits")).body.items.map((k: any) => k.slug),
      [
        "github",
        "gmail",
        "slack",
      ],
    );
    assert.deepEqual((await c.executions()).body, { by_envelope: {}, total: 0, log: [] });
    const after = await c.execute("GMAIL_SEND_EMAIL", { a: 1 }, "env-2");
    assert.equal(after.status, 200, "faults cleared");
    assert.equal(after.body.data.ok, true, "execute results cleared");
    assert.equal(after.body.log_id, "log_sandbox_000001");
  });
});

Deno.test("generation is deterministic for a seed and differs across seeds", async () => {
  const kit = { slug: "bench", name: "Bench", logo: "" };
  assert.deepEqual(generateTools(kit, 300, 42), generateTools(kit, 300, 42));
  assert.notDeepEqual(generateTools(kit, 300, 42), generateTools(kit, 300, 43));
  const tools = generateTools(kit, 10_000, 9);
  assert.equal(new Set(tools.map((t) => t.slug)).size, 10_000);
  for (const t of tools.slice(0, 200)) {
    const schema = t.input_parameters as { properties: object; required: string[] };
    assert.ok(schema.required.every((r) => r in schema.properties));
  }

  await withSandbox(async (sb, c) => {
    assert.equal(sb.generateCatalog({ toolkit: "bench", count: 10_000, seed: 9 }), 10_000);
    const page = await c.list("?toolkit_slug=bench&limit=1000");
    assert.equal(page.body.total_items, 10_000);
    assert.equal(page.body.total_pages, 10);
    assert.equal(page.body.items[0].slug, tools[0].slug);
    const gen = await c.call("POST", "/_sandbox/catalog/generate", {
      body: { toolkit: "bench", count: -1 },
      key: null,
    });
    assert.equal(gen.status, 400);
  });
});

Deno.test("in-process control mirrors the HTTP routes", async () => {
  await withSandbox(async (sb, c) => {
    sb.setCatalog("gmail", [{ slug: "GMAIL_ONLY" }]);
    assert.equal((await c.list("?toolkit_slug=gmail")).body.total_items, 1);
    assert.equal(sb.removeTool("gmail", "gmail_only"), true);
    assert.equal(sb.removeTool("gmail", "GMAIL_ONLY"), false);
    sb.setExecuteResult("SLACK_SEND_MESSAGE", { ts: "1.0" });
    const f = sb.addFault({ slug: "SLACK_SEND_MESSAGE", status: 429, times: 1 });
    assert.equal(f.route, "execute");
    assert.equal(f.remaining, 1);
    assert.equal((await c.execute("SLACK_SEND_MESSAGE", {}, "e")).status, 429);
    assert.deepEqual((await c.execute("SLACK_SEND_MESSAGE", {}, "e")).body.data, { ts: "1.0" });
    assert.deepEqual(sb.executions().by_envelope, { e: 2 });
    sb.reset();
    assert.equal(sb.executions().total, 0);
    assert.equal((await c.list("?toolkit_slug=gmail")).body.total_items, 7);
  });
});

// ---------------------------------------------------------------------------------------------
// Pure pieces and fixtures

Deno.test("matchFault: FIFO, spends times, leaves unlimited faults in place", () => {
  const mk = (id: string, extra: Partial<Fault>): Fault => ({
    id,
    route: "execute",
    remaining: null,
    status: 500,
    ...extra,
  });
  const q0 = [mk("a", { slug: "X", remaining: 1 }), mk("b", { slug: "X" }), mk("c", {})];
  const r1 = matchFault(q0, { route: "execute", slug: "x" });
  assert.equal(r1.fault?.id, "a");
  assert.deepEqual(r1.queue.map((f) => f.id), ["b", "c"]);
  assert.equal(q0.length, 3, "input untouched");
  const r2 = matchFault(r1.queue, { route: "execute", slug: "X" });
  assert.equal(r2.fault?.id, "b");
  assert.equal(r2.queue.length, 2);
  assert.equal(matchFault(r2.queue, { route: "execute", slug: "Y" }).fault?.id, "c");
  assert.equal(matchFault(r2.queue, { route: "list" }).fault, null);
  const env = [mk("e", { envelope_id: "1" })];
  assert.equal(matchFault(env, { route: "execute", envelope_id: "2" }).fault, null);
  assert.equal(matchFault(env, { route: "execute", envelope_id: "1" }).fault?.id, "e");
});

Deno.test("parseToolkitVersions reads every form", () => {
  const p = (s: string) => parseToolkitVersions(new URLSearchParams(s));
  assert.deepEqual(p("toolkit_versions=latest"), { all: "latest", per: {} });
  assert.deepEqual(p(`toolkit_versions=${encodeURIComponent('{"GitHub":"v1"}')}`), {
    all: undefined,
    per: { github: "v1" },
  });
  assert.deepEqual(p("toolkit_versions=github:v1,slack:v2"), {
    all: undefined,
    per: { github: "v1", slack: "v2" },
  });
  assert.deepEqual(p("toolkit_versions[gmail]=v3"), { all: undefined, per: { gmail: "v3" } });
  assert.deepEqual(p(""), { all: undefined, per: {} });
});

Deno.test("fixtures: realistic schemas, hint tags, scopes, read and write tools", async () => {
  await withSandbox(async (_sb, c) => {
    const all = (await c.list("?limit=1000")).body.items;
    for (const kit of ["github", "gmail", "slack"]) {
      const tools = all.filter((t: any) => t.toolkit.slug === kit);
      assert.ok(tools.length >= 5 && tools.length <= 12, `${kit} has ${tools.length} tools`);
      const hints = tools.flatMap((t: any) => t.tags);
      assert.ok(hints.includes("readOnlyHint"), `${kit} has read tools`);
      assert.ok(
        hints.includes("createHint") || hints.includes("updateHint"),
        `${kit} has write tools`,
      );
    }
    for (const t of all) {
      const s = t.input_parameters;
      assert.equal(s.type, "object", t.slug);
      assert.ok(Array.isArray(s.required), t.slug);
      assert.ok(s.required.every((r: string) => r in s.properties), `${t.slug} required ⊆ props`);
      assert.ok(t.scopes.length > 0, `${t.slug} scopes`);
      assert.ok(
        t.tags.some((g: string) => g.endsWith("Hint")),
        `${t.slug} carries a Composio hint tag`,
      );
      assert.ok(t.output_parameters.properties.successful, t.slug);
    }
    const slugs = all.map((t: any) => t.slug);
    for (
      const s of [
        "GITHUB_LIST_ISSUES",
        "GITHUB_CREATE_ISSUE",
        "GMAIL_SEND_EMAIL",
        "GMAIL_FETCH_EMAILS",
        "SLACK_SEND_MESSAGE",
        "SLACK_LIST_CHANNELS",
      ]
    ) assert.ok(slugs.includes(s), s);
  });
});

Deno.test("control: raw items follow their toolkit's tools; toolkit versions can change", async () => {
  await withSandbox(async (_sb, c) => {
    const raw = await c.call("POST", "/_sandbox/catalog/slack/raw", {
      body: [{ slug: "SLACK_BROKEN" }, 42],
      key: null,
    });
    assert.deepEqual(raw.body, { toolkit: "slack", raw: 2 });
    const all = await c.list("?toolkit_slug=slack&limit=100");
    assert.deepEqual(all.body.items.slice(-2), [{ slug: "SLACK_BROKEN" }, 42]);
    assert.equal(all.body.total_items, 9);
    const gh = await c.list("?toolkit_slug=github&limit=100");
    assert.ok(!gh.body.items.some((t: any) => t?.slug === "SLACK_BROKEN"));

    const v = await c.call("PATCH", "/_sandbox/toolkits/slack", {
      body: { version: "20990101_00", available_versions: ["20990101_00"] },
      key: null,
    });
    assert.equal(v.status, 200);
    assert.deepEqual(v.body.available_versions, ["20990101_00"]);
    const tool = await c.call("GET", "/api/v3.1/tools/SLACK_SEND_MESSAGE");
    assert.equal(tool.body.version, "20990101_00");
    assert.deepEqual(tool.body.available_versions, ["20990101_00"]);
    const bad = await c.call("PATCH", "/_sandbox/toolkits/nope", { body: {}, key: null });
    assert.equal(bad.status, 400);

    await c.call("POST", "/_sandbox/reset", { key: null });
    const after = await c.list("?toolkit_slug=slack&limit=100");
    assert.equal(after.body.total_items, 7, "reset drops raw items");
  });
});
