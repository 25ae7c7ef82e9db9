import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type AccountFacts,
  type EnvelopeFacts,
  evaluateGuardrails,
  type GuardrailConfig,
  type GuardrailDecision,
  type GuardrailInput,
  type ToolFacts,
} from "./guardrails.ts";
import {
  type QuietHours,
  quietHoursEnd,
  quietHoursSchema,
  quietPeriodEnd,
  type QuietSchedule,
  type QuietWindow,
} from "./quiet_hours.ts";
import { instants, quietHours as quietHoursValues } from "./calendar_arbitraries.ts";
import { parseGuardrailConfig } from "./guardrail_config.ts";

const schedule = (q: QuietHours): QuietSchedule => quietHoursSchema.parse(q);

const config: GuardrailConfig = {
  quietHours: { timezone: "UTC", windows: [] },
  trustThreshold: 0.5,
  allowedToolkits: null,
  allowedScopes: null,
  requireEvidence: false,
  approvalRiskTiers: ["high"],
  maxAttempts: { low: 5, medium: 3, high: 1 },
};
const envelope: EnvelopeFacts = {
  toolkit: "github",
  risk: "low",
  readOnly: false,
  trustScore: 0.9,
  evidenceCount: 1,
  approved: false,
};
const account: AccountFacts = { status: "active", scopes: ["repo", "read:user"] };
const tool: ToolFacts = { toolkit: "github", requiredScopes: ["repo"], deprecated: false };

interface Overrides {
  envelope?: Partial<EnvelopeFacts>;
  guardrails?: Partial<GuardrailConfig>;
  account?: AccountFacts | null;
  tool?: ToolFacts | null;
}

function input(o: Overrides = {}): GuardrailInput {
  return {
    envelope: { ...envelope, ...o.envelope },
    guardrails: { ...config, ...o.guardrails },
    account: o.account === undefined ? account : o.account,
    tool: o.tool === undefined ? tool : o.tool,
  };
}

const NOON = new Date("2026-06-10T12:00:00Z");

// ---------------------------------------------------------------------------------------
// Deny and approval

type Expected =
  | { kind: "allow" }
  | { kind: "needs_approval"; reason: string }
  | { kind: "deny"; code: string; reason: string };

