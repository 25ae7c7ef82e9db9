// The drain loop: claim a batch under leases (SQL, outbox_claim), decide each envelope with
// the tenant's guardrails and the tool's input schema, execute the allowed ones against
// Composio with bounded concurrency, classify each answer (execution_policy.ts) and settle
// the whole batch in one transaction (outbox_settle), until the time budget or the limit
// runs out. No transaction is held across an HTTP call: the lease rows are the exclusion.
//
// A 401/403 on our own Composio key halts the drain: nothing more is sent, the envelopes
// claimed but not sent are released (no attempt consumed), and the run fails with an alert.
import { z } from "zod";
import type { Sql } from "../_shared/db.ts";
import type { JobContext, JobResult } from "../_shared/job.ts";
import { jobBodyFields } from "../_shared/job.ts";
import { type ComposioConfig, composioConfig } from "../_shared/composio.ts";
import {
  type ExecuteOutcome,
  type ExecuteRequest,
  executeTool,
  ExecutorError,
  isPinnedVersion,
} from "../_shared/composio_execute.ts";
import {
  applyAttemptLimit,
  type CallResult,
  classifyCallResult,
  type Outcome,
} from "../_shared/execution_policy.ts";
import { type BackoffPolicy, nextRetryDelay } from "../_shared/backoff.ts";
import {
  evaluateGuardrails,
  type GuardrailConfig,
  type GuardrailDecision,
  type RiskTier,
} from "../_shared/guardrails.ts";
import { parseGuardrailConfig } from "../_shared/guardrail_config.ts";
import { hasValidator, validateArguments } from "./validate.ts";

export const slug = "outbox-drain";
export const defaultBudgetMs = 45_000;
export const defaultBatchSize = 100;
export const defaultConcurrency = 8;
export const defaultLeaseMs = 60_000;
/**
 * Envelopes per invocation when the body names no limit; what remains is chained (jobs.invoke),
 * each invocation a new request with a CPU limit of its own. An envelope costs ~150–200 µs of
 * main-thread CPU (bench/RESULTS.md), so a drain running to its 45 s budget would pass the
 * hosted 2 s CPU limit after ~10,000 and be killed mid-batch, leaving its writes in flight
 * unknown_outcome; 5,000 stay near 1 s.
 */
export const defaultLimit = 5_000;
/** Never start a call with less lease than this left; the HTTP timeout stays below the lease. */
const LEASE_MARGIN_MS = 1_000;
const BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 15 * 60_000 };
/**
 * How long a tenant's envelopes wait when its guardrails row cannot be used (a value the
 * SQL checks let through but this runtime refuses, or no row): they are parked, not released,
 * so the drain does not claim them again at once and again and again.
 */
export const unusableGuardrailsDelayMs = 5 * 60_000;

export const drainBody = z.strictObject({
  ...jobBodyFields,
  /** Envelopes per claim. */
  batch_size: z.number().int().min(1).max(1_000).optional(),
  /** Execute calls in flight at once within a batch. */
  concurrency: z.number().int().min(1).max(64).optional(),
  /** Lease per claimed envelope; the HTTP timeout stays below it. */
  lease_ms: z.number().int().min(1_000).max(600_000).optional(),
  /** Who asked: the schedule, the enqueue kick, or a person. Informational. */
  trigger: z.enum(["cron", "enqueue", "manual"]).optional(),
});
export type DrainBody = z.infer<typeof drainBody>;

/**
 * A claimed envelope as outbox_claim returns it, with the facts its guardrails need (catalog
 * entry, connected account, approval), read in the claim's statement.
 */
export interface Claimed {
  id: string;
  tenant_id: string;
  tool_slug: string;
  toolkit: string;
  arguments: Record<string, unknown>;
  connected_account_id: string | null;
  risk: RiskTier;
  read_only: boolean;
  trust_context: Record<string, unknown>;
  attempts: number;
  lease_token: string;
  lease_expires_at: Date;
  version: string | null;
  content_hash: string | null;
  tool_toolkit: string | null;
  required_scopes: string[] | null;
  deprecated: boolean | null;
  account_status: string | null;
  account_scopes: string[] | null;
  account_external_id: string | null;
  approved: boolean;
}

