// Whose Composio account an envelope would run with, decided without I/O. The drain
// executes as the tenant's Composio user (user_id = tenant id); an account id names one
// connected account of the whole project, whoever's it is, so before the first execution
// with an external id the drain asks Composio whose it is (send.ts does the asking) and
// the answer is kept with the account (verified_*, returned by the claim): checked once,
// not per envelope. Never executed unchecked; another user's account is denied.
import type { CallResult } from "../_shared/execution_policy.ts";
import { classifyCallResult } from "../_shared/execution_policy.ts";
import type { Claimed } from "./claim.ts";
import type { Settled } from "./settlement.ts";

/** The DLQ reason (and deny code) of an envelope whose account is not the tenant's. */
export const notOwnedCode = "account_not_owned";

/** How long an envelope waits when the check could not be made and Composio named no time. */
export const checkRetryDelayMs = 30_000;
/** Never longer than the drain's own backoff cap. */
const maxCheckRetryDelayMs = 15 * 60_000;
const checkedBefore = "an earlier check with Composio found another owner";

export type AccountOwnership =
  /** Checked and the tenant's, or no external id (Composio picks the user's own account). */
  | { kind: "owned" }
  | { kind: "not_owned"; reason: string }
  /** The account's current external id was never checked: ask Composio first. */
  | { kind: "unchecked"; accountId: string; externalId: string };

/** What the claim says about the envelope's account. */
export function accountOwnership(
  env: Pick<Claimed, "account_id" | "account_external_id" | "account_owned">,
): AccountOwnership {
  if (env.account_external_id === null || env.account_id === null) return { kind: "owned" };
  if (env.account_owned === true) return { kind: "owned" };
  if (env.account_owned === false) {
    return { kind: "not_owned", reason: notOwnedReason(env.account_external_id, checkedBefore) };
  }
  return { kind: "unchecked", accountId: env.account_id, externalId: env.account_external_id };
}

/** What Composio answered to GET /connected_accounts/{id}, as facts. */
export type OwnershipAnswer =
  | { kind: "account"; userId: string }
  | { kind: "failed"; call: CallResult };

export type OwnershipVerdict =
  | { kind: "owned" }
  | { kind: "not_owned"; reason: string }
  /** No answer to go on: ask again later; the envelope waits unsent. */
  | { kind: "retry"; reason: string; delayMs: number }
  /** Our own Composio key was refused: stop the drain, as an execution's 401/403 does. */
  | { kind: "halt"; reason: string };

/**
 * Judges Composio's answer for the tenant. An account is the tenant's only when Composio
 * names the tenant's Composio user; an id Composio does not know (404) or refuses to look
 * up (another 4xx) is no account of the tenant's either. Anything that may answer
 * differently later (429, 5xx, timeouts, an unusable answer) is asked again later.
 */
export function judgeOwnership(tenantId: string, answer: OwnershipAnswer): OwnershipVerdict {
  if (answer.kind === "account") {
    return answer.userId === tenantId
      ? { kind: "owned" }
      : { kind: "not_owned", reason: "the connected account belongs to another Composio user" };
  }
  const { call } = answer;
  if (call.kind === "response" && call.status === 404) {
    return { kind: "not_owned", reason: "Composio has no such connected account" };
  }
  if (call.kind === "invalid_answer") {
    return retry(`Composio's answer is unusable: ${call.message}`, null);
  }
  const outcome = classifyCallResult(call, { readOnly: true });
  switch (outcome.kind) {
    case "halt":
      return { kind: "halt", reason: outcome.reason };
    case "dead_letter":
      return {
        kind: "not_owned",
        reason: `Composio refused to look the account up: ${outcome.reason}`,
      };
    case "retry":
    case "throttled":
      return retry(outcome.reason, outcome.retryAfterMs);
    case "conflict":
    case "unknown_outcome":
      return retry(outcome.reason, null);
    case "succeeded":
      // A failure is never a 2xx; should one come, it is no answer to go on.
      return retry("Composio answered without an account", null);
  }
}

function retry(reason: string, retryAfterMs: number | null): OwnershipVerdict {
  const delayMs = Math.min(
    Math.max(retryAfterMs ?? checkRetryDelayMs, 1_000),
    maxCheckRetryDelayMs,
  );
  return { kind: "retry", reason, delayMs };
}

/** The DLQ message: names the account (the tenant's own row), never the other owner. */
export function notOwnedReason(externalId: string, why: string): string {
  return `connected account ${externalId} is not this tenant's (${why}); never executed`;
}

/**
 * The envelope's settlement for a verdict; null: send it. Not owned → DLQ unsent; retry →
 * parked (deferred) until the delay is over, no attempt consumed; halt → released.
 */
export function ownershipSettlement(
  env: Claimed,
  verdict: OwnershipVerdict,
  now: Date,
  details: Record<string, unknown>,
): Settled | null {
  const base = { id: env.id, token: env.lease_token, details };
  switch (verdict.kind) {
    case "owned":
      return null;
    case "not_owned":
      return {
        settlement: {
          ...base,
          op: "dlq",
          dlq_reason: notOwnedCode,
          reason: notOwnedReason(env.account_external_id ?? "", verdict.reason),
          executed: false,
        },
        counter: "dead_lettered",
      };
    case "retry":
      return {
        settlement: {
          ...base,
          op: "park",
          status: "deferred",
          reason: `the account's owner could not be checked with Composio: ${verdict.reason}`,
          until: new Date(now.getTime() + verdict.delayMs).toISOString(),
        },
        counter: "account_check_deferred",
      };
    case "halt":
      return {
        settlement: { ...base, op: "release", reason: verdict.reason },
        counter: "released",
        halt: verdict.reason,
      };
  }
}