const decisionTable: { name: string; input: GuardrailInput; expected: Expected }[] = [
  { name: "everything in order", input: input(), expected: { kind: "allow" } },
  {
    name: "unknown tool",
    input: input({ tool: null }),
    expected: {
      kind: "deny",
      code: "tool_unknown",
      reason: "The tool is not in the tenant's tool catalog.",
    },
  },
  {
    name: "tool of another toolkit",
    input: input({ tool: { ...tool, toolkit: "slack" } }),
    expected: {
      kind: "deny",
      code: "tool_unknown",
      reason: "The tool belongs to toolkit slack, not github.",
    },
  },
  {
    name: "toolkit slugs compare without case",
    input: input({ tool: { ...tool, toolkit: "GITHUB" } }),
    expected: { kind: "allow" },
  },
  {
    name: "deprecated tool",
    input: input({ tool: { ...tool, deprecated: true } }),
    expected: { kind: "deny", code: "tool_deprecated", reason: "The tool is deprecated." },
  },
  {
    name: "no connected account",
    input: input({ account: null }),
    expected: {
      kind: "deny",
      code: "account_disconnected",
      reason: "No connected github account.",
    },
  },
  ...["initiated", "inactive", "expired", "failed", "revoked", "EXPIRED"].map((status) => ({
    name: `account ${status}`,
    input: input({ account: { ...account, status } }),
    expected: {
      kind: "deny" as const,
      code: "account_disconnected",
      reason: `The github account is ${status.toLowerCase()}, not active; reconnect it.`,
    },
  })),
  {
    name: "Composio's uppercase ACTIVE",
    input: input({ account: { ...account, status: "ACTIVE" } }),
    expected: { kind: "allow" },
  },
  {
    name: "toolkit not allowed",
    input: input({ guardrails: { allowedToolkits: ["slack", "gmail"] } }),
    expected: {
      kind: "deny",
      code: "toolkit_not_allowed",
      reason: "Toolkit github is not allowed for this tenant.",
    },
  },
  {
    name: "empty toolkit list allows none",
    input: input({ guardrails: { allowedToolkits: [] } }),
    expected: {
      kind: "deny",
      code: "toolkit_not_allowed",
      reason: "Toolkit github is not allowed for this tenant.",
    },
  },
  {
    name: "toolkit allowed (any case)",
    input: input({ guardrails: { allowedToolkits: ["GitHub"] } }),
    expected: { kind: "allow" },
  },
  {
    name: "scope not granted to the account",
    input: input({ account: { ...account, scopes: ["read:user"] } }),
    expected: {
      kind: "deny",
      code: "scope_not_granted",
      reason: "Missing scopes repo (not granted to the github account: repo).",
    },
  },
  {
    name: "scope not allowed for the tenant",
    input: input({ guardrails: { allowedScopes: ["read:user"] } }),
    expected: {
      kind: "deny",
      code: "scope_not_granted",
      reason: "Missing scopes repo (not allowed for this tenant: repo).",
    },
  },
  {
    name: "several scopes missing on both sides, listed once each",
    input: input({
      tool: { ...tool, requiredScopes: ["repo", "admin:org", "repo", "gist"] },
      account: { ...account, scopes: ["repo"] },
      guardrails: { allowedScopes: ["repo", "gist"] },
    }),
    expected: {
      kind: "deny",
      code: "scope_not_granted",
      reason:
        "Missing scopes admin:org, gist (not granted to the github account: admin:org, gist; not allowed for this tenant: admin:org).",
    },
  },
  {
    name: "scopes compare exactly",
    input: input({ account: { ...account, scopes: ["REPO"] } }),
    expected: {
      kind: "deny",
      code: "scope_not_granted",
      reason: "Missing scopes repo (not granted to the github account: repo).",
    },
  },
  {
    name: "tenant scope grant that covers the tool",
    input: input({ guardrails: { allowedScopes: ["repo"] } }),
    expected: { kind: "allow" },
  },
  {
    name: "tool without scopes",
    input: input({ tool: { ...tool, requiredScopes: [] }, guardrails: { allowedScopes: [] } }),
    expected: { kind: "allow" },
  },
  {
    name: "evidence required for a write",
    input: input({ guardrails: { requireEvidence: true }, envelope: { evidenceCount: 0 } }),
    expected: {
      kind: "deny",
      code: "evidence_required",
      reason: "This tenant requires evidence for writes; none is attached.",
    },
  },
  {
    name: "evidence present",
    input: input({ guardrails: { requireEvidence: true }, envelope: { evidenceCount: 3 } }),
    expected: { kind: "allow" },
  },
  {
    name: "reads gather evidence, so they skip the evidence check",
    input: input({
      guardrails: { requireEvidence: true },
      envelope: { evidenceCount: 0, readOnly: true },
    }),
    expected: { kind: "allow" },
  },
  {
    name: "order: deprecated tool before a disconnected account",
    input: input({ tool: { ...tool, deprecated: true }, account: null }),
    expected: { kind: "deny", code: "tool_deprecated", reason: "The tool is deprecated." },
  },
  {
    name: "order: disconnected account before a disallowed toolkit",
    input: input({
      account: { ...account, status: "revoked" },
      guardrails: { allowedToolkits: [] },
    }),
    expected: {
      kind: "deny",
      code: "account_disconnected",
      reason: "The github account is revoked, not active; reconnect it.",
    },
  },
  {
    name: "order: disallowed toolkit before missing scopes",
    input: input({ guardrails: { allowedToolkits: [], allowedScopes: [] } }),
    expected: {
      kind: "deny",
      code: "toolkit_not_allowed",
      reason: "Toolkit github is not allowed for this tenant.",
    },
  },
  {
    name: "order: missing scopes before missing evidence",
    input: input({
      guardrails: { allowedScopes: [], requireEvidence: true },
      envelope: { evidenceCount: 0 },
    }),
    expected: {
      kind: "deny",
      code: "scope_not_granted",
      reason: "Missing scopes repo (not allowed for this tenant: repo).",
    },
  },
  {
    name: "approval by risk tier",
    input: input({ envelope: { risk: "high" } }),
    expected: { kind: "needs_approval", reason: "High-risk actions need approval." },
  },
  {
    name: "tier not listed needs no approval",
    input: input({ envelope: { risk: "medium" } }),
    expected: { kind: "allow" },
  },
  {
    name: "approval for every tier",
    input: input({ guardrails: { approvalRiskTiers: ["low", "medium", "high"] } }),
    expected: { kind: "needs_approval", reason: "Low-risk actions need approval." },
  },
  {
    name: "approval by trust",
    input: input({ envelope: { trustScore: 0.3 } }),
    expected: { kind: "needs_approval", reason: "Trust score 0.3 is below the threshold 0.5." },
  },
  {
    name: "trust equal to the threshold is enough",
    input: input({ envelope: { trustScore: 0.5 } }),
    expected: { kind: "allow" },
  },
  {
    name: "unknown trust counts as 0",
    input: input({ envelope: { trustScore: null } }),
    expected: {
      kind: "needs_approval",
      reason: "The trust score is unknown (counted as 0), below the threshold 0.5.",
    },
  },
  {
    name: "unknown trust with threshold 0",
    input: input({ envelope: { trustScore: null }, guardrails: { trustThreshold: 0 } }),
    expected: { kind: "allow" },
  },
  {
    name: "both tier and trust",
    input: input({ envelope: { risk: "high", trustScore: 0.1 } }),
    expected: {
      kind: "needs_approval",
      reason: "High-risk actions need approval; trust score 0.1 is below the threshold 0.5.",
    },
  },
  {
    name: "approved envelope bypasses approval",
    input: input({ envelope: { risk: "high", trustScore: 0.1, approved: true } }),
    expected: { kind: "allow" },
  },
  {
    name: "reads never need approval",
    input: input({ envelope: { risk: "high", trustScore: null, readOnly: true } }),
    expected: { kind: "allow" },
  },
  {
    name: "approval does not lift a deny",
    input: input({
      envelope: { approved: true, evidenceCount: 0 },
      guardrails: { requireEvidence: true },
    }),
    expected: {
      kind: "deny",
      code: "evidence_required",
      reason: "This tenant requires evidence for writes; none is attached.",
    },
  },
  {
    name: "deny comes before approval",
    input: input({ envelope: { risk: "high" }, account: null }),
    expected: {
      kind: "deny",
      code: "account_disconnected",
      reason: "No connected github account.",
    },
  },
  {
    name: "deny comes before quiet hours",
    input: input({
      tool: null,
      guardrails: {
        quietHours: schedule({ timezone: "UTC", windows: [{ start: "00:00", end: "00:00" }] }),
      },
    }),
    expected: {
      kind: "deny",
      code: "tool_unknown",
      reason: "The tool is not in the tenant's tool catalog.",
    },
  },
  {
    name: "approval comes before quiet hours",
    input: input({
      envelope: { risk: "high" },
      guardrails: {
        quietHours: schedule({ timezone: "UTC", windows: [{ start: "00:00", end: "00:00" }] }),
      },
    }),
    expected: { kind: "needs_approval", reason: "High-risk actions need approval." },
  },
];