/** A tenant's rules, parsed once per batch; an Error when the row cannot be used. */
type TenantRules =
  | { config: GuardrailConfig; maxAttempts: Record<RiskTier, number> }
  | { config: Error };

/** One settle element (see public.outbox_settle). */
export type Settlement = Record<string, unknown> & { op: string; id: string; token: string };

export interface DrainDeps {
  composio?: ComposioConfig;
  execute?: (config: ComposioConfig, req: ExecuteRequest) => Promise<ExecuteOutcome>;
  now?: () => Date;
  random?: () => number;
}

export class DrainHalted extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrainHalted";
  }
}

/** The job: drains until out of time, out of limit, or out of due envelopes. */
export async function runDrain(
  ctx: JobContext<DrainBody>,
  deps: DrainDeps = {},
): Promise<JobResult> {
  const { body, sql } = ctx;
  const batchSize = body.batch_size ?? defaultBatchSize;
  const leaseMs = body.lease_ms ?? defaultLeaseMs;
  const limit = body.limit ?? defaultLimit;
  const worker = `${slug}/${ctx.runId}`;
  const composio = deps.composio ?? composioConfig();
  let processed = 0;
  let stoppedEarly = false;

  for (;;) {
    if (ctx.outOfTime() || processed >= limit) {
      stoppedEarly = true;
      break;
    }
    const want = Math.min(batchSize, limit - processed);
    const batch = await claim(sql, worker, want, leaseMs, body.tenant_id ?? null);
    if (batch.length === 0) break;
    ctx.count("claimed", batch.length);
    processed += batch.length;
    const halted = await processBatch(ctx, batch, { composio, deps, worker });
    if (halted) {
      ctx.log.error("outbox_drain_halted", { alert: true, reason: halted, worker });
      ctx.count("halted");
      throw new DrainHalted(halted);
    }
    if (body.dry_run) {
      stoppedEarly = true;
      break;
    }
  }

  let remaining = false;
  if (stoppedEarly && !body.dry_run) {
    const [row] = await sql`
      select exists (select 1 from public.outbox
                      where internal.outbox_due(status, next_run_at)
                        and (${body.tenant_id ?? null}::uuid is null
                             or tenant_id = ${body.tenant_id ?? null}::uuid)) as due`;
    remaining = Boolean(row?.due);
  }
  return { remaining };
}

/**
 * Leases a batch (outbox_claim, committed when this statement ends, before any call) and reads
 * each envelope's catalog entry, connected account and approval in the same statement.
 */
async function claim(
  sql: Sql,
  worker: string,
  limit: number,
  leaseMs: number,
  tenantId: string | null,
): Promise<Claimed[]> {
  const rows = await sql`
    with o as (
      select * from public.outbox_claim(${worker}, ${limit}, ${leaseMs}, ${tenantId}::uuid)
    )
    select o.id::text, o.tenant_id::text, o.tool_slug, o.toolkit, o.arguments,
           o.connected_account_id, o.risk, o.read_only, o.trust_context, o.attempts,
           o.lease_token::text, o.lease_expires_at,
           c.version, c.content_hash, c.toolkit as tool_toolkit, c.required_scopes,
           (c.deprecated_at is not null) as deprecated,
           a.status as account_status, a.scopes as account_scopes,
           a.external_account_id as account_external_id,
           exists (select 1 from public.approvals p
                    where p.envelope_id = o.id and p.decision = 'approved') as approved
    from o
    left join public.tool_catalog c
      on c.tenant_id = o.tenant_id and c.tool_slug = o.tool_slug and c.is_current
    left join lateral (
      select a.status, a.scopes, a.external_account_id
      from public.connected_accounts a
      where a.tenant_id = o.tenant_id
        and (case when o.connected_account_id is not null
                  then a.external_account_id = o.connected_account_id
                       or a.id::text = o.connected_account_id
                  else lower(a.toolkit) = lower(o.toolkit) end)
      order by (a.status = 'active') desc, a.updated_at desc
      limit 1
    ) a on true`;
  return rows as unknown as Claimed[];
}

