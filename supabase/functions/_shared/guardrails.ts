// Tenant guardrails: whether an envelope (one tool call an agent wants to make) may run now,
// under a config parseGuardrailConfig (guardrail_config.ts) has already parsed.
//
// evaluateGuardrails answers in a fixed order, so that the answer an operator sees is the
// one that would still stand after fixing everything else:
// 1. deny: a problem no amount of waiting or approving fixes (unknown or deprecated tool,
//    disconnected account, toolkit or scope not allowed, missing evidence). Deny never depends
//    on `now`.
// 2. needs_approval: a human must look first (risk tier, low trust). Skipped once a human
//    approved the envelope, and for reads, which change nothing.
// 3. defer: quiet hours (their rules are in quiet_hours.ts); the answer names the instant the
//    quiet period ends.
// 4. allow.
import { type GuardrailConfig, RISK_TIERS, type RiskTier } from "./guardrail_config.ts";
import { quietPeriodEnd } from "./quiet_hours.ts";
import { formatLocal } from "./zoned_time.ts";
import { describeValue } from "./describe_value.ts";

// The decision's input names these; callers may take them from here.
export type { GuardrailConfig, RiskTier };

export interface EnvelopeFacts {
  toolkit: string;
  risk: RiskTier;
  readOnly: boolean;
  /** null = unknown, treated as 0. */
  trustScore: number | null;
  evidenceCount: number;
  /** A human already approved this envelope. */
  approved: boolean;
}

export interface AccountFacts {
  /** 'active' | 'initiated' | 'inactive' | 'expired' | 'failed' | 'revoked' (any case). */
  status: string;
  scopes: string[];
}

export interface ToolFacts {
  toolkit: string;
  requiredScopes: string[];
  deprecated: boolean;
}

export interface GuardrailInput {
  envelope: EnvelopeFacts;
  guardrails: GuardrailConfig;
  account: AccountFacts | null;
  tool: ToolFacts | null;
}

export type DenyCode =
  | "toolkit_not_allowed"
  | "scope_not_granted"
  | "evidence_required"
  | "account_disconnected"
  | "tool_unknown"
  | "tool_deprecated";

export type GuardrailDecision =
  | { kind: "allow" }
  | { kind: "defer"; until: Date; reason: string }
  | { kind: "needs_approval"; reason: string }
  | { kind: "deny"; code: DenyCode; reason: string };

/** Decides whether the envelope may run at `now`. Pure: same input, same decision. */
export function evaluateGuardrails(input: GuardrailInput, now: Date): GuardrailDecision {
  const nowMs = checkNow(now);
  checkInput(input);
  const { envelope, guardrails: config, account, tool } = input;
  const toolkit = envelope.toolkit;

  const deny = (code: DenyCode, reason: string): GuardrailDecision => ({
    kind: "deny",
    code,
    reason,
  });
  if (tool === null) return deny("tool_unknown", "The tool is not in the tenant's tool catalog.");
  if (!sameToolkit(tool.toolkit, toolkit)) {
    // Otherwise an envelope could name an allowed toolkit and call another toolkit's tool.
    return deny("tool_unknown", `The tool belongs to toolkit ${tool.toolkit}, not ${toolkit}.`);
  }
  if (tool.deprecated) return deny("tool_deprecated", "The tool is deprecated.");
  if (account === null) {
    return deny("account_disconnected", `No connected ${toolkit} account.`);
  }
  if (account.status.toLowerCase() !== "active") {
    return deny(
      "account_disconnected",
      `The ${toolkit} account is ${account.status.toLowerCase()}, not active; reconnect it.`,
    );
  }
  if (
    config.allowedToolkits !== null &&
    !config.allowedToolkits.some((allowed) => sameToolkit(allowed, toolkit))
  ) {
    return deny("toolkit_not_allowed", `Toolkit ${toolkit} is not allowed for this tenant.`);
  }
  const scopeProblem = missingScopes(tool.requiredScopes, {
    granted: account.scopes,
    allowed: config.allowedScopes,
  });
  if (scopeProblem !== null) {
    return deny(
      "scope_not_granted",
      `Missing scopes ${scopeProblem.missing.join(", ")} (${scopeProblem.detail(toolkit)}).`,
    );
  }
  // Reads are how evidence is gathered, so they cannot be made to wait for it.
  if (config.requireEvidence && envelope.evidenceCount === 0 && !envelope.readOnly) {
    return deny("evidence_required", "This tenant requires evidence for writes; none is attached.");
  }

  if (!envelope.readOnly && !envelope.approved) {
    const reasons: string[] = [];
    if (config.approvalRiskTiers.includes(envelope.risk)) {
      reasons.push(`${envelope.risk}-risk actions need approval`);
    }
    const trust = envelope.trustScore ?? 0;
    if (trust < config.trustThreshold) {
      reasons.push(
        envelope.trustScore === null
          ? `the trust score is unknown (counted as 0), below the threshold ${config.trustThreshold}`
          : `trust score ${trust} is below the threshold ${config.trustThreshold}`,
      );
    }
    if (reasons.length > 0) return { kind: "needs_approval", reason: sentence(reasons) };
  }

  const quiet = quietPeriodEnd(config.quietHours, nowMs);
  if (quiet !== null) {
    const { timezone } = config.quietHours;
    const local = `${formatLocal(quiet.end, timezone)} ${timezone}`;
    return {
      kind: "defer",
      until: new Date(quiet.end),
      reason: quiet.capped
        ? `Quiet hours cover the whole week; looking again at ${local}.`
        : `Quiet hours until ${local}.`,
    };
  }
  return { kind: "allow" };
}