for (const { name, input, expected } of decisionTable) {
  Deno.test(`evaluateGuardrails: ${name}`, () => {
    assert.deepEqual(evaluateGuardrails(input, NOON), expected);
  });
}

// ---------------------------------------------------------------------------------------
// Quiet hours (the calendar itself is tested in quiet_hours_test.ts)

const quiet = (timezone: string, windows: QuietWindow[], o: Overrides = {}) =>
  input({ ...o, guardrails: { ...o.guardrails, quietHours: schedule({ timezone, windows }) } });

const deferTable: {
  name: string;
  input: GuardrailInput;
  now: string;
  until: string;
  reason?: string;
}[] = [
  {
    name: "UTC, crossing midnight",
    input: quiet("UTC", [{ start: "22:00", end: "06:00" }]),
    now: "2026-06-10T23:00:00Z",
    until: "2026-06-11T06:00:00Z",
    reason: "Quiet hours until 2026-06-11 06:00 UTC.",
  },
  {
    name: "quiet all week",
    input: quiet("UTC", [{ start: "00:00", end: "00:00" }]),
    now: "2026-06-10T12:00:00Z",
    until: "2026-06-18T00:00:00Z",
    reason: "Quiet hours cover the whole week; looking again at 2026-06-18 00:00 UTC.",
  },
  {
    name: "Berlin, night across spring forward is 8 h",
    input: quiet("Europe/Berlin", [{ start: "22:00", end: "07:00" }]),
    now: "2026-03-28T23:00:00Z",
    until: "2026-03-29T05:00:00Z",
    reason: "Quiet hours until 2026-03-29 07:00 Europe/Berlin.",
  },
  {
    name: "Berlin, end 02:30 does not exist: the jump to 03:00",
    input: quiet("Europe/Berlin", [{ start: "23:00", end: "02:30" }]),
    now: "2026-03-29T00:30:00Z",
    until: "2026-03-29T01:00:00Z",
    reason: "Quiet hours until 2026-03-29 03:00 Europe/Berlin.",
  },
  {
    name: "New York, end 02:30 does not exist: 03:00 EDT",
    input: quiet("America/New_York", [{ start: "21:00", end: "02:30" }]),
    now: "2026-03-08T06:30:00Z",
    until: "2026-03-08T07:00:00Z",
    reason: "Quiet hours until 2026-03-08 03:00 America/New_York.",
  },
  {
    name: "New York, night across fall back",
    input: quiet("America/New_York", [{ start: "22:00", end: "06:00" }]),
    now: "2026-11-01T04:00:00Z",
    until: "2026-11-01T11:00:00Z",
    reason: "Quiet hours until 2026-11-01 06:00 America/New_York.",
  },
  {
    name: "Kolkata, half-hour offset",
    input: quiet("Asia/Kolkata", [{ start: "21:00", end: "07:30" }]),
    now: "2026-01-15T16:00:00Z",
    until: "2026-01-16T02:00:00Z",
    reason: "Quiet hours until 2026-01-16 07:30 Asia/Kolkata.",
  },
  {
    name: "reads wait for quiet hours",
    input: quiet("UTC", [{ start: "22:00", end: "06:00" }], { envelope: { readOnly: true } }),
    now: "2026-06-10T23:00:00Z",
    until: "2026-06-11T06:00:00Z",
  },
  {
    name: "approved envelopes wait for quiet hours",
    input: quiet("UTC", [{ start: "22:00", end: "06:00" }], {
      envelope: { risk: "high", approved: true },
    }),
    now: "2026-06-10T23:00:00Z",
    until: "2026-06-11T06:00:00Z",
  },
];

