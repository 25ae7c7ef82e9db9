import assert from "node:assert/strict";
import { parseGuardrailConfig } from "./guardrail_config.ts";

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
      windows: [
        { startMinute: 22 * 60, endMinute: 7 * 60, days: null },
        { startMinute: 12 * 60, endMinute: 13 * 60, days: new Set([6, 7]) },
      ],
    },
    trustThreshold: 0.7,
    allowedToolkits: ["github", "slack"],
    allowedScopes: null,
    requireEvidence: true,
    approvalRiskTiers: ["medium", "high"],
    maxAttempts: { low: 5, medium: 3, high: 1 },
  });
});

Deno.test("parseGuardrailConfig parses quiet hours once: minute offsets and weekday sets", () => {
  // evaluateGuardrails reads these as they are, for every envelope of the tenant's batch.
  const [night, lunch] = parseGuardrailConfig(row).quietHours.windows;
  assert.equal(night.startMinute, 1320);
  assert.equal(night.endMinute, 420);
  assert.equal(night.days, null);
  assert.ok(lunch.days instanceof Set && lunch.days.has(6) && lunch.days.has(7));
});

Deno.test("parseGuardrailConfig accepts a numeric threshold and the column defaults", () => {
  const parsed = parseGuardrailConfig({
    quiet_hours: { timezone: "UTC", windows: [] },
    trust_threshold: 1,
    allowed_toolkits: null,
    allowed_scopes: [],
    require_evidence: false,
    approval_risk_tiers: ["high"],
    max_attempts: { low: 5, medium: 3, high: 1 },
  });
  assert.equal(parsed.trustThreshold, 1);
  assert.deepEqual(parsed.allowedScopes, []);
});

Deno.test("parseGuardrailConfig copies, so the row can change afterwards", () => {
  const copy = structuredClone(row);
  const parsed = parseGuardrailConfig(copy);
  copy.quiet_hours.windows[1].days!.push(1);
  copy.allowed_toolkits.push("gmail");
  copy.max_attempts.low = 9;
  assert.deepEqual(parsed.quietHours.windows[1].days, new Set([6, 7]));
  assert.deepEqual(parsed.allowedToolkits, ["github", "slack"]);
  assert.equal(parsed.maxAttempts.low, 5);
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
    name: "a tz database name that is not a zone",
    row: { ...row, quiet_hours: { timezone: "posix/Europe/Berlin", windows: [] } },
    error: RangeError,
    message: /^quiet_hours\.timezone "posix\/Europe\/Berlin" is not a known IANA time zone$/,
  },
  {
    name: "empty time zone",
    row: { ...row, quiet_hours: { timezone: "", windows: [] } },
    error: RangeError,
    message: /^quiet_hours\.timezone must be an IANA time zone name, got ""$/,
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
    name: "start 24:00",
    row: { ...row, quiet_hours: { timezone: "UTC", windows: [{ start: "24:00", end: "06:00" }] } },
    error: RangeError,
    message:
      /quiet_hours\.windows\[0\]\.start must be a time "HH:MM" from 00:00 to 23:59, got "24:00"/,
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
    name: "weekday 0",
    row: {
      ...row,
      quiet_hours: { timezone: "UTC", windows: [{ start: "22:00", end: "06:00", days: [0] }] },
    },
    error: RangeError,
    message: /quiet_hours\.windows\[0\]\.days\[0\] must be an ISO weekday 1\.\.7/,
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
    name: "threshold 2",
    row: { ...row, trust_threshold: 2 },
    error: RangeError,
    message: /^trust_threshold must be a number within 0\.\.1, got 2$/,
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
  {
    name: "max_attempts missing",
    row: { ...row, max_attempts: undefined },
    error: TypeError,
    message: /^max_attempts must be an object \{low, medium, high\}, got undefined$/,
  },
  {
    name: "max_attempts without a tier",
    row: { ...row, max_attempts: { low: 5, medium: 3 } },
    error: TypeError,
    message: /^max_attempts\.high must be a positive integer, got undefined$/,
  },
  {
    name: "max_attempts 0",
    row: { ...row, max_attempts: { low: 5, medium: 3, high: 0 } },
    error: RangeError,
    message: /^max_attempts\.high must be a positive integer, got 0$/,
  },
  {
    name: "max_attempts not an integer",
    row: { ...row, max_attempts: { low: 1.5, medium: 3, high: 1 } },
    error: RangeError,
    message: /^max_attempts\.low must be a positive integer, got 1\.5$/,
  },
  {
    name: "max_attempts as a string",
    row: { ...row, max_attempts: { low: 5, medium: "3", high: 1 } },
    error: TypeError,
    message: /^max_attempts\.medium must be a positive integer, got "3"$/,
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
