import assert from "node:assert/strict";
import {
  callResultOf,
  COMPOSIO_API_BASE,
  ComposioError,
  composioRequest,
  describeError,
  parseErrorBody,
  parseWindowSize,
  readRateLimit,
} from "./composio.ts";
import { classifyCallResult } from "./execution_policy.ts";

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A loopback server answering from `handler`; returns a config for it and a closer. */
function serve(handler: (req: Request) => Response | Promise<Response>, apiKey = "k") {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const config = {
    baseUrl: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    apiKey,
    timeoutMs: 2000,
  };
  return { config, close: () => server.shutdown() };
}

Deno.test("composio transport: a refused connection is classified as such (nothing was sent)", async () => {
  const config = { baseUrl: `http://127.0.0.1:${closedPort()}`, apiKey: "k", timeoutMs: 2000 };
  const err = await composioRequest(config, "GET", "/tools").catch((e) => e);
  assert.ok(err instanceof ComposioError);
  assert.equal(err.kind, "connection_refused");
  assert.equal(classifyCallResult(callResultOf(err), { readOnly: true }).kind, "retry");
  assert.match(err.message, /^GET \/api\/v3\.1\/tools: connection refused$/);
});

Deno.test("composio transport: paths are under /api/v3.1; rate-limit headers as documented", async () => {
  const paths: string[] = [];
  const s = serve((req) => {
    paths.push(new URL(req.url).pathname);
    assert.equal(req.headers.get("x-api-key"), "k");
    return Response.json({ items: [] }, {
      headers: {
        "x-ratelimit": "20000",
        "x-ratelimit-remaining": "19999",
        "x-ratelimit-window-size": "600s",
      },
    });
  });
  try {
    const ok = await composioRequest(s.config, "GET", "/tools");
    assert.equal(COMPOSIO_API_BASE, "/api/v3.1");
    assert.deepEqual(paths, ["/api/v3.1/tools"]);
    assert.deepEqual(ok.rateLimit, {
      limit: 20000,
      remaining: 19999,
      windowSeconds: 600,
      retryAfterMs: null,
    });
  } finally {
    await s.close();
  }
});

Deno.test("composio transport: an error answer's body, Retry-After and rate limit are read", async () => {
  const s = serve(() =>
    Response.json({
      error: {
        message: "Rate limit exceeded",
        code: 429,
        slug: "TooManyRequests",
        status: 429,
        request_id: "req_123",
        suggested_fix: "Slow down.",
      },
    }, {
      status: 429,
      headers: {
        "retry-after": "3",
        "x-ratelimit": "100",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-window-size": "60s",
      },
    })
  );
  try {
    const err = await composioRequest(s.config, "GET", "/busy").catch((e) => e);
    assert.ok(err instanceof ComposioError);
    assert.equal(err.status, 429);
    assert.equal(classifyCallResult(callResultOf(err), { readOnly: true }).kind, "throttled");
    assert.equal(err.retryAfterMs, 3000);
    assert.equal(err.requestId, "req_123");
    assert.equal(err.suggestedFix, "Slow down.");
    assert.deepEqual(err.rateLimit, {
      limit: 100,
      remaining: 0,
      windowSeconds: 60,
      retryAfterMs: 3000,
    });
    assert.equal(
      err.message,
      "GET /api/v3.1/busy: 429 Rate limit exceeded; suggested fix: Slow down. (request_id req_123)",
    );
    assert.equal(
      err.upstream,
      "Rate limit exceeded; suggested fix: Slow down. (request_id req_123)",
    );
  } finally {
    await s.close();
  }
});

Deno.test("composio transport: an error never carries the API key, whatever Composio echoes", async () => {
  const key = "sk-live-0123456789";
  const s = serve(
    () => Response.json({ error: { message: `key ${key} is not allowed here` } }, { status: 403 }),
    key,
  );
  try {
    const err = await composioRequest(s.config, "POST", "/tools/execute/X", {
      body: { arguments: { secret: "x".repeat(20) } },
    }).catch((e) => e);
    assert.ok(err instanceof ComposioError);
    assert.ok(!err.message.includes(key), err.message);
    assert.ok(!err.message.includes("xxxxxxxx"), "nor the body sent");
    assert.match(err.message, /\[redacted\]/);
  } finally {
    await s.close();
  }
});

Deno.test("parseErrorBody reads every form Composio answers with", () => {
  const none = { message: null, status: null, requestId: null, suggestedFix: null };
  assert.deepEqual(
    parseErrorBody({
      error: { message: "m", code: 404, slug: "NotFound", status: 404, request_id: "r" },
    }),
    { message: "m", status: 404, requestId: "r", suggestedFix: null },
  );
  assert.deepEqual(parseErrorBody({ error: "plain" }), { ...none, message: "plain" });
  // The rate limiter's 429 (docs.composio.dev/reference/rate-limits).
  assert.deepEqual(parseErrorBody({ message: "Rate limit exceeded. Limit: 100" }), {
    ...none,
    message: "Rate limit exceeded. Limit: 100",
  });
  assert.deepEqual(parseErrorBody(null, "<html>Bad gateway</html>"), {
    ...none,
    message: "<html>Bad gateway</html>",
  });
  assert.deepEqual(parseErrorBody({ detail: "x" }, '{"detail":"x"}'), {
    ...none,
    message: '{"detail":"x"}',
  });
  assert.deepEqual(parseErrorBody(null, ""), none);
  assert.deepEqual(parseErrorBody({ error: { message: 5, request_id: null } }, ""), none);
});

Deno.test("describeError: message, fix and request id; long text clipped", () => {
  const e = { message: "m", status: 400, requestId: "r1", suggestedFix: "f" };
  assert.equal(describeError(e), "m; suggested fix: f (request_id r1)");
  assert.equal(
    describeError({ ...e, message: null, suggestedFix: null }),
    "no message (request_id r1)",
  );
  const long = describeError({ ...e, message: "y".repeat(1000), requestId: null });
  assert.equal(long.length, 300);
  assert.ok(long.endsWith("…"));
});

Deno.test("rate-limit headers: window sizes, absent and odd values", () => {
  assert.equal(parseWindowSize("600s"), 600);
  assert.equal(parseWindowSize("600"), 600);
  assert.equal(parseWindowSize(" 10m "), 600);
  assert.equal(parseWindowSize("1h"), 3600);
  assert.equal(parseWindowSize("soon"), null);
  assert.equal(parseWindowSize(null), null);
  const now = new Date("2026-12-01T12:00:00Z");
  assert.deepEqual(readRateLimit(new Headers(), now), {
    limit: null,
    remaining: null,
    windowSeconds: null,
    retryAfterMs: null,
  });
  assert.deepEqual(
    readRateLimit(
      new Headers({
        "x-ratelimit": "lots",
        "x-ratelimit-remaining": "-1",
        "retry-after": "Tue, 01 Dec 2026 12:00:30 GMT",
      }),
      now,
    ),
    { limit: null, remaining: null, windowSeconds: null, retryAfterMs: 30_000 },
  );
});