// ---------------------------------------------------------------------------------------
// Deny helpers

// Composio spells toolkit slugs both "github" and "GITHUB".
function sameToolkit(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

// Scopes compare exactly (OAuth scopes are case-sensitive); no provider's scope hierarchy
// (GitHub's "repo" implying "public_repo") is assumed.
function missingScopes(
  required: string[],
  { granted, allowed }: { granted: string[]; allowed: string[] | null },
): { missing: string[]; detail: (toolkit: string) => string } | null {
  const notGranted = unique(required.filter((s) => !granted.includes(s)));
  const notAllowed = allowed === null ? [] : unique(required.filter((s) => !allowed.includes(s)));
  if (notGranted.length === 0 && notAllowed.length === 0) return null;
  return {
    missing: unique([...notGranted, ...notAllowed]),
    detail: (toolkit) =>
      [
        notGranted.length > 0
          ? `not granted to the ${toolkit} account: ${notGranted.join(", ")}`
          : "",
        notAllowed.length > 0 ? `not allowed for this tenant: ${notAllowed.join(", ")}` : "",
      ].filter(Boolean).join("; "),
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

function sentence(parts: string[]): string {
  const text = parts.join("; ");
  return `${text[0].toUpperCase()}${text.slice(1)}.`;
}

// ---------------------------------------------------------------------------------------
// Argument checks

function checkNow(now: Date): number {
  if (!(now instanceof Date)) throw new TypeError(`now must be a Date, got ${describeValue(now)}`);
  const ms = now.getTime();
  if (Number.isNaN(ms)) throw new RangeError("now must be a valid Date, got Invalid Date");
  return ms;
}

function checkUnit(value: unknown, field: string): void {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new RangeError(`${field} must be a number within 0..1, got ${describeValue(value)}`);
  }
}

function checkInput(input: GuardrailInput): void {
  if (input === null || typeof input !== "object") {
    throw new TypeError(`input must be an object, got ${describeValue(input)}`);
  }
  const { envelope, guardrails, account, tool } = input;
  if (envelope === null || typeof envelope !== "object") {
    throw new TypeError(`input.envelope must be an object, got ${describeValue(envelope)}`);
  }
  if (typeof envelope.toolkit !== "string") {
    throw new TypeError(
      `envelope.toolkit must be a string, got ${describeValue(envelope.toolkit)}`,
    );
  }
  if (!RISK_TIERS.includes(envelope.risk)) {
    throw new RangeError(
      `envelope.risk must be low, medium or high, got ${describeValue(envelope.risk)}`,
    );
  }
  for (const key of ["readOnly", "approved"] as const) {
    if (typeof envelope[key] !== "boolean") {
      throw new TypeError(`envelope.${key} must be a boolean, got ${describeValue(envelope[key])}`);
    }
  }
  if (envelope.trustScore !== null) checkUnit(envelope.trustScore, "envelope.trustScore");
  if (!Number.isSafeInteger(envelope.evidenceCount) || envelope.evidenceCount < 0) {
    throw new RangeError(
      `envelope.evidenceCount must be an integer >= 0, got ${
        describeValue(envelope.evidenceCount)
      }`,
    );
  }
  // Only present: parseGuardrailConfig checked the config's fields once for the whole batch.
  if (guardrails === null || typeof guardrails !== "object") {
    throw new TypeError(`input.guardrails must be an object, got ${describeValue(guardrails)}`);
  }
  if (account !== null) {
    if (typeof account !== "object" || typeof account.status !== "string") {
      throw new TypeError(`input.account must be null or {status: string, scopes: string[]}`);
    }
    checkStrings(account.scopes, "account.scopes");
  }
  if (tool !== null) {
    if (
      typeof tool !== "object" || typeof tool.toolkit !== "string" ||
      typeof tool.deprecated !== "boolean"
    ) {
      throw new TypeError(
        "input.tool must be null or {toolkit: string, requiredScopes: string[], deprecated: boolean}",
      );
    }
    checkStrings(tool.requiredScopes, "tool.requiredScopes");
  }
}

function checkStrings(value: unknown, field: string): void {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new TypeError(`${field} must be an array of strings, got ${describeValue(value)}`);
  }
}
