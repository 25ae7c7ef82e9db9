// A tenant's public.guardrails row, parsed once into what evaluateGuardrails and the drain's
// attempt limit use: the drain loads the rows of a batch's tenants in one query and parses each
// once, however many envelopes the tenant has in the batch.
import { z } from "zod";
import { quietHoursSchema, type QuietSchedule } from "./quiet_hours.ts";
import { describeValue } from "./describe_value.ts";

export type RiskTier = "low" | "medium" | "high";

export const RISK_TIERS = ["low", "medium", "high"] as const satisfies readonly RiskTier[];

export interface GuardrailConfig {
  quietHours: QuietSchedule;
  /** 0..1; envelopes whose trust score is below it need approval. */
  trustThreshold: number;
  /** null = every toolkit. */
  allowedToolkits: string[] | null;
  /** Tenant-level grant; null = no tenant restriction. */
  allowedScopes: string[] | null;
  requireEvidence: boolean;
  approvalRiskTiers: RiskTier[];
  /** Execution attempts per risk tier, each >= 1. */
  maxAttempts: Record<RiskTier, number>;
}

// Messages complain about one field; fieldError puts the field's path in front.

// Postgres numeric arrives as a string ("0.7") through postgres.js.
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)$/;

const unitMessage = (iss: { input?: unknown }) =>
  `must be a number within 0..1, got ${describeValue(iss.input)}`;
const threshold = z
  .union([z.number(), z.string().trim().regex(NUMERIC).transform(Number)], {
    error: (iss) => `must be a number or a numeric string, got ${describeValue(iss.input)}`,
  })
  .pipe(z.number().min(0, { error: unitMessage }).max(1, { error: unitMessage }));

// A missing column is an error, not "no restriction": a query that forgot to select
// allowed_scopes must not lift the tenant's scope limits. Hence nullable, never optional.
const nullableStrings = z
  .array(z.string({ error: (iss) => `must be a string, got ${describeValue(iss.input)}` }), {
    error: (iss) => `must be null or an array of strings, got ${describeValue(iss.input)}`,
  })
  .nullable();

const riskTiers = z.array(
  z.enum(RISK_TIERS, {
    error: (iss) => `must be low, medium or high, got ${describeValue(iss.input)}`,
  }),
  { error: (iss) => `must be an array of risk tiers, got ${describeValue(iss.input)}` },
);

const attemptsMessage = (iss: { input?: unknown }) =>
  `must be a positive integer, got ${describeValue(iss.input)}`;
const attempts = z
  .number({ error: attemptsMessage })
  .refine((n) => Number.isSafeInteger(n) && n >= 1, { error: attemptsMessage });

const guardrailsRow = z
  .object({
    quiet_hours: quietHoursSchema,
    trust_threshold: threshold,
    allowed_toolkits: nullableStrings,
    allowed_scopes: nullableStrings,
    require_evidence: z.boolean({
      error: (iss) => `must be a boolean, got ${describeValue(iss.input)}`,
    }),
    approval_risk_tiers: riskTiers,
    max_attempts: z.object({ low: attempts, medium: attempts, high: attempts }, {
      error: (iss) => `must be an object {low, medium, high}, got ${describeValue(iss.input)}`,
    }),
  }, { error: (iss) => `must be an object, got ${describeValue(iss.input)}` })
  .transform((r): GuardrailConfig => ({
    quietHours: r.quiet_hours,
    trustThreshold: r.trust_threshold,
    allowedToolkits: r.allowed_toolkits,
    allowedScopes: r.allowed_scopes,
    requireEvidence: r.require_evidence,
    approvalRiskTiers: r.approval_risk_tiers,
    maxAttempts: r.max_attempts,
  }));

/**
 * Maps a public.guardrails row (snake_case, as postgres.js returns it: numeric columns may be
 * strings) to a GuardrailConfig that shares nothing with the row. Columns it does not use
 * (concurrency_cap, ids, timestamps) are ignored. Throws a TypeError (wrong kind of value) or
 * RangeError (right kind, wrong value) naming the first bad field, e.g.
 * `allowed_toolkits[1] must be a string, got 1`.
 */
export function parseGuardrailConfig(row: unknown): GuardrailConfig {
  const parsed = guardrailsRow.safeParse(row);
  if (parsed.success) return parsed.data;
  throw fieldError(parsed.error.issues[0]);
}

function fieldError(issue: z.core.$ZodIssue): Error {
  let field = "";
  for (const key of issue.path) {
    field += typeof key === "number" ? `[${key}]` : `${field === "" ? "" : "."}${String(key)}`;
  }
  const message = `${field === "" ? "guardrails row" : field} ${issue.message}`;
  return issue.code === "invalid_type" || issue.code === "invalid_union"
    ? new TypeError(message)
    : new RangeError(message);
}
