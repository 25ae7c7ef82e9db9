import assert from "node:assert/strict";
import type { ComposioAccount } from "../_shared/composio_accounts.ts";
import { reconcile } from "./reconcile.ts";

const TENANT = "00000000-0000-0000-0000-00000000000b";
const row = { toolkit: "github" };

function account(over: Partial<ComposioAccount> = {}): ComposioAccount {
  return {
    id: "ca_1",
    userId: TENANT,
    status: "ACTIVE",
    disabled: false,
    toolkit: "github",
    authConfigId: "ac_1",
    scopes: ["repo"],
    ...over,
  };
}

Deno.test("reconcile: ACTIVE for the tenant's user activates, links, takes the scopes, counts as checked", () => {
  assert.deepEqual(reconcile(TENANT, row, { kind: "account", account: account() }), {
    status: "active",
    linked: true,
    scopes: ["repo"],
    owned: true,
  });
});

Deno.test("reconcile: still initiated, or no answer this time, changes nothing", () => {
  for (const status of ["INITIATED", "INITIALIZING"] as const) {
    assert.equal(reconcile(TENANT, row, { kind: "account", account: account({ status }) }), null);
  }
  assert.equal(reconcile(TENANT, row, { kind: "failed", message: "503" }), null);
});

Deno.test("reconcile: Composio's ends are ours; a disabled account is inactive", () => {
  const status = (a: Partial<ComposioAccount>) =>
    reconcile(TENANT, row, { kind: "account", account: account(a) })?.status;
  assert.equal(status({ status: "FAILED" }), "failed");
  assert.equal(status({ status: "EXPIRED" }), "expired");
  assert.equal(status({ status: "INACTIVE" }), "inactive");
  assert.equal(status({ status: "ACTIVE", disabled: true }), "inactive");
  assert.deepEqual(reconcile(TENANT, row, { kind: "not_found" }), {
    status: "failed",
    linked: false,
    scopes: null,
    owned: null,
  });
});

Deno.test("reconcile: another user's account, or another toolkit's, never becomes active", () => {
  assert.deepEqual(
    reconcile(TENANT, row, {
      kind: "account",
      account: account({ userId: "00000000-0000-0000-0000-00000000000a" }),
    }),
    { status: "failed", linked: false, scopes: null, owned: false },
  );
  assert.equal(
    reconcile(TENANT, row, { kind: "account", account: account({ toolkit: "gmail" }) })?.status,
    "failed",
  );
});