for (const { name, input, now, until, reason } of deferTable) {
  Deno.test(`evaluateGuardrails defers: ${name}`, () => {
    const decision = evaluateGuardrails(input, new Date(now));
    assert.equal(decision.kind, "defer");
    const defer = decision as Extract<GuardrailDecision, { kind: "defer" }>;
    assert.equal(defer.until.toISOString(), new Date(until).toISOString());
    if (reason !== undefined) assert.equal(defer.reason, reason);
    assert.equal(
      quietHoursEnd(input.guardrails.quietHours, new Date(now))?.toISOString(),
      defer.until.toISOString(),
    );
  });
}

Deno.test("evaluateGuardrails works on a config parsed once, for many envelopes and times", () => {
  // The drain's case: one parsed config per tenant and batch. The decision reads the parsed
  // quiet hours (minute offsets, weekday sets) and checks none of the config's fields again,
  // so a frozen config built without any "HH:MM" text serves every envelope.
  const deepFreeze = <T>(value: T): T => {
    if (value !== null && typeof value === "object" && !(value instanceof Set)) {
      Object.values(value).forEach(deepFreeze);
      Object.freeze(value);
    }
    return value;
  };
  const parsedOnce = deepFreeze<GuardrailConfig>({
    ...config,
    quietHours: {
      timezone: "Europe/Berlin",
      windows: [{ startMinute: 22 * 60, endMinute: 7 * 60, days: null }],
    },
  });
  const decide = (risk: "low" | "high", now: string) =>
    evaluateGuardrails(input({ guardrails: parsedOnce, envelope: { risk } }), new Date(now));
  assert.deepEqual(decide("low", "2026-06-10T10:00:00Z"), { kind: "allow" });
  assert.deepEqual(decide("high", "2026-06-10T10:00:00Z"), {
    kind: "needs_approval",
    reason: "High-risk actions need approval.",
  });
  assert.deepEqual(decide("low", "2026-06-10T21:00:00Z"), {
    kind: "defer",
    until: new Date("2026-06-11T05:00:00Z"),
    reason: "Quiet hours until 2026-06-11 07:00 Europe/Berlin.",
  });
  // And the same holds for what parseGuardrailConfig returns.
  const fromRow = parseGuardrailConfig({
    quiet_hours: { timezone: "Europe/Berlin", windows: [{ start: "22:00", end: "07:00" }] },
    trust_threshold: "0.5",
    allowed_toolkits: null,
    allowed_scopes: null,
    require_evidence: false,
    approval_risk_tiers: ["high"],
    max_attempts: { low: 5, medium: 3, high: 1 },
  });
  assert.deepEqual(fromRow, parsedOnce);
});

