import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type AccountFacts,
  type EnvelopeFacts,
  evaluateGuardrails,
  type GuardrailConfig,
  type GuardrailDecision,
  type GuardrailInput,
  parseGuardrailConfig,
  quietHoursEnd,
  type QuietWindow,
  type ToolFacts,
} from "./guardrails.ts";

const config: GuardrailConfig = {
  quietHours: { timezone: "UTC", windows: [] },
  trustThreshold: 0.5,
  allowedToolkits: null,
  allowedScopes: null,
  requireEvidence: false,
  approvalRiskTiers: ["high"],
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
      guardrails: { quietHours: { timezone: "UTC", windows: [{ start: "00:00", end: "00:00" }] } },
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
      guardrails: { quietHours: { timezone: "UTC", windows: [{ start: "00:00", end: "00:00" }] } },
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
// Quiet hours

const quiet = (timezone: string, windows: QuietWindow[], o: Overrides = {}) =>
  input({ ...o, guardrails: { ...o.guardrails, quietHours: { timezone, windows } } });

// 2026-06-01 is a Monday; 2026-06-05 a Friday.
const quietTable: {
  name: string;
  input: GuardrailInput;
  now: string;
  until: string | null; // null: allow
  reason?: string;
}[] = [
  // UTC
  {
    name: "UTC, crossing midnight",
    input: quiet("UTC", [{ start: "22:00", end: "06:00" }]),
    now: "2026-06-10T23:00:00Z",
    until: "2026-06-11T06:00:00Z",
    reason: "Quiet hours until 2026-06-11 06:00 UTC.",
  },
  {
    name: "UTC, crossing midnight, after midnight",
    input: quiet("UTC", [{ start: "22:00", end: "06:00" }]),
    now: "2026-06-11T05:59:59Z",
    until: "2026-06-11T06:00:00Z",
  },
  {
    name: "UTC, same day",
    input: quiet("UTC", [{ start: "12:00", end: "13:00" }]),
    now: "2026-06-10T12:30:00Z",
    until: "2026-06-10T13:00:00Z",
  },
  {
    name: "UTC, start is inside",
    input: quiet("UTC", [{ start: "12:00", end: "13:00" }]),
    now: "2026-06-10T12:00:00Z",
    until: "2026-06-10T13:00:00Z",
  },
  {
    name: "UTC, end is outside",
    input: quiet("UTC", [{ start: "12:00", end: "13:00" }]),
    now: "2026-06-10T13:00:00Z",
    until: null,
  },
  {
    name: "UTC, just before start",
    input: quiet("UTC", [{ start: "12:00", end: "13:00" }]),
    now: "2026-06-10T11:59:59.999Z",
    until: null,
  },
  { name: "no windows", input: quiet("UTC", []), now: "2026-06-10T03:00:00Z", until: null },
  // days filter (the start date's ISO weekday)
  {
    name: "days: Friday night window on Saturday morning",
    input: quiet("UTC", [{ start: "22:00", end: "06:00", days: [5] }]),
    now: "2026-06-06T03:00:00Z",
    until: "2026-06-06T06:00:00Z",
  },
  {
    name: "days: Friday morning belongs to Thursday's window",
    input: quiet("UTC", [{ start: "22:00", end: "06:00", days: [5] }]),
    now: "2026-06-05T03:00:00Z",
    until: null,
  },
  {
    name: "days: Friday night",
    input: quiet("UTC", [{ start: "22:00", end: "06:00", days: [5] }]),
    now: "2026-06-05T23:00:00Z",
    until: "2026-06-06T06:00:00Z",
  },
  {
    name: "days: Saturday night not listed",
    input: quiet("UTC", [{ start: "22:00", end: "06:00", days: [5] }]),
    now: "2026-06-06T23:00:00Z",
    until: null,
  },
  {
    name: "days: empty list matches no day",
    input: quiet("UTC", [{ start: "00:00", end: "00:00", days: [] }]),
    now: "2026-06-06T12:00:00Z",
    until: null,
  },
  {
    name: "days: Sunday is 7",
    input: quiet("UTC", [{ start: "10:00", end: "11:00", days: [7] }]),
    now: "2026-06-07T10:30:00Z",
    until: "2026-06-07T11:00:00Z",
  },
  // end == start: a whole day
  {
    name: "24 h window, next morning",
    input: quiet("UTC", [{ start: "09:00", end: "09:00", days: [6] }]),
    now: "2026-06-07T08:00:00Z",
    until: "2026-06-07T09:00:00Z",
  },
  {
    name: "24 h window, from its start",
    input: quiet("UTC", [{ start: "09:00", end: "09:00", days: [6] }]),
    now: "2026-06-06T09:00:00Z",
    until: "2026-06-07T09:00:00Z",
  },
  {
    name: "24 h window, before its start",
    input: quiet("UTC", [{ start: "09:00", end: "09:00", days: [6] }]),
    now: "2026-06-06T08:59:00Z",
    until: null,
  },
  // merged periods
  {
    name: "touching windows chain",
    input: quiet("UTC", [{ start: "00:00", end: "06:00" }, { start: "22:00", end: "00:00" }]),
    now: "2026-06-10T23:00:00Z",
    until: "2026-06-11T06:00:00Z",
  },
  {
    name: "overlapping windows merge",
    input: quiet("UTC", [{ start: "20:00", end: "23:00" }, { start: "22:00", end: "01:00" }]),
    now: "2026-06-10T21:00:00Z",
    until: "2026-06-11T01:00:00Z",
  },
  {
    name: "a one-minute gap does not chain",
    input: quiet("UTC", [{ start: "22:00", end: "23:00" }, { start: "23:01", end: "23:30" }]),
    now: "2026-06-10T22:30:00Z",
    until: "2026-06-10T23:00:00Z",
  },
  {
    name: "a weekend built from three windows",
    input: quiet("UTC", [
      { start: "18:00", end: "00:00", days: [5] },
      { start: "00:00", end: "00:00", days: [6] },
      { start: "00:00", end: "08:00", days: [7] },
    ]),
    now: "2026-06-05T19:00:00Z",
    until: "2026-06-07T08:00:00Z",
  },
  {
    name: "quiet all week",
    input: quiet("UTC", [{ start: "00:00", end: "00:00" }]),
    now: "2026-06-10T12:00:00Z",
    until: "2026-06-18T00:00:00Z",
    reason: "Quiet hours cover the whole week; looking again at 2026-06-18 00:00 UTC.",
  },
  // Europe/Berlin: CET (+1) → CEST (+2) on 2026-03-29 at 01:00Z (02:00 → 03:00 local)
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
    name: "Berlin, start 02:30 does not exist: starts at the jump",
    input: quiet("Europe/Berlin", [{ start: "02:30", end: "04:00" }]),
    now: "2026-03-29T01:00:00Z",
    until: "2026-03-29T02:00:00Z",
  },
  {
    name: "Berlin, just before the jump",
    input: quiet("Europe/Berlin", [{ start: "02:30", end: "04:00" }]),
    now: "2026-03-29T00:59:59Z",
    until: null,
  },
  {
    name: "Berlin, window inside the gap never happens",
    input: quiet("Europe/Berlin", [{ start: "02:10", end: "02:50" }]),
    now: "2026-03-29T01:00:00Z",
    until: null,
  },
  {
    name: "Berlin, 24 h window across spring forward is 23 h",
    input: quiet("Europe/Berlin", [{ start: "12:00", end: "12:00", days: [6] }]),
    now: "2026-03-29T09:30:00Z",
    until: "2026-03-29T10:00:00Z",
  },
  // Europe/Berlin: CEST (+2) → CET (+1) on 2026-10-25 at 01:00Z (03:00 → 02:00 local)
  {
    name: "Berlin, ambiguous end: the earlier 02:30 (CEST)",
    input: quiet("Europe/Berlin", [{ start: "22:00", end: "02:30" }]),
    now: "2026-10-25T00:15:00Z",
    until: "2026-10-25T00:30:00Z",
  },
  {
    name: "Berlin, the repeated 02:15 CET is after that end",
    input: quiet("Europe/Berlin", [{ start: "22:00", end: "02:30" }]),
    now: "2026-10-25T01:15:00Z",
    until: null,
  },
  {
    name: "Berlin, ambiguous start: from the earlier 02:30",
    input: quiet("Europe/Berlin", [{ start: "02:30", end: "05:00" }]),
    now: "2026-10-25T01:10:00Z",
    until: "2026-10-25T04:00:00Z",
  },
  {
    name: "Berlin, night across fall back is 7 h",
    input: quiet("Europe/Berlin", [{ start: "01:00", end: "07:00" }]),
    now: "2026-10-25T03:00:00Z",
    until: "2026-10-25T06:00:00Z",
  },
  {
    name: "Berlin, 24 h window across fall back is 25 h",
    input: quiet("Europe/Berlin", [{ start: "12:00", end: "12:00", days: [6] }]),
    now: "2026-10-25T10:30:00Z",
    until: "2026-10-25T11:00:00Z",
  },
  // America/New_York: EST (-5) → EDT (-4) on 2026-03-08 at 07:00Z (02:00 → 03:00 local)
  {
    name: "New York, end 02:30 does not exist: 03:00 EDT",
    input: quiet("America/New_York", [{ start: "21:00", end: "02:30" }]),
    now: "2026-03-08T06:30:00Z",
    until: "2026-03-08T07:00:00Z",
    reason: "Quiet hours until 2026-03-08 03:00 America/New_York.",
  },
  {
    name: "New York, night across spring forward",
    input: quiet("America/New_York", [{ start: "22:00", end: "06:00" }]),
    now: "2026-03-08T05:00:00Z",
    until: "2026-03-08T10:00:00Z",
  },
  // America/New_York: EDT (-4) → EST (-5) on 2026-11-01 at 06:00Z (02:00 → 01:00 local)
  {
    name: "New York, ambiguous end: the earlier 01:30 (EDT)",
    input: quiet("America/New_York", [{ start: "00:00", end: "01:30" }]),
    now: "2026-11-01T05:15:00Z",
    until: "2026-11-01T05:30:00Z",
  },
  {
    name: "New York, the repeated 01:15 EST is after that end",
    input: quiet("America/New_York", [{ start: "00:00", end: "01:30" }]),
    now: "2026-11-01T06:15:00Z",
    until: null,
  },
  {
    name: "New York, night across fall back",
    input: quiet("America/New_York", [{ start: "22:00", end: "06:00" }]),
    now: "2026-11-01T04:00:00Z",
    until: "2026-11-01T11:00:00Z",
    reason: "Quiet hours until 2026-11-01 06:00 America/New_York.",
  },
  // Asia/Kolkata: +05:30, no DST
  {
    name: "Kolkata, half-hour offset",
    input: quiet("Asia/Kolkata", [{ start: "21:00", end: "07:30" }]),
    now: "2026-01-15T16:00:00Z",
    until: "2026-01-16T02:00:00Z",
    reason: "Quiet hours until 2026-01-16 07:30 Asia/Kolkata.",
  },
  {
    name: "Kolkata, a minute before",
    input: quiet("Asia/Kolkata", [{ start: "21:00", end: "07:30" }]),
    now: "2026-01-15T15:29:00Z",
    until: null,
  },
  {
    name: "Kolkata, weekday taken locally (Saturday 01:00 IST is Friday in UTC)",
    input: quiet("Asia/Kolkata", [{ start: "00:00", end: "06:00", days: [6] }]),
    now: "2026-06-05T19:30:00Z",
    until: "2026-06-06T00:30:00Z",
  },
  // reads and approved envelopes wait too
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

for (const { name, input, now, until, reason } of quietTable) {
  Deno.test(`quiet hours: ${name}`, () => {
    const decision = evaluateGuardrails(input, new Date(now));
    if (until === null) {
      assert.deepEqual(decision, { kind: "allow" });
      assert.equal(quietHoursEnd(input.guardrails.quietHours, new Date(now)), null);
      return;
    }
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
      name: "threshold above 1",
      call: () => evaluateGuardrails(input({ guardrails: { trustThreshold: 2 } }), NOON),
      error: RangeError,
      message: /guardrails\.trustThreshold .* got 2/,
    },
    {
      name: "bad time zone",
      call: () => evaluateGuardrails(quiet("Mars/Olympus", []), NOON),
      error: RangeError,
      message: /guardrails\.quietHours\.timezone "Mars\/Olympus" is not a known IANA time zone/,
    },
    {
      name: "bad window time",
      call: () => evaluateGuardrails(quiet("UTC", [{ start: "24:00", end: "06:00" }]), NOON),
      error: RangeError,
      message:
        /guardrails\.quietHours\.windows\[0\]\.start must be a time "HH:MM" from 00:00 to 23:59, got "24:00"/,
    },
    {
      name: "bad weekday",
      call: () =>
        evaluateGuardrails(quiet("UTC", [{ start: "22:00", end: "06:00", days: [0] }]), NOON),
      error: RangeError,
      message: /guardrails\.quietHours\.windows\[0\]\.days\[0\] must be an ISO weekday 1\.\.7/,
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
    {
      name: "quietHoursEnd with an invalid now",
      call: () => quietHoursEnd(config.quietHours, new Date(NaN)),
      error: RangeError,
      message: /now must be a valid Date/,
    },
  ];

for (const { name, call, error, message } of badInputs) {
  Deno.test(`evaluateGuardrails rejects ${name}`, () => {
    assert.throws(call, (e) => e instanceof error && message.test((e as Error).message));
  });
}

// ---------------------------------------------------------------------------------------
// parseGuardrailConfig

const row = {
  id: "8a2f6c1e-0000-4000-8000-000000000001",
  tenant_id: "8a2f6c1e-0000-4000-8000-000000000002",
  quiet_hours: {
    timezone: "Europe/Berlin",
    windows: [{ start: "22:00", end: "07:00" }, { start: "12:00", end: "13:00", days: [6, 7] }],
  },
  trust_threshold: "0.7",
  allowed_toolkits: ["github", "slack"],
  allowed_scopes: null,
  require_evidence: true,
  max_attempts: { low: 5, medium: 3, high: 1 },
  approval_risk_tiers: ["medium", "high"],
  concurrency_cap: 1,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

Deno.test("parseGuardrailConfig maps a row, ignoring columns it does not use", () => {
  assert.deepEqual(parseGuardrailConfig(row), {
    quietHours: {
      timezone: "Europe/Berlin",
      windows: [{ start: "22:00", end: "07:00" }, { start: "12:00", end: "13:00", days: [6, 7] }],
    },
    trustThreshold: 0.7,
    allowedToolkits: ["github", "slack"],
    allowedScopes: null,
    requireEvidence: true,
    approvalRiskTiers: ["medium", "high"],
  });
});

Deno.test("parseGuardrailConfig accepts a numeric threshold and the column defaults", () => {
  const parsed = parseGuardrailConfig({
    quiet_hours: { timezone: "UTC", windows: [] },
    trust_threshold: 1,
    allowed_toolkits: null,
    allowed_scopes: [],
    require_evidence: false,
    approval_risk_tiers: ["high"],
  });
  assert.equal(parsed.trustThreshold, 1);
  assert.deepEqual(parsed.allowedScopes, []);
});

Deno.test("parseGuardrailConfig copies, so the row can change afterwards", () => {
  const copy = structuredClone(row);
  const parsed = parseGuardrailConfig(copy);
  copy.quiet_hours.windows[1].days!.push(1);
  copy.allowed_toolkits.push("gmail");
  assert.deepEqual(parsed.quietHours.windows[1].days, [6, 7]);
  assert.deepEqual(parsed.allowedToolkits, ["github", "slack"]);
});

const badRows: { name: string; row: unknown; error: ErrorConstructor; message: RegExp }[] = [
  {
    name: "not an object",
    row: null,
    error: TypeError,
    message: /guardrails row must be an object, got null/,
  },
  {
    name: "an array",
    row: [],
    error: TypeError,
    message: /guardrails row must be an object, got an array/,
  },
  {
    name: "quiet_hours missing",
    row: { ...row, quiet_hours: undefined },
    error: TypeError,
    message: /quiet_hours must be an object \{timezone, windows\}, got undefined/,
  },
  {
    name: "unknown time zone",
    row: { ...row, quiet_hours: { timezone: "Mars/Olympus", windows: [] } },
    error: RangeError,
    message: /quiet_hours\.timezone "Mars\/Olympus" is not a known IANA time zone/,
  },
  {
    name: "time zone not a string",
    row: { ...row, quiet_hours: { timezone: 1, windows: [] } },
    error: TypeError,
    message: /quiet_hours\.timezone must be an IANA time zone name, got 1/,
  },
  {
    name: "windows not an array",
    row: { ...row, quiet_hours: { timezone: "UTC", windows: {} } },
    error: TypeError,
    message: /quiet_hours\.windows must be an array/,
  },
  {
    name: "window not an object",
    row: { ...row, quiet_hours: { timezone: "UTC", windows: ["22:00-06:00"] } },
    error: TypeError,
    message: /quiet_hours\.windows\[0\] must be an object/,
  },
  {
    name: "hour 25",
    row: { ...row, quiet_hours: { timezone: "UTC", windows: [{ start: "25:00", end: "06:00" }] } },
    error: RangeError,
    message:
      /quiet_hours\.windows\[0\]\.start must be a time "HH:MM" from 00:00 to 23:59, got "25:00"/,
  },
  {
    name: "single-digit hour",
    row: { ...row, quiet_hours: { timezone: "UTC", windows: [{ start: "22:00", end: "7:00" }] } },
    error: RangeError,
    message: /quiet_hours\.windows\[0\]\.end .* got "7:00"/,
  },
  {
    name: "seconds",
    row: {
      ...row,
      quiet_hours: { timezone: "UTC", windows: [{ start: "22:00:00", end: "07:00" }] },
    },
    error: RangeError,
    message: /windows\[0\]\.start .* got "22:00:00"/,
  },
  {
    name: "24:00",
    row: { ...row, quiet_hours: { timezone: "UTC", windows: [{ start: "22:00", end: "24:00" }] } },
    error: RangeError,
    message: /windows\[0\]\.end .* got "24:00"/,
  },
  {
    name: "missing end",
    row: { ...row, quiet_hours: { timezone: "UTC", windows: [{ start: "22:00" }] } },
    error: TypeError,
    message: /windows\[0\]\.end must be a string "HH:MM", got undefined/,
  },
  {
    name: "weekday 8",
    row: {
      ...row,
      quiet_hours: {
        timezone: "UTC",
        windows: [{ start: "22:00", end: "06:00" }, { start: "01:00", end: "02:00", days: [1, 8] }],
      },
    },
    error: RangeError,
    message:
      /quiet_hours\.windows\[1\]\.days\[1\] must be an ISO weekday 1\.\.7 \(1 = Monday\), got 8/,
  },
  {
    name: "days null",
    row: {
      ...row,
      quiet_hours: { timezone: "UTC", windows: [{ start: "22:00", end: "06:00", days: null }] },
    },
    error: TypeError,
    message: /windows\[0\]\.days must be an array of ISO weekdays 1\.\.7, got null/,
  },
  {
    name: "threshold above 1",
    row: { ...row, trust_threshold: "1.5" },
    error: RangeError,
    message: /trust_threshold must be a number within 0\.\.1, got 1\.5/,
  },
  {
    name: "negative threshold",
    row: { ...row, trust_threshold: -0.1 },
    error: RangeError,
    message: /trust_threshold .* got -0\.1/,
  },
  {
    name: "threshold not numeric",
    row: { ...row, trust_threshold: "high" },
    error: TypeError,
    message: /trust_threshold must be a number or a numeric string, got "high"/,
  },
  {
    name: "threshold NaN string",
    row: { ...row, trust_threshold: "NaN" },
    error: TypeError,
    message: /trust_threshold must be a number or a numeric string, got "NaN"/,
  },
  {
    name: "threshold missing",
    row: { ...row, trust_threshold: undefined },
    error: TypeError,
    message: /trust_threshold .* got undefined/,
  },
  {
    name: "allowed_scopes missing (not the same as null)",
    row: { ...row, allowed_scopes: undefined },
    error: TypeError,
    message: /allowed_scopes must be null or an array of strings, got undefined/,
  },
  {
    name: "allowed_toolkits with a number",
    row: { ...row, allowed_toolkits: ["github", 1] },
    error: TypeError,
    message: /allowed_toolkits\[1\] must be a string, got 1/,
  },
  {
    name: "allowed_toolkits as a Postgres array literal",
    row: { ...row, allowed_toolkits: "{github}" },
    error: TypeError,
    message: /allowed_toolkits must be null or an array of strings, got "\{github\}"/,
  },
  {
    name: "require_evidence as a string",
    row: { ...row, require_evidence: "true" },
    error: TypeError,
    message: /require_evidence must be a boolean, got "true"/,
  },
  {
    name: "unknown risk tier",
    row: { ...row, approval_risk_tiers: ["high", "urgent"] },
    error: RangeError,
    message: /approval_risk_tiers\[1\] must be low, medium or high, got "urgent"/,
  },
  {
    name: "risk tiers null",
    row: { ...row, approval_risk_tiers: null },
    error: TypeError,
    message: /approval_risk_tiers must be an array of risk tiers, got null/,
  },
];

for (const { name, row, error, message } of badRows) {
  Deno.test(`parseGuardrailConfig rejects ${name}`, () => {
    assert.throws(
      () => parseGuardrailConfig(row),
      (e) => e instanceof error && message.test((e as Error).message),
    );
  });
}

// ---------------------------------------------------------------------------------------
// Properties

const ZONES = [
  "UTC",
  "Europe/Berlin",
  "America/New_York",
  "Asia/Kolkata",
  "Australia/Lord_Howe", // 30-minute DST shift
  "America/St_Johns", // -03:30 / -02:30
  "Pacific/Chatham", // +12:45 / +13:45
];
// DST transitions of 2026 that the generated instants cluster around.
const TRANSITIONS = [
  "2026-03-08T07:00:00Z", // New York, spring forward
  "2026-11-01T06:00:00Z", // New York, fall back
  "2026-03-29T01:00:00Z", // Berlin, spring forward
  "2026-10-25T01:00:00Z", // Berlin, fall back
  "2026-04-04T15:00:00Z", // Lord Howe, fall back (02:00 → 01:30)
  "2026-10-03T15:30:00Z", // Lord Howe, spring forward (02:00 → 02:30)
  "2026-03-08T05:31:00Z", // St John's, spring forward
  "2026-04-04T14:00:00Z", // Chatham, fall back
].map((t) => Date.parse(t));

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const instants = fc.oneof(
  fc.date({
    min: new Date("2025-01-01T00:00:00Z"),
    max: new Date("2027-12-31T00:00:00Z"),
    noInvalidDate: true,
  }),
  fc.tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -36 * 60, max: 36 * 60 }))
    .map(([t, minutes]) => new Date(t + minutes * 60_000)),
);
const hhmm = fc
  .oneof(fc.integer({ min: 0, max: 95 }).map((q) => q * 15), fc.integer({ min: 0, max: 1439 }))
  .map((m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`);
const windows = fc.array(
  fc.record(
    {
      start: hhmm,
      end: hhmm,
      days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { maxLength: 7 }),
    },
    { requiredKeys: ["start", "end"] },
  ),
  { maxLength: 4 },
);
// Inputs that pass every check but quiet hours.
const quietOnly = fc.record({ timezone: fc.constantFrom(...ZONES), windows }).map((quietHours) =>
  input({ guardrails: { quietHours } })
);

// Independent oracle: is the wall-clock reading at `ms` inside a window, by the plain rule
// "start ≤ t < end on a listed start date"? Only meaningful where the reading is unambiguous.
function wallReading(ms: number, tz: string): { day: number; minute: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    }).formatToParts(ms).map((p) => [p.type, Number(p.value)]),
  );
  return {
    day: Date.UTC(parts.year, parts.month - 1, parts.day) / DAY,
    minute: parts.hour * 60 + parts.minute,
  };
}
const isoWeekday = (day: number) => ((day + 3) % 7 + 7) % 7 + 1;
const minutesOf = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));

function insideByWallClock(ws: QuietWindow[], tz: string, ms: number): boolean {
  const { day, minute } = wallReading(ms, tz);
  return ws.some((w) => {
    const s = minutesOf(w.start);
    const e = minutesOf(w.end);
    const on = (d: number) => w.days === undefined || w.days.includes(isoWeekday(d));
    if (e > s) return on(day) && s <= minute && minute < e;
    return (on(day) && minute >= s) || (on(day - 1) && minute < e);
  });
}

// The clock runs backwards (fall back) within 3 hours of `ms`: wall readings repeat there.
function nearFallBack(ms: number, tz: string): boolean {
  const offset = (t: number) => {
    const { day, minute } = wallReading(t, tz);
    return day * DAY + minute * 60_000 - Math.floor(t / 60_000) * 60_000;
  };
  return offset(ms - 3 * HOUR) > offset(ms + 3 * HOUR);
}

Deno.test("property: a deferral ends after now, at the end of quiet, and is allowed there", () => {
  fc.assert(
    fc.property(quietOnly, instants, (inp, now) => {
      const decision = evaluateGuardrails(inp, now);
      if (decision.kind !== "defer") return;
      assert.ok(decision.until.getTime() > now.getTime(), "until is after now");
      // Still quiet the instant before: until is the end of the quiet period, not later.
      const before = evaluateGuardrails(inp, new Date(decision.until.getTime() - 1));
      assert.equal(before.kind, "defer");
      const after = evaluateGuardrails(inp, decision.until);
      if (decision.reason.startsWith("Quiet hours cover the whole week")) {
        assert.ok(decision.until.getTime() - now.getTime() >= 7 * DAY);
        assert.equal(after.kind, "defer");
      } else {
        assert.deepEqual(after, { kind: "allow" }, `not quiet at ${decision.until.toISOString()}`);
        assert.equal((before as { until: Date }).until.getTime(), decision.until.getTime());
      }
    }),
    { numRuns: 400 },
  );
});

Deno.test("property: allow never happens inside a quiet window (and defer only inside one)", () => {
  fc.assert(
    fc.property(quietOnly, instants, (inp, now) => {
      const { timezone, windows } = inp.guardrails.quietHours;
      if (nearFallBack(now.getTime(), timezone)) return; // wall readings repeat: no plain rule
      const inside = insideByWallClock(windows, timezone, now.getTime());
      const decision = evaluateGuardrails(inp, now);
      assert.equal(decision.kind, inside ? "defer" : "allow");
    }),
    { numRuns: 1_000 },
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
    quietHours: fc.record({ timezone: fc.constantFrom(...ZONES), windows }),
    trustThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
    allowedToolkits: fc.option(fc.uniqueArray(toolkitNames), { nil: null }),
    allowedScopes: fc.option(fc.uniqueArray(scopeNames), { nil: null }),
    requireEvidence: fc.boolean(),
    approvalRiskTiers: fc.uniqueArray(
      fc.constantFrom("low" as const, "medium" as const, "high" as const),
    ),
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
