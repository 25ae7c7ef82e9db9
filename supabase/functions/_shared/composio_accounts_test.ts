import assert from "node:assert/strict";
import { startComposioSandbox } from "../../../stack/composio_sandbox.ts";
import { ComposioError } from "./composio.ts";
import { getConnectedAccount, initiateConnectedAccount } from "./composio_accounts.ts";

const TENANT = "00000000-0000-0000-0000-00000000000b";

async function withSandbox(
  fn: (config: { baseUrl: string; apiKey: string; timeoutMs: number }) => Promise<void>,
) {
  const sb = await startComposioSandbox({ port: 0 });
  try {
    await fn({ baseUrl: sb.url, apiKey: sb.apiKey, timeoutMs: 2000 });
  } finally {
    await sb.close();
  }
}

Deno.test("composio accounts: initiate for a user, then get it back with its owner, status and scope", async () => {
  await withSandbox(async (config) => {
    const req = await initiateConnectedAccount(config, {
      authConfigId: "ac_sandbox_github",
      userId: TENANT,
      callbackUrl: "https://app.example/back",
    });
    assert.equal(req.status, "INITIATED");
    assert.match(req.redirectUrl ?? "", /\/_sandbox\/connect\/ca_/);
    const initiated = await getConnectedAccount(config, req.id);
    assert.deepEqual(initiated, {
      id: req.id,
      userId: TENANT,
      status: "INITIATED",
      disabled: false,
      toolkit: "github",
      authConfigId: "ac_sandbox_github",
      scopes: null,
    });
    await (await fetch(req.redirectUrl!)).body?.cancel();
    const active = await getConnectedAccount(config, req.id);
    assert.equal(active.status, "ACTIVE");
    assert.deepEqual(active.scopes, ["public_repo", "repo"]);
    // Only what we read: the tokens in Composio's state never reach the caller.
    assert.ok(!JSON.stringify(active).includes("token"));
  });
});

Deno.test("composio accounts: an unknown id is Composio's 404; a bad auth config its 400; never the key", async () => {
  await withSandbox(async (config) => {
    const missing = await getConnectedAccount(config, "ca_nobody").catch((e) => e);
    assert.ok(missing instanceof ComposioError);
    assert.equal(missing.status, 404);
    assert.match(missing.message, /^GET \/api\/v3\.1\/connected_accounts\/ca_nobody: 404 /);
    const bad = await initiateConnectedAccount(config, { authConfigId: "ac_x", userId: TENANT })
      .catch((e) => e);
    assert.ok(bad instanceof ComposioError);
    assert.equal(bad.status, 400);
    assert.ok(!bad.message.includes(config.apiKey));
  });
});

Deno.test("composio accounts: an answer without a user id is unusable, not anyone's", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      Response.json({
        id: "ca_1",
        status: "ACTIVE",
        toolkit: { slug: "github" },
        auth_config: { id: "ac_1" },
      }),
  );
  try {
    const config = {
      baseUrl: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`,
      apiKey: "k",
      timeoutMs: 2000,
    };
    const err = await getConnectedAccount(config, "ca_1").catch((e) => e);
    assert.ok(err instanceof ComposioError);
    assert.equal(err.kind, "invalid_response");
    assert.match(err.message, /user_id/);
  } finally {
    await server.shutdown();
  }
});
