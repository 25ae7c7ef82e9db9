// Tenant guardrails: whether an envelope (one tool call an agent wants to make) may run now.
//
// evaluateGuardrails answers in a fixed order, so that the answer an operator sees is the
// one that would still stand after fixing everything else:
// 1. deny: a problem no amount of waiting or approving fixes (unknown or deprecated tool,
//    disconnected account, toolkit or scope not allowed, missing evidence). Deny never depends
//    on `now`.
// 2. needs_approval: a human must look first (risk tier, low trust). Skipped once a human
//    approved the envelope, and for reads, which change nothing.
// 3. defer: quiet hours; the answer names the instant the quiet period ends.
// 4. allow.
//
// Quiet hours are wall-clock windows in the tenant's time zone, turned into real instants
// with Intl.DateTimeFormat (the only time zone database the Edge Runtime has):
// * A window occurrence belongs to the local date it starts on; `days` filters on that date's
//   ISO weekday, so a Friday 22:00–06:00 window covers Saturday early morning. An empty `days`
//   list matches no day (the window is off); a missing one matches every day.
// * end < start crosses midnight; end == start is a whole wall-clock day (23 or 25 real hours
//   across a DST change).
// * A wall-clock time that does not exist (spring forward) means the first instant after the
//   gap, i.e. the moment of the transition: a window ending at 02:30 in Berlin on 29 March 2026
//   ends at 03:00 CEST. A time that exists twice (fall back) means its EARLIER occurrence, for
//   starts and ends alike (what Temporal calls "compatible"), so a window ending at 02:30 on
//   25 October 2026 ends at 02:30 CEST and the repeated 02:00–02:30 CET is outside it. Each
//   occurrence is then a half-open interval of instants [start, end), and `now` is quiet when
//   it lies in one. Windows that overlap or touch form one quiet period; deferral runs to its
//   end.
// * Quiet hours covering the whole week never end; the deferral then stops at the first
//   occurrence end at least 7 days ahead and says so, so that the envelope is looked at again.
import { formatLocal, instantOf, isoWeekday, isValidTimeZone, localDay } from "./zoned_time.ts";

export type RiskTier = "low" | "medium" | "high";

/** "HH:MM" local times; days = ISO weekdays (1 = Monday … 7 = Sunday) of the window's start. */
export interface QuietWindow {
  start: string;
  end: string;
  days?: number[];
}

export interface QuietHours {
  /** IANA time zone name, e.g. "Europe/Berlin". */
  timezone: string;
  windows: QuietWindow[];
}

export interface GuardrailConfig {
  quietHours: QuietHours;
  /** 0..1; envelopes whose trust score is below it need approval. */
  trustThreshold: number;
  /** null = every toolkit. */
  allowedToolkits: string[] | null;
  /** Tenant-level grant; null = no tenant restriction. */
  allowedScopes: string[] | null;
  requireEvidence: boolean;
  approvalRiskTiers: RiskTier[];
}

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

const RISK_TIERS: readonly RiskTier[] = ["low", "medium", "high"];
const DAY = 24 * 60 * 60_000;
// Past this, quiet hours are taken to cover the whole week (see the header).
const QUIET_HORIZON = 7 * DAY;

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

  const quiet = quietPeriodEnd(config.quietHours, { nowMs, field: "guardrails.quietHours" });
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

/**
 * End of the quiet period containing `now` (overlapping and touching windows merged), or null
 * when `now` is outside quiet hours. For quiet hours covering the whole week, the first window
 * end at least 7 days ahead.
 */
export function quietHoursEnd(quietHours: QuietHours, now: Date): Date | null {
  const quiet = quietPeriodEnd(quietHours, { nowMs: checkNow(now), field: "quietHours" });
  return quiet === null ? null : new Date(quiet.end);
}

/**
 * Maps a public.guardrails row (snake_case, as postgres.js returns it: numeric columns may be
 * strings) to a GuardrailConfig. Columns this module does not use (max_attempts,
 * concurrency_cap, ids) are ignored. Throws TypeError/RangeError naming the bad field.
 */