// ---------------------------------------------------------------------------------------
// Argument checks

const badInputs: { name: string; call: () => unknown; error: ErrorConstructor; message: RegExp }[] =
  [
    {
      name: "invalid now",
      call: () => evaluateGuardrails(input(), new Date(NaN)),
      error: RangeError,
      message: /now must be a valid Date/,
    },
    {
      name: "now not a Date",
      call: () => evaluateGuardrails(input(), "2026-01-01" as unknown as Date),
      error: TypeError,
      message: /now must be a Date, got "2026-01-01"/,
    },
    {
      name: "trust score above 1",
      call: () => evaluateGuardrails(input({ envelope: { trustScore: 1.5 } }), NOON),
      error: RangeError,
      message: /envelope\.trustScore must be a number within 0\.\.1, got 1\.5/,
    },
    {
      name: "trust score NaN",
      call: () => evaluateGuardrails(input({ envelope: { trustScore: NaN } }), NOON),
      error: RangeError,
      message: /envelope\.trustScore .* got NaN/,
    },
    {
      name: "negative evidence",
      call: () => evaluateGuardrails(input({ envelope: { evidenceCount: -1 } }), NOON),
      error: RangeError,
      message: /envelope\.evidenceCount must be an integer >= 0, got -1/,
    },
    {
      name: "unknown risk",
      call: () => evaluateGuardrails(input({ envelope: { risk: "urgent" as "high" } }), NOON),
      error: RangeError,
      message: /envelope\.risk must be low, medium or high, got "urgent"/,
    },
    {
      name: "scopes not an array",
      call: () =>
        evaluateGuardrails(
          input({ account: { status: "active", scopes: "repo" as unknown as string[] } }),
          NOON,
        ),
      error: TypeError,
      message: /account\.scopes must be an array of strings/,
    },
  ];

for (const { name, call, error, message } of badInputs) {
  Deno.test(`evaluateGuardrails rejects ${name}`, () => {
    assert.throws(call, (e) => e instanceof error && message.test((e as Error).message));
  });
}

// ---------------------------------------------------------------------------------------
// Properties

const DAY = 24 * 3_600_000;
const parsedQuietHours = quietHoursValues.map(schedule);

Deno.test("property: quiet hours alone defer until quietHoursEnd, and allow outside them", () => {
  // Inputs that pass every check but quiet hours.
  fc.assert(
    fc.property(parsedQuietHours, instants, (quietHours, now) => {
      const decision = evaluateGuardrails(input({ guardrails: { quietHours } }), now);
      const end = quietHoursEnd(quietHours, now);
      if (end === null) return assert.deepEqual(decision, { kind: "allow" });
      assert.equal(decision.kind, "defer");
      const defer = decision as Extract<GuardrailDecision, { kind: "defer" }>;
      assert.equal(defer.until.getTime(), end.getTime());
      // The reason says so exactly when the search stopped at the horizon.
      const { capped } = quietPeriodEnd(quietHours, now.getTime())!;
      assert.equal(defer.reason.startsWith("Quiet hours cover the whole week"), capped);
      if (capped) assert.ok(end.getTime() - now.getTime() >= 7 * DAY);
    }),
    { numRuns: 400 },
  );
});

