// deno-lint-ignore-file no-explicit-any -- wire JSON is asserted field by field
// The sandbox's connected accounts: initiate, get and list in Composio's shapes and error
// bodies, accounts kept per Composio user, the seed's accounts known under their tenants,
// and the controls tests use (another user's account, a user finishing the consent).
import assert from "node:assert/strict";
import { type ComposioSandbox, startComposioSandbox } from "./composio_sandbox.ts";

const TENANT_A = "00000000-0000-0000-0000-00000000000a";
const TENANT_B = "00000000-0000-0000-0000-00000000000b";

async function withSandbox(
  fn: (sb: ComposioSandbox, call: (m: string, p: string, b?: unknown) => Promise<any>) => Promise<
    void
  >,
) {
  const sb = await startComposioSandbox({ port: 0 });
  const call = async (method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = path.startsWith("/_sandbox/")
      ? {}
      : { "x-api-key": sb.apiKey };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${sb.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    await fn(sb, call);
  } finally {
    await sb.close();
  }
}

Deno.test("connected accounts: initiate → redirect, the consent page activates, get says whose it is", async () => {
  await withSandbox(async (_sb, call) => {
    const made = await call("POST", "/api/v3.1/connected_accounts", {
      auth_config: { id: "ac_sandbox_github" },
      connection: { user_id: TENANT_B, callback_url: "https://app.example/done" },
    });
    assert.equal(made.status, 201);
    const { id, redirect_url, status, connectionData } = made.body;
    assert.match(id, /^ca_[A-Za-z0-9_-]{12}$/);
    assert.equal(status, "INITIATED");
    assert.equal(connectionData.authScheme, "OAUTH2");
    assert.equal(connectionData.val.status, "INITIATED");
    assert.equal(connectionData.val.redirectUrl, redirect_url);
    assert.equal(made.body.redirect_uri, redirect_url);

    const before = await call("GET", `/api/v3.1/connected_accounts/${id}`);
    assert.equal(before.status, 200);
    assert.equal(before.body.status, "INITIATED");
    assert.equal(before.body.user_id, TENANT_B);
    assert.deepEqual(before.body.toolkit, { slug: "github" });
    assert.equal(before.body.auth_config.id, "ac_sandbox_github");

    const consent = await fetch(redirect_url);
    assert.equal(consent.status, 200);
    assert.equal((await consent.json()).callback_url, "https://app.example/done");
    const after = await call("GET", `/api/v3/connected_accounts/${id}`);
    assert.equal(after.body.status, "ACTIVE");
    assert.equal(after.body.state.val.scope, "repo public_repo");
  });
});

Deno.test("connected accounts: the seed's accounts under their tenants; list filters and pages", async () => {
  await withSandbox(async (_sb, call) => {
    const a = await call("GET", "/api/v3.1/connected_accounts/ca_acme_github");
    assert.equal(a.body.user_id, TENANT_A);
    assert.equal(
      (await call("GET", "/api/v3.1/connected_accounts/ca_beta_gmail")).body.status,
      "EXPIRED",
    );

    const mine = await call("GET", `/api/v3.1/connected_accounts?user_ids=${TENANT_B}`);
    assert.deepEqual(mine.body.items.map((i: any) => i.id).sort(), [
      "ca_beta_github",
      "ca_beta_gmail",
      "ca_beta_slack",
    ]);
    assert.deepEqual(
      Object.keys(mine.body).sort(),
      ["current_page", "items", "next_cursor", "total_items", "total_pages"],
    );
    const active = await call(
      "GET",
      `/api/v3.1/connected_accounts?user_ids=${TENANT_B}&statuses=ACTIVE&toolkit_slugs=github,slack`,
    );
    assert.equal(active.body.total_items, 2);

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page: any = await call("GET", `/api/v3.1/connected_accounts?limit=4${q}`);
      ids.push(...page.body.items.map((i: any) => i.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.equal(ids.length, 6);
    assert.equal(new Set(ids).size, 6);
  });
});

Deno.test("connected accounts: Composio's error bodies for an unknown account, auth config or body", async () => {
  await withSandbox(async (_sb, call) => {
    const missing = await call("GET", "/api/v3.1/connected_accounts/ca_nobody");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.status, 404);
    assert.match(missing.body.error.message, /ca_nobody not found/);
    assert.match(missing.body.error.request_id, /^req_sandbox_/);

    const config = await call("POST", "/api/v3.1/connected_accounts", {
      auth_config: { id: "ac_nope" },
      connection: { user_id: "u" },
    });
    assert.equal(config.status, 400);
    assert.match(config.body.error.message, /Auth config ac_nope not found/);
    const bad = await call("POST", "/api/v3.1/connected_accounts", { connection: {} });
    assert.equal(bad.status, 400);
    const noKey = await fetch(`${_sb.url}/api/v3.1/connected_accounts/ca_acme_github`);
    assert.equal(noKey.status, 401);
    await noKey.body?.cancel();
  });
});

Deno.test("connected accounts: controls make another user's account and change statuses; faults; reset", async () => {
  await withSandbox(async (sb, call) => {
    const other = await call("POST", "/_sandbox/connected_accounts", {
      user_id: TENANT_A,
      toolkit: "slack",
    });
    assert.equal(other.status, 201);
    assert.equal(other.body.status, "ACTIVE");
    const got = await call("GET", `/api/v3.1/connected_accounts/${other.body.id}`);
    assert.equal(got.body.user_id, TENANT_A);
    const patched = await call("PATCH", `/_sandbox/connected_accounts/${other.body.id}`, {
      status: "EXPIRED",
    });
    assert.equal(patched.body.status, "EXPIRED");
    assert.equal(
      (await call("PATCH", "/_sandbox/connected_accounts/ca_x", { status: "ACTIVE" })).status,
      404,
    );
    assert.equal(
      (await call("PATCH", `/_sandbox/connected_accounts/${other.body.id}`, { status: "ok" }))
        .status,
      400,
    );
    assert.equal(
      (await call("POST", "/_sandbox/connected_accounts", { user_id: "u", toolkit: "nokit" }))
        .status,
      400,
    );

    sb.addFault({ route: "account_get", slug: "ca_acme_github", status: 503, times: 1 });
    assert.equal((await call("GET", "/api/v3.1/connected_accounts/ca_acme_github")).status, 503);
    assert.equal((await call("GET", "/api/v3.1/connected_accounts/ca_acme_github")).status, 200);

    sb.reset();
    assert.equal((await call("GET", `/api/v3.1/connected_accounts/${other.body.id}`)).status, 404);
    assert.equal(sb.accounts().length, 6);
    const made = sb.createAccount({ user_id: TENANT_B, toolkit: "github", id: "ca_fixed" });
    assert.equal(made.id, "ca_fixed");
    assert.throws(() => sb.createAccount({ user_id: TENANT_B, toolkit: "github", id: "ca_fixed" }));
  });
});
