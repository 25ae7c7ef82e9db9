import assert from "node:assert/strict";
import { ComposioError, composioRequest } from "./composio.ts";

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("composio transport: a refused connection is classified as such (nothing was sent)", async () => {
  const config = { baseUrl: `http://127.0.0.1:${closedPort()}`, apiKey: "k", timeoutMs: 2000 };
  const err = await composioRequest(config, "GET", "/api/v3/tools").catch((e) => e);
  assert.ok(err instanceof ComposioError);
  assert.equal(err.kind, "connection_refused");
  assert.equal(err.retryable, true);
});

Deno.test("composio transport: status, Retry-After and rate-limit headers are read", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (new URL(req.url).pathname === "/busy") {
      return Response.json({ error: { message: "slow down" } }, {
        status: 429,
        headers: { "retry-after": "3" },
      });
    }
    assert.equal(req.headers.get("x-api-key"), "k");
    return Response.json({ items: [] }, {
      headers: { "x-ratelimit-limit": "100", "x-ratelimit-remaining": "99" },
    });
  });
  const config = {
    baseUrl: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
    apiKey: "k",
    timeoutMs: 2000,
  };
  try {
    const ok = await composioRequest(config, "GET", "/ok");
    assert.deepEqual(ok.rateLimit, { limit: 100, remaining: 99, resetSeconds: null });
    const err = await composioRequest(config, "GET", "/busy").catch((e) => e);
    assert.equal(err.status, 429);
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterMs, 3000);
    assert.match(err.message, /slow down/);
  } finally {
    await server.shutdown();
  }
});