const scopeNames = fc.constantFrom("repo", "read:user", "admin:org", "chat:write");
const toolkitNames = fc.constantFrom("github", "slack", "GitHub");
const anyInput: fc.Arbitrary<GuardrailInput> = fc.record({
  envelope: fc.record({
    toolkit: toolkitNames,
    risk: fc.constantFrom("low" as const, "medium" as const, "high" as const),
    readOnly: fc.boolean(),
    trustScore: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    evidenceCount: fc.nat({ max: 3 }),
    approved: fc.boolean(),
  }),
  guardrails: fc.record({
    quietHours: parsedQuietHours,
    trustThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
    allowedToolkits: fc.option(fc.uniqueArray(toolkitNames), { nil: null }),
    allowedScopes: fc.option(fc.uniqueArray(scopeNames), { nil: null }),
    requireEvidence: fc.boolean(),
    approvalRiskTiers: fc.uniqueArray(
      fc.constantFrom("low" as const, "medium" as const, "high" as const),
    ),
    maxAttempts: fc.constant({ low: 5, medium: 3, high: 1 }),
  }),
  account: fc.option(
    fc.record({
      status: fc.constantFrom("active", "ACTIVE", "initiated", "expired", "revoked"),
      scopes: fc.uniqueArray(scopeNames),
    }),
    { nil: null },
  ),
  tool: fc.option(
    fc.record({
      toolkit: toolkitNames,
      requiredScopes: fc.uniqueArray(scopeNames),
      deprecated: fc.boolean(),
    }),
    { nil: null },
  ),
});

Deno.test("property: deny does not depend on now", () => {
  fc.assert(
    fc.property(anyInput, instants, instants, (inp, a, b) => {
      const first = evaluateGuardrails(inp, a);
      const second = evaluateGuardrails(inp, b);
      if (first.kind === "deny" || second.kind === "deny") assert.deepEqual(first, second);
      // Nor does needs_approval: both are decided before the clock is read.
      if (first.kind === "needs_approval") assert.deepEqual(first, second);
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: decisions are deterministic and do not touch the input", () => {
  fc.assert(
    fc.property(anyInput, instants, (inp, now) => {
      const snapshot = structuredClone(inp);
      const first = evaluateGuardrails(inp, now);
      assert.deepEqual(evaluateGuardrails(structuredClone(inp), new Date(now.getTime())), first);
      // (fast-check may build null-prototype records; cloning normalizes both sides.)
      assert.deepEqual(structuredClone(inp), snapshot);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: reads and approved envelopes never need approval; reads never need evidence", () => {
  fc.assert(
    fc.property(anyInput, instants, (inp, now) => {
      const decision = evaluateGuardrails(inp, now);
      if (inp.envelope.readOnly || inp.envelope.approved) {
        assert.notEqual(decision.kind, "needs_approval");
      }
      if (inp.envelope.readOnly) {
        assert.ok(decision.kind !== "deny" || decision.code !== "evidence_required");
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: allow only when every gate is open", () => {
  fc.assert(
    fc.property(anyInput, instants, (inp, now) => {
      const decision = evaluateGuardrails(inp, now);
      if (decision.kind !== "allow") return;
      const { envelope: e, guardrails: g, account: a, tool: t } = inp;
      assert.ok(t !== null && !t.deprecated && t.toolkit.toLowerCase() === e.toolkit.toLowerCase());
      assert.ok(a !== null && a.status.toLowerCase() === "active");
      assert.ok(
        g.allowedToolkits === null ||
          g.allowedToolkits.some((k) => k.toLowerCase() === e.toolkit.toLowerCase()),
      );
      assert.ok(
        t.requiredScopes.every((s) =>
          a.scopes.includes(s) && (g.allowedScopes?.includes(s) ?? true)
        ),
      );
      assert.ok(!g.requireEvidence || e.evidenceCount > 0 || e.readOnly);
      assert.ok(
        e.readOnly || e.approved ||
          (!g.approvalRiskTiers.includes(e.risk) && (e.trustScore ?? 0) >= g.trustThreshold),
      );
      assert.equal(quietHoursEnd(g.quietHours, now), null);
    }),
    { numRuns: 300 },
  );
});