export function parseGuardrailConfig(row: unknown): GuardrailConfig {
  if (row === null || typeof row !== "object" || Array.isArray(row)) {
    throw new TypeError(`guardrails row must be an object, got ${describe(row)}`);
  }
  const r = row as Record<string, unknown>;
  return {
    quietHours: parseQuietHours(r.quiet_hours, "quiet_hours"),
    trustThreshold: parseThreshold(r.trust_threshold, "trust_threshold"),
    // A missing column is an error, not "no restriction": a query that forgot to select
    // allowed_scopes must not lift the tenant's scope limits.
    allowedToolkits: parseNullableStrings(r.allowed_toolkits, "allowed_toolkits"),
    allowedScopes: parseNullableStrings(r.allowed_scopes, "allowed_scopes"),
    requireEvidence: parseBoolean(r.require_evidence, "require_evidence"),
    approvalRiskTiers: parseRiskTiers(r.approval_risk_tiers, "approval_risk_tiers"),
  };
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
// Quiet hours

interface ParsedWindow {
  /** Minutes after local midnight. */
  start: number;
  end: number;
  /** ISO weekdays of the start date; null = every day. */
  days: ReadonlySet<number> | null;
}

/** [start, end) in epoch ms. */
type Occurrence = readonly [number, number];

function quietPeriodEnd(
  quietHours: QuietHours,
  { nowMs, field }: { nowMs: number; field: string },
): { end: number; capped: boolean } | null {
  if (quietHours === null || typeof quietHours !== "object") {
    throw new TypeError(
      `${field} must be an object {timezone, windows}, got ${describe(quietHours)}`,
    );
  }
  const tz = checkTimeZone(quietHours.timezone, `${field}.timezone`);
  if (!Array.isArray(quietHours.windows)) {
    throw new TypeError(`${field}.windows must be an array, got ${describe(quietHours.windows)}`);
  }
  const windows = quietHours.windows.map((w, i) => parseWindow(w, `${field}.windows[${i}]`));
  if (windows.length === 0) return null;

  const occurrencesOn = (day: number): Occurrence[] => {
    const out: Occurrence[] = [];
    for (const w of windows) {
      if (w.days !== null && !w.days.has(isoWeekday(day))) continue;
      const start = instantOf({ day, minute: w.start }, tz);
      const end = instantOf({ day: w.end > w.start ? day : day + 1, minute: w.end }, tz);
      // Empty when the whole window fell into a spring-forward gap.
      if (end > start) out.push([start, end]);
    }
    return out;
  };

  // An occurrence lasts at most one wall-clock day, so only those starting on the previous
  // two local dates or today can contain now (two, not one, for safety around DST changes).
  const today = localDay(nowMs, tz);
  const pool: Occurrence[] = [];
  for (let day = today - 2; day <= today; day++) pool.push(...occurrencesOn(day));
  let nextDay = today + 1;

  let end = -Infinity;
  for (const [s, e] of pool) if (s <= nowMs && nowMs < e && e > end) end = e;
  if (end === -Infinity) return null;

  for (;;) {
    // Occurrences starting on a later date start later, so dates up to the day after `end`'s
    // local date are all that can touch the period.
    while (localDay(end, tz) + 1 >= nextDay) pool.push(...occurrencesOn(nextDay++));
    let next = end;
    for (const [s, e] of pool) if (s <= end && e > next) next = e;
    if (next === end) return { end, capped: false };
    if (end - nowMs >= QUIET_HORIZON) return { end, capped: true };
    end = next;
  }
}

const HH_MM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

function parseTime(value: unknown, field: string): number {
  if (typeof value !== "string") {
    throw new TypeError(`${field} must be a string "HH:MM", got ${describe(value)}`);
  }
  const m = HH_MM.exec(value);
  if (m === null) {
    throw new RangeError(`${field} must be a time "HH:MM" from 00:00 to 23:59, got "${value}"`);
  }
  return Number(m[1]) * 60 + Number(m[2]);
}

function parseWindow(value: unknown, field: string): ParsedWindow {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${field} must be an object {start, end, days?}, got ${describe(value)}`);
  }
  const w = value as Record<string, unknown>;
  const start = parseTime(w.start, `${field}.start`);
  const end = parseTime(w.end, `${field}.end`);
  if (w.days === undefined) return { start, end, days: null };
  return { start, end, days: new Set(parseDays(w.days, `${field}.days`)) };
}

function parseDays(value: unknown, field: string): number[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`${field} must be an array of ISO weekdays 1..7, got ${describe(value)}`);
  }
  value.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 1 || d > 7) {
      throw new RangeError(`${field}[${i}] must be an ISO weekday 1..7 (1 = Monday), got ${d}`);
    }
  });
  return value as number[];
}

// ---------------------------------------------------------------------------------------
// Argument checks and row parsing

function checkTimeZone(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${field} must be an IANA time zone name, got ${describe(value)}`);
  }
  if (!isValidTimeZone(value)) {
    throw new RangeError(`${field} "${value}" is not a known IANA time zone`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

function checkNow(now: Date): number {
  if (!(now instanceof Date)) throw new TypeError(`now must be a Date, got ${describe(now)}`);
  const ms = now.getTime();
  if (Number.isNaN(ms)) throw new RangeError("now must be a valid Date, got Invalid Date");
  return ms;
}

function checkUnit(value: unknown, field: string): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new RangeError(`${field} must be a number within 0..1, got ${describe(value)}`);
  }
  return value;
}

