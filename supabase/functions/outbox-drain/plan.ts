// What the drain does with an envelope before any call: send it, check its account's owner
// with Composio first (ownership.ts), or settle it now (deny → DLQ, approval needed, quiet
// hours, invalid arguments, another user's account). The tenant's guardrails come with the
// claim and are parsed once per tenant per batch; arguments are validated against the
// tool's input schema with validators cached per tool version (validate.ts).
import { isPinnedVersion } from "../_shared/composio_execute.ts";
import type { Sql } from "../_shared/db.ts";
import { type GuardrailConfig, parseGuardrailConfig } from "../_shared/guardrail_config.ts";
import { evaluateGuardrails, type GuardrailDecision } from "../_shared/guardrails.ts";
import type { Claimed } from "./claim.ts";
import { accountOwnership, notOwnedCode } from "./ownership.ts";
import type { Settled, Settlement } from "./settlement.ts";
import { hasValidator, validateArguments } from "./validate.ts";

/**
 * How long a tenant's envelopes wait when its guardrails row cannot be used (a value the SQL
 * checks let through but this runtime refuses, or no row): they are parked, not released, so
 * the drain does not claim them again at once, and again.
 */
export const unusableGuardrailsDelayMs = 5 * 60_000;

/** A tenant's rules, parsed once per batch; an Error when the row cannot be used. */
export type TenantRules = GuardrailConfig | Error;

/** Each tenant's rules of the batch, from the guardrails the claim returned with its rows. */
export function rulesByTenant(batch: Claimed[]): Map<string, TenantRules> {
  const out = new Map<string, TenantRules>();
  for (const env of batch) {
    if (out.has(env.tenant_id)) continue;
    if (env.guardrails === null) {
      // Every tenant gets its row when it is created and keeps it; one without has no rules.
      out.set(env.tenant_id, new Error("the tenant has no guardrails row"));
      continue;
    }
    try {
      out.set(env.tenant_id, parseGuardrailConfig(env.guardrails));
    } catch (err) {
      out.set(env.tenant_id, err as Error);
    }
  }
  return out;
}

export type Plan =
  | { kind: "send"; env: Claimed }
  /** Allowed, but its account's external id was never checked: ask Composio, then send. */
  | { kind: "verify"; env: Claimed }
  | { kind: "settle" } & Settled;

export function validatorKey(env: Claimed): string {
  return `${env.tool_slug}@${env.version}#${env.content_hash}`;
}

/**
 * The input schemas of the batch's tools whose validators this isolate has not compiled yet,
 * by `<tenant>/<tool>` (one query; usually none once the isolate is warm).
 */
export async function schemasToCompile(
  sql: Sql,
  batch: Claimed[],
): Promise<Map<string, Record<string, unknown>>> {
  const keys = new Map<string, { tenant_id: string; tool_slug: string }>();
  for (const e of batch) {
    if (e.version && !hasValidator(validatorKey(e))) {
      keys.set(`${e.tenant_id}/${e.tool_slug}`, { tenant_id: e.tenant_id, tool_slug: e.tool_slug });
    }
  }
  const out = new Map<string, Record<string, unknown>>();
  if (keys.size === 0) return out;
  const rows = await sql<{ k: string; input_schema: Record<string, unknown> }[]>`
    select c.tenant_id::text || '/' || c.tool_slug as k, c.input_schema
    from public.tool_catalog c
    join jsonb_to_recordset(${sql.json([...keys.values()] as never)})
      as x (tenant_id uuid, tool_slug text)
      on c.tenant_id = x.tenant_id and c.tool_slug = x.tool_slug and c.is_current`;
  for (const r of rows) out.set(r.k, r.input_schema);
  return out;
}

export function planEnvelope(
  env: Claimed,
  rules: TenantRules,
  now: Date,
  schemaFor: (key: string) => Record<string, unknown>,
  details: Record<string, unknown>,
): Plan {
  const base = { id: env.id, token: env.lease_token, details };
  const settle = (settlement: Settlement, counter: string): Plan => ({
    kind: "settle",
    settlement,
    counter,
  });
  const dlq = (code: string, reason: string) =>
    settle({ ...base, op: "dlq", dlq_reason: code, reason, executed: false }, "dead_lettered");
  if (rules instanceof Error) {
    return settle({
      ...base,
      op: "park",
      status: "deferred",
      reason: `guardrails row is unusable: ${rules.message}`,
      until: new Date(now.getTime() + unusableGuardrailsDelayMs).toISOString(),
    }, "guardrails_unusable");
  }
  const decision: GuardrailDecision = evaluateGuardrails({
    envelope: {
      toolkit: env.toolkit,
      risk: env.risk,
      readOnly: env.read_only,
      trustScore: trustScore(env.trust_context),
      evidenceCount: evidenceCount(env.trust_context),
      approved: env.approved,
    },
    guardrails: rules,
    account: env.account_status
      ? { status: env.account_status, scopes: env.account_scopes ?? [] }
      : null,
    tool: env.tool_toolkit
      ? {
        toolkit: env.tool_toolkit,
        requiredScopes: env.required_scopes ?? [],
        deprecated: Boolean(env.deprecated),
      }
      : null,
  }, now);
  switch (decision.kind) {
    case "deny":
      return dlq(decision.code, decision.reason);
    case "needs_approval":
      return settle(
        { ...base, op: "park", status: "needs_approval", reason: decision.reason },
        "needs_approval",
      );
    case "defer":
      return settle({
        ...base,
        op: "park",
        status: "deferred",
        reason: decision.reason,
        until: decision.until.toISOString(),
      }, "deferred");
  }
  // Composio runs an unversioned call at the toolkit's latest version, which the arguments
  // were never validated against; the catalog's row always has one, so this is a bad row.
  if (!isPinnedVersion(env.version)) {
    return dlq(
      "version_unpinned",
      `the catalog pins no version of ${env.tool_slug} (${JSON.stringify(env.version)})`,
    );
  }
  const valid = validateArguments(
    validatorKey(env),
    () => schemaFor(`${env.tenant_id}/${env.tool_slug}`),
    env.arguments,
  );
  if (!valid.ok) return dlq("invalid_arguments", `invalid arguments: ${valid.error}`);
  // Last: only an envelope that would otherwise run costs a call to Composio.
  const ownership = accountOwnership(env);
  if (ownership.kind === "not_owned") return dlq(notOwnedCode, ownership.reason);
  if (ownership.kind === "unchecked") return { kind: "verify", env };
  return { kind: "send", env };
}

function trustScore(tc: Record<string, unknown>): number | null {
  const s = tc?.score;
  return typeof s === "number" && s >= 0 && s <= 1 ? s : null;
}

function evidenceCount(tc: Record<string, unknown>): number {
  const e = tc?.evidence;
  return Array.isArray(e) ? e.length : 0;
}
