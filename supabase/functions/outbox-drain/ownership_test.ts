import assert from "node:assert/strict";
import type { Claimed } from "./claim.ts";
import {
  accountOwnership,
  checkRetryDelayMs,
  judgeOwnership,
  notOwnedCode,
  ownershipSettlement,
} from "./ownership.ts";

const TENANT = "00000000-0000-0000-0000-00000000000b";
const OTHER = "00000000-0000-0000-0000-00000000000a";

function env(over: Partial<Claimed> = {}): Claimed {
  return {
    id: "e1",
    tenant_id: TENANT,
    tool_slug: "GITHUB_LIST_ISSUES",
    toolkit: "github",
    arguments: {},
    connected_account_id: null,
    risk: "low",
    read_only: true,
    trust_context: {},
    attempts: 0,
    status_before: "pending",
    lease_token: "t1",
    lease_expires_at: new Date(0),
    version: "v1",
    content_hash: "h",
    tool_toolkit: "github",
    required_scopes: [],
    deprecated: false,
    account_status: "active",
    account_scopes: [],
    account_external_id: "ca_1",
    account_id: "a1",
    account_owned: null,
    approved: false,
    guardrails: {},
    ...over,
  };
}

Deno.test("accountOwnership: checked and the tenant's runs; checked and not → denied; never checked → ask", () => {
  assert.deepEqual(accountOwnership(env({ account_owned: true })), { kind: "owned" });
  const denied = accountOwnership(env({ account_owned: false }));
  assert.equal(denied.kind, "not_owned");
  assert.deepEqual(accountOwnership(env()), {
    kind: "unchecked",
    accountId: "a1",
    externalId: "ca_1",
  });
  // No external id: nothing is named, Composio uses the tenant user's own account.
  assert.deepEqual(accountOwnership(env({ account_external_id: null })), { kind: "owned" });
});

Deno.test("judgeOwnership: only the tenant's Composio user owns it; 404 and refusals are not the tenant's", () => {
  assert.deepEqual(judgeOwnership(TENANT, { kind: "account", userId: TENANT }), {
    kind: "owned",
  });
  const other = judgeOwnership(TENANT, { kind: "account", userId: OTHER });
  assert.equal(other.kind, "not_owned");
  assert.ok(!JSON.stringify(other).includes(OTHER), "the other owner is never named");
  const response = (status: number, retryAfterMs: number | null = null) => ({
    kind: "failed" as const,
    call: { kind: "response" as const, status, retryAfterMs, error: "x" },
  });
  assert.equal(judgeOwnership(TENANT, response(404)).kind, "not_owned");
  assert.equal(judgeOwnership(TENANT, response(400)).kind, "not_owned");
  assert.equal(judgeOwnership(TENANT, response(401)).kind, "halt");
  assert.equal(judgeOwnership(TENANT, response(403)).kind, "halt");
});

Deno.test("judgeOwnership: what may answer differently later is asked again later, Retry-After first", () => {
  const cases = [
    { kind: "response" as const, status: 503, retryAfterMs: null, error: "x" },
    { kind: "response" as const, status: 500, error: "x" },
    { kind: "response" as const, status: 409, error: "x" },
    { kind: "timeout" as const },
    { kind: "connection_refused" as const },
    { kind: "network_error" as const, message: "reset" },
    { kind: "invalid_answer" as const, transient: false, message: "user_id: required" },
    { kind: "lease_lost" as const },
  ];
  for (const call of cases) {
    const v = judgeOwnership(TENANT, { kind: "failed", call });
    assert.equal(v.kind, "retry", JSON.stringify(call));
    assert.equal(v.kind === "retry" && v.delayMs, checkRetryDelayMs, JSON.stringify(call));
  }
  const limited = judgeOwnership(TENANT, {
    kind: "failed",
    call: { kind: "response", status: 429, retryAfterMs: 120_000, error: "slow down" },
  });
  assert.deepEqual(limited.kind === "retry" && limited.delayMs, 120_000);
  const huge = judgeOwnership(TENANT, {
    kind: "failed",
    call: { kind: "response", status: 429, retryAfterMs: 86_400_000 },
  });
  assert.deepEqual(huge.kind === "retry" && huge.delayMs, 15 * 60_000);
});

Deno.test("ownershipSettlement: DLQ unsent, parked without an attempt, released on a halt, sent when owned", () => {
  const now = new Date("2026-12-01T00:00:00Z");
  const e = env();
  assert.equal(ownershipSettlement(e, { kind: "owned" }, now, {}), null);
  const dlq = ownershipSettlement(e, { kind: "not_owned", reason: "another user's" }, now, {});
  assert.deepEqual(dlq?.settlement.op === "dlq" && dlq.settlement.dlq_reason, notOwnedCode);
  assert.equal(dlq?.settlement.op === "dlq" && dlq.settlement.executed, false);
  assert.match(dlq?.settlement.op === "dlq" ? dlq.settlement.reason : "", /ca_1.*never executed/);
  const parked = ownershipSettlement(e, { kind: "retry", reason: "503", delayMs: 30_000 }, now, {});
  assert.deepEqual(parked?.settlement, {
    id: "e1",
    token: "t1",
    details: {},
    op: "park",
    status: "deferred",
    reason: "the account's owner could not be checked with Composio: 503",
    until: "2026-12-01T00:00:30.000Z",
  });
  const halted = ownershipSettlement(e, { kind: "halt", reason: "our key" }, now, {});
  assert.equal(halted?.settlement.op, "release");
  assert.equal(halted?.halt, "our key");
});