function checkInput(input: GuardrailInput): void {
  if (input === null || typeof input !== "object") {
    throw new TypeError(`input must be an object, got ${describe(input)}`);
  }
  const { envelope, guardrails, account, tool } = input;
  if (envelope === null || typeof envelope !== "object") {
    throw new TypeError(`input.envelope must be an object, got ${describe(envelope)}`);
  }
  if (typeof envelope.toolkit !== "string") {
    throw new TypeError(`envelope.toolkit must be a string, got ${describe(envelope.toolkit)}`);
  }
  if (!RISK_TIERS.includes(envelope.risk)) {
    throw new RangeError(
      `envelope.risk must be low, medium or high, got ${describe(envelope.risk)}`,
    );
  }
  for (const key of ["readOnly", "approved"] as const) {
    if (typeof envelope[key] !== "boolean") {
      throw new TypeError(`envelope.${key} must be a boolean, got ${describe(envelope[key])}`);
    }
  }
  if (envelope.trustScore !== null) checkUnit(envelope.trustScore, "envelope.trustScore");
  if (!Number.isSafeInteger(envelope.evidenceCount) || envelope.evidenceCount < 0) {
    throw new RangeError(
      `envelope.evidenceCount must be an integer >= 0, got ${describe(envelope.evidenceCount)}`,
    );
  }
  if (guardrails === null || typeof guardrails !== "object") {
    throw new TypeError(`input.guardrails must be an object, got ${describe(guardrails)}`);
  }
  checkUnit(guardrails.trustThreshold, "guardrails.trustThreshold");
  if (guardrails.allowedToolkits !== null) {
    checkStrings(guardrails.allowedToolkits, "guardrails.allowedToolkits");
  }
  if (guardrails.allowedScopes !== null) {
    checkStrings(guardrails.allowedScopes, "guardrails.allowedScopes");
  }
  if (!Array.isArray(guardrails.approvalRiskTiers)) {
    throw new TypeError(
      `guardrails.approvalRiskTiers must be an array, got ${
        describe(guardrails.approvalRiskTiers)
      }`,
    );
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
    throw new TypeError(`${field} must be an array of strings, got ${describe(value)}`);
  }
}

function parseQuietHours(value: unknown, field: string): QuietHours {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${field} must be an object {timezone, windows}, got ${describe(value)}`);
  }
  const q = value as Record<string, unknown>;
  const timezone = checkTimeZone(q.timezone, `${field}.timezone`);
  if (!Array.isArray(q.windows)) {
    throw new TypeError(`${field}.windows must be an array, got ${describe(q.windows)}`);
  }
  const windows = q.windows.map((w, i): QuietWindow => {
    const path = `${field}.windows[${i}]`;
    parseWindow(w, path); // validates
    const { start, end, days } = w as QuietWindow;
    return days === undefined ? { start, end } : { start, end, days: [...days] };
  });
  return { timezone, windows };
}

// Postgres numeric arrives as a string ("0.7") through postgres.js.
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)$/;

function parseThreshold(value: unknown, field: string): number {
  let n = value;
  if (typeof value === "string") {
    if (!NUMERIC.test(value.trim())) {
      throw new TypeError(`${field} must be a number or a numeric string, got ${describe(value)}`);
    }
    n = Number(value);
  } else if (typeof value !== "number") {
    throw new TypeError(`${field} must be a number or a numeric string, got ${describe(value)}`);
  }
  return checkUnit(n, field);
}

function parseNullableStrings(value: unknown, field: string): string[] | null {
  if (value === null) return null;
  if (!Array.isArray(value)) {
    throw new TypeError(`${field} must be null or an array of strings, got ${describe(value)}`);
  }
  value.forEach((item, i) => {
    if (typeof item !== "string") {
      throw new TypeError(`${field}[${i}] must be a string, got ${describe(item)}`);
    }
  });
  return [...value];
}

function parseBoolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${field} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

function parseRiskTiers(value: unknown, field: string): RiskTier[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`${field} must be an array of risk tiers, got ${describe(value)}`);
  }
  value.forEach((tier, i) => {
    if (!RISK_TIERS.includes(tier)) {
      throw new RangeError(`${field}[${i}] must be low, medium or high, got ${describe(tier)}`);
    }
  });
  return [...value];
}
