import assert from "node:assert/strict";
import type { ExecuteOutcome } from "../_shared/composio_execute.ts";
import type { Claimed } from "./claim.ts";
import { observe, splitByGrants, wantsOf } from "./flow_control.ts";

const env = (id: string, tenant: string, toolkit: string): Claimed =>
  ({ id, tenant_id: tenant, toolkit, lease_token: `tok-${id}`, attempts: 2 }) as Claimed;

Deno.test("wantsOf: one want per (tenant, toolkit), in the order of its first envelope", () => {
  const envs = [
    env("1", "a", "github"),
    env("2", "b", "github"),
    env("3", "a", "github"),
    env("4", "a", "slack"),
  ];
  assert.deepEqual(wantsOf(envs), [
    { tenant_id: "a", toolkit: "github", n: 2 },
    { tenant_id: "b", toolkit: "github", n: 1 },
    { tenant_id: "a", toolkit: "slack", n: 1 },
  ]);
  assert.deepEqual(wantsOf([]), []);
});

Deno.test("splitByGrants: the first granted of each pair go, the rest wait, attempts unspent", () => {
  const envs = [
    env("1", "a", "github"),
    env("2", "a", "github"),
    env("3", "b", "github"),
    env("4", "a", "github"),
  ];
  const at = new Date("2026-12-03T12:00:05Z");
  const { send, held } = splitByGrants(envs, [
    { tenant_id: "a", toolkit: "github", n: 3, granted: 1, retry_at: at },
    { tenant_id: "b", toolkit: "github", n: 1, granted: 1, retry_at: null },
  ], { worker: "w" });
  assert.deepEqual(send.map((e) => e.id), ["1", "3"]);
  assert.deepEqual(held.map((h) => h.settlement.id), ["2", "4"]);
  for (const h of held) {
    const s = h.settlement;
    assert.equal(h.counter, "throttled");
    assert.equal(s.op, "park");
    if (s.op !== "park") continue;
    assert.equal(s.status, "deferred");
    assert.equal(s.until, at.toISOString());
    assert.equal(s.details.attempt, 2, "the attempt it would have been is not spent");
    assert.equal(s.token, `tok-${s.id}`);
  }
});

const answer = (status: number, rl: Partial<ExecuteOutcome["rateLimit"]> | null) =>
  ({
    call: { kind: "response", status, retryAfterMs: rl?.retryAfterMs ?? null },
    body: null,
    durationMs: 1,
    rateLimit: rl === null
      ? null
      : { limit: null, remaining: null, windowSeconds: null, retryAfterMs: null, ...rl },
  }) as ExecuteOutcome;

Deno.test("observe: the latest full headers win; any 429 closes, for the longest Retry-After", () => {
  const o = observe([
    { exec: answer(200, { limit: 100, remaining: 40, windowSeconds: 600 }), at: 2 },
    { exec: answer(200, { limit: 100, remaining: 50, windowSeconds: 600 }), at: 1 },
    { exec: answer(429, { retryAfterMs: 3_000 }), at: 3 },
    { exec: answer(429, { retryAfterMs: 9_000 }), at: 4 },
    { exec: answer(200, null), at: 5 },
  ]);
  assert.deepEqual(o.latest, {
    limit: 100,
    remaining: 40,
    windowSeconds: 600,
    retryAfterMs: null,
  });
  assert.equal(o.limited, true);
  assert.equal(o.retryAfterMs, 9_000);
  assert.deepEqual(observe([]), { latest: null, limited: false, retryAfterMs: null });
});