async function loadRules(sql: Sql, tenants: string[]): Promise<Map<string, TenantRules>> {
  const rows = await sql`
    select tenant_id::text, quiet_hours, trust_threshold, allowed_toolkits, allowed_scopes,
           require_evidence, approval_risk_tiers, max_attempts
    from public.guardrails where tenant_id = any(${tenants}::uuid[])`;
  const out = new Map<string, TenantRules>();
  for (const r of rows) {
    try {
      const config = parseGuardrailConfig(r);
      out.set(r.tenant_id, { config, maxAttempts: config.maxAttempts });
    } catch (err) {
      out.set(r.tenant_id, { config: err as Error });
    }
  }
  // Every tenant gets its row when it is created; one that lost it has no rules to apply.
  for (const t of tenants) {
    if (!out.has(t)) out.set(t, { config: new Error("the tenant has no guardrails row") });
  }
  return out;
}

async function loadSchemas(
  sql: Sql,
  keys: { tenant_id: string; tool_slug: string }[],
): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  if (keys.length === 0) return out;
  const rows = await sql`
    select c.tenant_id::text || '/' || c.tool_slug as k, c.input_schema
    from public.tool_catalog c
    join jsonb_to_recordset(${sql.json(keys as never)}) as x (tenant_id uuid, tool_slug text)
      on c.tenant_id = x.tenant_id and c.tool_slug = x.tool_slug and c.is_current`;
  for (const r of rows) out.set(r.k, r.input_schema);
  return out;
}

function validatorKey(env: Claimed): string {
  return `${env.tool_slug}@${env.version}#${env.content_hash}`;
}

/** What the drain does with one envelope before any call: send it, or settle it now. */
type Plan =
  | { kind: "send"; env: Claimed }
  | { kind: "settle"; settlement: Settlement; counter: string };

