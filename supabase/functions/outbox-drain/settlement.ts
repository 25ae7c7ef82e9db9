// What happens to an envelope, as the typed elements public.outbox_settle takes
// (supabase/schemas/50_outbox/1300_function_outbox_settle.sql): one statement settles a whole
// batch, token-guarded, one audit row per applied element.
import type { ExecuteOutcome } from "../_shared/composio_execute.ts";
import type { Sql } from "../_shared/db.ts";
import { type BackoffPolicy, nextRetryDelay } from "../_shared/backoff.ts";
import {
  applyAttemptLimit,
  type CallResult,
  classifyCallResult,
  type Outcome,
} from "../_shared/execution_policy.ts";
import type { Claimed } from "./claim.ts";

interface Base {
  id: string;
  /** The lease token: an element whose token no longer matches is not applied. */
  token: string;
  /** Into the audit row (worker, duration, attempt); never arguments. */
  details: Record<string, unknown>;
  /** How the call ended, in the executor's words (success, http_409, timeout, …). */
  outcome?: string;
}

export type ParkStatus = "conflict" | "unknown_outcome" | "deferred" | "needs_approval";

/** Where an output kept in Storage is (artifacts.ts), as evidence and audit rows name it. */
export interface ArtifactRef {
  bucket: string;
  path: string;
  size: number;
  sha256: string;
  content_type: string;
}

/** An artifact and what became of its upload; `reason` says why one was dropped. */
export type Artifact = ArtifactRef & {
  status: "uploaded" | "pending" | "dropped";
  reason?: string;
};

export type Settlement =
  | Base & {
    op: "complete";
    result: unknown;
    /** The output is an artifact: evidence records it instead of the output. */
    artifact?: Artifact;
    /** A pending artifact's bytes, for the pending store until a later drain uploads them. */
    artifact_base64?: string;
  }
  | Base & { op: "retry"; reason: string; delay_ms: number }
  | Base & { op: "park"; status: ParkStatus; reason: string; until?: string }
  | Base & { op: "dlq"; dlq_reason: string; reason: string; executed: boolean }
  | Base & { op: "release"; reason: string };

/** A settlement and the count it adds to the run (succeeded, retried, released, …). */
export interface Settled {
  settlement: Settlement;
  counter: string;
  /** Our own Composio key was refused: stop the drain. */
  halt?: string;
  /** A complete's answer length, when known: artifacts.ts measures only what may be large. */
  outputChars?: number;
}

const BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 15 * 60_000 };
/** A 429 without Retry-After: come back after this (the project's bucket says more). */
const THROTTLED_WAIT_MS = 60_000;

/** Gives an envelope back unsent: no attempt consumed, due again as it was. */
export function release(env: Claimed, reason: string, details: Record<string, unknown>): Settled {
  return {
    settlement: { op: "release", id: env.id, token: env.lease_token, reason, details },
    counter: "released",
  };
}

/** Turns one execution into its settlement, by the policy (execution_policy.ts). */
export function settlementOf(
  env: Claimed,
  exec: ExecuteOutcome,
  maxAttempts: number,
  opts: { random: () => number; details: Record<string, unknown> },
): Settled {
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
        outputChars: exec.bodyChars,
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
    case "throttled":
      // Refused before it ran: deferred, the attempt not spent (outbox_settle counts none for
      // a deferral), due again when Composio said.
      return {
        settlement: {
          ...base,
          details: { ...details, attempt: env.attempts },
          op: "park",
          status: "deferred",
          reason: outcome.reason,
          until: new Date(Date.now() + (outcome.retryAfterMs ?? THROTTLED_WAIT_MS)).toISOString(),
        },
        counter: "throttled",
      };
    case "conflict":
    case "unknown_outcome":
      return {
        settlement: { ...base, op: "park", status: outcome.kind, reason: outcome.reason },
        counter: outcome.kind,
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

/**
 * Settles a batch in one statement (it writes the audit rows in tenant order itself);
 * returns how many elements were not applied because their lease was gone.
 */
export async function applySettlements(sql: Sql, settlements: Settlement[]): Promise<number> {
  if (settlements.length === 0) return 0;
  const applied = await sql<{ applied: boolean }[]>`
    select applied from public.outbox_settle(${sql.json(settlements as never)})`;
  return applied.filter((r) => !r.applied).length;
}
