import assert from "node:assert/strict";
import { startComposioSandbox } from "../../../stack/composio_sandbox.ts";
import {
  executeTool,
  ExecutorError,
  isPinnedVersion,
  redactArguments,
  UnpinnedVersionError,
} from "./composio_execute.ts";
import { callResultOf, ComposioError } from "./composio.ts";

/** A loopback server answering from `handler`; returns its base URL and a closer. */
function serve(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, handler);
  const { port } = server.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${port}`, close: () => server.shutdown() };
}

const req = {
  slug: "GITHUB_CREATE_ISSUE",
  arguments: { title: "x" },
  envelopeId: "env-1",
  version: "20250909_00",
};

Deno.test("composio_execute: sends the envelope id header and the v3.1 body with its version", async () => {
  let seen: { path: string; envelope: string | null; key: string | null; body: unknown } | null =
    null;
  const s = serve(async (r) => {
    seen = {
      path: new URL(r.url).pathname,
      envelope: r.headers.get("x-envelope-id"),
      key: r.headers.get("x-api-key"),
      body: await r.json(),
    };
    return Response.json({ data: { id: 1 }, error: null, successful: true }, {
      headers: { "x-ratelimit": "100", "x-ratelimit-remaining": "42" },
    });
  });
  try {
    const out = await executeTool({ baseUrl: s.url, apiKey: "k", timeoutMs: 2000 }, {
      ...req,
      connectedAccountId: "ca_1",
      userId: "u1",
    });
    assert.deepEqual(out.call, { kind: "response", status: 200, successful: true, error: null });
    assert.deepEqual(out.body, { data: { id: 1 }, error: null, successful: true });
    assert.deepEqual(seen, {
      path: "/api/v3.1/tools/execute/GITHUB_CREATE_ISSUE",
      envelope: "env-1",
      key: "k",
      body: {
        arguments: { title: "x" },
        connected_account_id: "ca_1",
        user_id: "u1",
        version: "20250909_00",
      },
    });
    assert.equal(out.rateLimit?.remaining, 42);
    assert.equal(out.rateLimit?.limit, 100);
  } finally {
    await s.close();
  }
});

Deno.test("composio_execute: never sends a call without a pinned version", async () => {
  let calls = 0;
  const s = serve(() => (calls++, Response.json({ successful: true })));
  try {
    const cfg = { baseUrl: s.url, apiKey: "k", timeoutMs: 2000 };
    for (const version of [null, "", "  ", "latest", "LATEST"]) {
      await assert.rejects(executeTool(cfg, { ...req, version }), UnpinnedVersionError);
    }
    assert.equal(calls, 0, "nothing reached Composio");
  } finally {
    await s.close();
  }
  assert.equal(isPinnedVersion("20250909_00"), true);
  assert.equal(isPinnedVersion("v1"), true);
  assert.equal(isPinnedVersion(undefined), false);
});

Deno.test("composio_execute: the sandbox runs the version the catalog pinned, at v3.1", async () => {
  const sb = await startComposioSandbox({ port: 0 });
  try {
    const cfg = { baseUrl: sb.url, apiKey: sb.apiKey, timeoutMs: 2000 };
    // An older version than the toolkit's latest (20250909_00): what an older catalog row pins.
    const out = await executeTool(cfg, {
      ...req,
      arguments: { owner: "o", repo: "r", title: "t" },
      version: "20250827_00",
      userId: "tenant-1",
    });
    assert.equal(out.call.kind === "response" && out.call.status, 200);
    const [e] = sb.executions().log;
    assert.deepEqual(
      [e.api_version, e.version, e.executed_version, e.envelope_id, e.user_id],
      ["v3.1", "20250827_00", "20250827_00", "env-1", "tenant-1"],
    );
  } finally {
    await sb.close();
  }
});

Deno.test("composio_execute: successful:false, 429 with Retry-After, 409", async () => {
  const answers = [
    () => Response.json({ data: {}, error: "boom", successful: false }),
    () =>
      Response.json({ error: { message: "slow down" } }, {
        status: 429,
        headers: { "retry-after": "7", "x-ratelimit-remaining": "0" },
      }),
    () => Response.json({ error: { message: "locked" } }, { status: 409 }),
  ];
  let i = 0;
  const s = serve(() => answers[i++]());
  try {
    const cfg = { baseUrl: s.url, apiKey: "k", timeoutMs: 2000 };
    assert.deepEqual((await executeTool(cfg, req)).call, {
      kind: "response",
      status: 200,
      successful: false,
      error: "boom",
    });
    const limited = await executeTool(cfg, req);
    assert.deepEqual(limited.call, {
      kind: "response",
      status: 429,
      retryAfterMs: 7000,
      error: "slow down",
    });
    assert.deepEqual(limited.rateLimit, {
      limit: null,
      remaining: 0,
      windowSeconds: null,
      retryAfterMs: 7000,
    });
    const c = (await executeTool(cfg, req)).call;
    assert.equal(c.kind === "response" && c.status, 409);
  } finally {
    await s.close();
  }
});

Deno.test("composio_execute: an error's text is Composio's body, without our arguments", async () => {
  const email = "alice.private@example.com";
  const s = serve(() =>
    Response.json({
      error: {
        message: `recipient ${email} is not allowed`,
        status: 422,
        request_id: "req_9",
        suggested_fix: `Use another address than ${email}.`,
      },
    }, { status: 422 })
  );
  try {
    const out = await executeTool({ baseUrl: s.url, apiKey: "k", timeoutMs: 2000 }, {
      ...req,
      slug: "GMAIL_SEND_EMAIL",
      arguments: { recipient_email: email, body: "hi" },
    });
    assert.deepEqual(out.call, {
      kind: "response",
      status: 422,
      retryAfterMs: null,
      error:
        "recipient [argument] is not allowed; suggested fix: Use another address than [argument]. (request_id req_9)",
    });
  } finally {
    await s.close();
  }
});

Deno.test("composio_execute: our timeout", async () => {
  const s = serve(async () => {
    await new Promise((r) => setTimeout(r, 300));
    return Response.json({ successful: true });
  });
  try {
    const out = await executeTool({ baseUrl: s.url, apiKey: "k", timeoutMs: 50 }, req);
    assert.deepEqual(out.call, { kind: "timeout" });
    assert.equal(out.rateLimit, null);
  } finally {
    await s.close();
  }
});

Deno.test("composio_execute: transport errors map to the policy's vocabulary", () => {
  assert.deepEqual(callResultOf(new ComposioError("x", null, "network")), {
    kind: "network_error",
    message: "x",
  });
  assert.deepEqual(callResultOf(new ComposioError("bad json", 200, "invalid_response")), {
    kind: "invalid_answer",
    transient: true,
    message: "bad json",
  });
  // An http error without a parsed body falls back to the transport's message.
  assert.deepEqual(callResultOf(new ComposioError("POST /x: 500 oops", 500, "http")), {
    kind: "response",
    status: 500,
    retryAfterMs: null,
    error: "POST /x: 500 oops",
  });
});

Deno.test("composio_execute: our own exception is an ExecutorError saying whether the call left", async () => {
  const config = { baseUrl: "http://127.0.0.1:9", apiKey: "k", timeoutMs: 1000 };
  // BigInt cannot be serialised: our side fails before anything is sent.
  const before = await executeTool(config, {
    slug: "X",
    arguments: { n: 1n } as unknown as Record<string, unknown>,
    envelopeId: "e",
    version: "20250101_00",
  }).catch((e) => e);
  assert.ok(before instanceof ExecutorError, String(before));
  assert.equal(before.sent, false);
  assert.ok(before.cause instanceof TypeError);
  assert.match(before.message, /executing X failed in our own code: /);
});

Deno.test("redactArguments hides repeated argument values, nested too, short ones kept", () => {
  const args = { to: ["bob.secret@example.com"], meta: { token: "abcdefgh123" }, state: "open" };
  assert.equal(
    redactArguments("bob.secret@example.com / abcdefgh123 / open", args),
    "[argument] / [argument] / open",
  );
  assert.equal(redactArguments("nothing to hide", args), "nothing to hide");
});