function plan(
  env: Claimed,
  rules: TenantRules,
  now: Date,
  schemaFor: (key: string) => Record<string, unknown>,
  details: Record<string, unknown>,
): Plan {
  const base = { id: env.id, token: env.lease_token, details };
  const dlq = (reason: string, error: string): Plan => ({
    kind: "settle",
    settlement: { ...base, op: "dlq", dlq_reason: reason, reason: error, executed: false },
    counter: "dead_lettered",
  });
  if (rules.config instanceof Error) {
    return {
      kind: "settle",
      settlement: {
        ...base,
        op: "park",
        status: "deferred",
        reason: `guardrails row is unusable: ${rules.config.message}`,
        until: new Date(now.getTime() + unusableGuardrailsDelayMs).toISOString(),
      },
      counter: "guardrails_unusable",
    };
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
    guardrails: rules.config,
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
      return {
        kind: "settle",
        settlement: { ...base, op: "park", status: "needs_approval", reason: decision.reason },
        counter: "needs_approval",
      };
    case "defer":
      return {
        kind: "settle",
        settlement: {
          ...base,
          op: "park",
          status: "deferred",
          reason: decision.reason,
          until: decision.until.toISOString(),
        },
        counter: "deferred",
      };
  }
  // Composio runs an unversioned call at the toolkit's latest version, which the arguments
  // were never validated against; the catalog's row always has one, so this is a bad row.
  if (!isPinnedVersion(env.version)) {
    return dlq(
      "version_unpinned",
      `the catalog pins no version of ${env.tool_slug} (${JSON.stringify(env.version)})`,
    );
  }
  const key = validatorKey(env);
  const valid = validateArguments(
    key,
    () => schemaFor(`${env.tenant_id}/${env.tool_slug}`),
    env.arguments,
  );
  if (!valid.ok) return dlq("invalid_arguments", `invalid arguments: ${valid.error}`);
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

function bugBase(env: Claimed, details: Record<string, unknown>) {
  return { id: env.id, token: env.lease_token, details };
}

/** Turns one execution into its settlement. */
export function settle(
  env: Claimed,
  exec: ExecuteOutcome,
  maxAttempts: number,
  opts: { random: () => number; details: Record<string, unknown> },
): { settlement: Settlement; counter: string; halt?: string } {
  const attempt = env.attempts + 1;
  let outcome: Outcome = classifyCallResult(exec.call, { readOnly: env.read_only });
  outcome = applyAttemptLimit(outcome, attempt, maxAttempts);
  const details = { ...opts.details, duration_ms: Math.round(exec.durationMs), attempt };
  const base = { id: env.id, token: env.lease_token, details, outcome: describeCall(exec.call) };
  switch (outcome.kind) {
    case "succeeded":
      return {
        settlement: { ...base, op: "complete", result: exec.body ?? null },
        counter: "succeeded",
      };
    case "retry":
      return {
        settlement: {
          ...base,
          op: "retry",
          reason: outcome.reason,
          delay_ms: nextRetryDelay(attempt, BACKOFF, outcome.retryAfterMs, opts.random),
        },
        counter: "retried",
      };
    case "conflict":
      return {
        settlement: { ...base, op: "park", status: "conflict", reason: outcome.reason },
        counter: "conflict",
      };
    case "unknown_outcome":
      return {
        settlement: { ...base, op: "park", status: "unknown_outcome", reason: outcome.reason },
        counter: "unknown_outcome",
      };
    case "dead_letter":
      return {
        settlement: {
          ...base,
          op: "dlq",
          dlq_reason: outcome.code,
          reason: outcome.reason,
          executed: true,
        },
        counter: "dead_lettered",
      };
    case "halt":
      return {
        settlement: { ...base, op: "release", reason: outcome.reason },
        counter: "released",
        halt: outcome.reason,
      };
  }
}

function describeCall(call: CallResult): string {
  switch (call.kind) {
    case "response":
      return call.status < 300
        ? (call.successful === false ? "tool_failed" : "success")
        : `http_${call.status}`;
    default:
      return call.kind;
  }
}

/** Decides, executes and settles one claimed batch; returns the halt reason, if any. */
async function processBatch(
  ctx: JobContext<DrainBody>,
  batch: Claimed[],
  { composio, deps, worker }: { composio: ComposioConfig; deps: DrainDeps; worker: string },
): Promise<string | null> {
  const { sql, body } = ctx;
  const now = deps.now?.() ?? new Date();
  const random = deps.random ?? Math.random;
  const execute = deps.execute ?? executeTool;
  const details = { worker };

  const tenants = [...new Set(batch.map((e) => e.tenant_id))];
  const rules = await loadRules(sql, tenants);
  for (const [tenant, r] of rules) {
    // One alert per tenant and batch; its envelopes are parked, so the next pass skips them.
    if (r.config instanceof Error) {
      ctx.log.error("outbox_guardrails_unusable", {
        alert: true,
        tenant_id: tenant,
        error: r.config.message,
      });
    }
  }
  // Schemas only for validators not compiled yet in this isolate.
  const missing = new Map<string, { tenant_id: string; tool_slug: string }>();
  for (const e of batch) {
    if (e.version && !hasValidator(validatorKey(e))) {
      missing.set(`${e.tenant_id}/${e.tool_slug}`, {
        tenant_id: e.tenant_id,
        tool_slug: e.tool_slug,
      });
    }
  }
  const schemas = await loadSchemas(sql, [...missing.values()]);

  const settlements: Settlement[] = [];
  const toSend: Claimed[] = [];
  for (const env of batch) {
    const p = plan(
      env,
      rules.get(env.tenant_id)!,
      now,
      (k) => schemas.get(k) ?? {},
      details,
    );
    if (p.kind === "send") toSend.push(p.env);
    else if (body.dry_run) {
      // A dry run decides and reports, and changes nothing but the leases it gives back.
      settlements.push({
        op: "release",
        id: env.id,
        token: env.lease_token,
        reason: `dry_run: would ${p.settlement.op} (${p.counter})`,
        details,
      });
      ctx.count(`would_${p.counter}`);
    } else {
      settlements.push(p.settlement);
      ctx.count(p.counter);
    }
  }

  let halt: string | null = null;
  let bug: unknown = null;
  if (body.dry_run) {
    for (const e of toSend) {
      settlements.push({
        op: "release",
        id: e.id,
        token: e.lease_token,
        reason: "dry_run",
        details,
      });
      ctx.count("would_execute");
    }
  } else if (toSend.length > 0) {
    await sql`select public.outbox_mark_sending(${toSend.map((e) => e.id)}::uuid[],
                                                ${toSend.map((e) => e.lease_token)}::uuid[])`;
    const concurrency = body.concurrency ?? defaultConcurrency;
    let next = 0;
    const worker_ = async () => {
      while (next < toSend.length) {
        const env = toSend[next++];
        const leaseLeft = new Date(env.lease_expires_at).getTime() - Date.now() - LEASE_MARGIN_MS;
        if (halt !== null || leaseLeft < LEASE_MARGIN_MS) {
          // Not sent: give it back without consuming an attempt.
          settlements.push({
            op: "release",
            id: env.id,
            token: env.lease_token,
            reason: halt !== null ? "drain halted" : "lease too short to send",
            details,
          });
          ctx.count("released");
          continue;
        }
        let exec: ExecuteOutcome;
        try {
          exec = await execute(
            { ...composio, timeoutMs: Math.min(composio.timeoutMs, leaseLeft) },
            {
              slug: env.tool_slug,
              arguments: env.arguments,
              envelopeId: env.id,
              connectedAccountId: env.account_external_id ?? env.connected_account_id,
              userId: env.tenant_id,
              version: env.version,
            },
          );
        } catch (err) {
          // Our own bug, not an outcome of the call: stop sending, settle what is known, and
          // fail the run loudly (the caller rethrows `bug`).
          bug ??= err;
          if (halt === null) halt = "our own code failed during an execution";
          const sent = err instanceof ExecutorError && err.sent;
          const reason = `our own code failed: ${(err as Error)?.message ?? String(err)}`;
          if (sent && !env.read_only) {
            // The request had left: the write may have happened, so it is not run again.
            settlements.push({
              ...bugBase(env, details),
              op: "park",
              status: "unknown_outcome",
              reason,
            });
            ctx.count("unknown_outcome");
          } else {
            settlements.push({ ...bugBase(env, details), op: "release", reason });
            ctx.count("released");
          }
          continue;
        }
        // Only envelopes with usable rules are sent (plan settles the others).
        const tenantRules = rules.get(env.tenant_id) as Extract<
          TenantRules,
          { maxAttempts: unknown }
        >;
        const s = settle(env, exec, tenantRules.maxAttempts[env.risk], {
          random,
          details,
        });
        settlements.push(s.settlement);
        ctx.count(s.counter);
        if (s.halt && halt === null) halt = s.halt;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, toSend.length) }, worker_));
  }

  if (settlements.length > 0) {
    // One statement for the batch; it writes the audit rows in tenant order itself.
    const applied = await sql`select id::text, applied from public.outbox_settle(${
      sql.json(settlements as never)
    })`;
    const lost = applied.filter((r) => !r.applied).length;
    if (lost > 0) {
      ctx.count("lease_lost", lost);
      ctx.log.warn("outbox_lease_lost", { count: lost });
    }
  }
  if (bug !== null) throw bug;
  return halt;
}
