// What the outbox does after one Composio execute call.
//
// Composio takes no idempotency key, so delivery is at-least-once and every retry of a write
// may perform the write again. The policy therefore retries a write only when the outcome
// proves the previous try had no effect (or completed and reported failure):
// * 429, and 503 with Retry-After: the server refused before doing anything. A 429 is the
//   rate limit, not a failure of the call: it waits without spending an attempt.
// * connection refused: nothing was sent.
// * 2xx with successful:false: Composio answered, the call completed and the tool reported
//   failure; there is no ambiguity about whether it ran, so a retry is a fresh attempt.
// Everything else that might have reached the tool (timeouts, resets, 5xx, 408, a lost lease)
// is `unknown_outcome` for a write: a human or a reconciler decides, the outbox never guesses.
// Reads have no effect to duplicate and retry on every transient failure.

export type CallResult =
  | {
    kind: "response";
    status: number;
    successful?: boolean;
    retryAfterMs?: number | null;
    error?: string | null;
  }
  /** Our client timeout fired; the request may have been processed. */
  | { kind: "timeout" }
  /** Nothing was sent. */
  | { kind: "connection_refused" }
  /** Connection reset etc. after sending: effect unknown. */
  | { kind: "network_error"; message: string }
  /**
   * Composio answered 2xx with something we could not use (not JSON, a listing cut short).
   * `transient`: asking again may get a usable answer.
   */
  | { kind: "invalid_answer"; transient: boolean; message: string }
  /** Our lease expired mid-call. */
  | { kind: "lease_lost" };

/** Why an execution ended in the DLQ, as outbox_dlq.reason records it. */
export type DeadLetterCode = "non_retryable" | "max_attempts";

export type Outcome =
  | { kind: "succeeded" }
  | { kind: "retry"; reason: string; retryAfterMs: number | null }
  /**
   * Composio's rate limit refused the call before doing anything (429): wait until
   * Retry-After without spending an attempt; the project's bucket closes until then too.
   */
  | { kind: "throttled"; reason: string; retryAfterMs: number | null }
  | { kind: "conflict"; reason: string }
  | { kind: "dead_letter"; code: DeadLetterCode; reason: string }
  | { kind: "unknown_outcome"; reason: string }
  /** Our own Composio key was rejected (401/403): stop the drain and alert; do not DLQ. */
  | { kind: "halt"; reason: string };

// Reasons land in audit rows; an upstream error body can be arbitrarily long.
const MAX_DETAIL = 300;

/** Classifies one execute call; `readOnly` says whether the tool only reads. */
export function classifyCallResult(result: CallResult, opts: { readOnly: boolean }): Outcome {
  if (opts === null || typeof opts !== "object" || typeof opts.readOnly !== "boolean") {
    throw new TypeError(
      `opts.readOnly must be a boolean, got ${opts === null ? null : typeof opts?.readOnly}`,
    );
  }
  const { readOnly } = opts;
  // What a read does where a write's effect is unknown.
  const uncertain = (reason: string, retryAfterMs: number | null = null): Outcome =>
    readOnly
      ? { kind: "retry", reason, retryAfterMs }
      : { kind: "unknown_outcome", reason: `${reason}; the write may have happened` };

  if (result === null || typeof result !== "object") {
    throw new TypeError(`result must be a CallResult object, got ${result}`);
  }
  switch (result.kind) {
    case "timeout":
      return uncertain("Composio did not answer before our timeout");
    case "network_error":
      return uncertain(`connection failed after sending: ${clip(String(result.message))}`);
    case "invalid_answer":
      if (readOnly && !result.transient) {
        return {
          kind: "dead_letter",
          code: "non_retryable",
          reason: `Composio's answer is unusable: ${clip(String(result.message))}`,
        };
      }
      return uncertain(`Composio's answer is unusable: ${clip(String(result.message))}`);
    case "lease_lost":
      return uncertain("our lease expired during the call");
    case "connection_refused":
      return { kind: "retry", reason: "connection refused; nothing was sent", retryAfterMs: null };
    case "response":
      return classifyResponse(result, uncertain);
    default:
      throw new TypeError(
        `result.kind must be response, timeout, connection_refused, network_error, invalid_answer or lease_lost, got ${
          (result as { kind: unknown }).kind
        }`,
      );
  }
}

/**
 * Turns a retry into a dead letter once `attempt` (1-based, the attempt just made) reaches
 * `maxAttempts`; every other outcome passes through unchanged.
 */
export function applyAttemptLimit(outcome: Outcome, attempt: number, maxAttempts: number): Outcome {
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  }
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  }
  if (outcome.kind !== "retry" || attempt < maxAttempts) return outcome;
  return {
    kind: "dead_letter",
    code: "max_attempts",
    reason: `attempts exhausted (${attempt}/${maxAttempts}): ${outcome.reason}`,
  };
}

function classifyResponse(
  result: Extract<CallResult, { kind: "response" }>,
  uncertain: (reason: string, retryAfterMs?: number | null) => Outcome,
): Outcome {
  const { status } = result;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(`result.status must be an integer HTTP status in 200..599, got ${status}`);
  }
  const retryAfterMs = result.retryAfterMs ?? null;
  if (retryAfterMs !== null && !(Number.isFinite(retryAfterMs) && retryAfterMs >= 0)) {
    throw new RangeError(
      `result.retryAfterMs must be null or a finite number >= 0, got ${retryAfterMs}`,
    );
  }
  const detail = result.error ? `: ${clip(String(result.error))}` : "";

  if (status < 300) {
    if (result.successful !== false) return { kind: "succeeded" };
    return { kind: "retry", reason: `the tool reported failure${detail}`, retryAfterMs };
  }
  if (status === 409) {
    return { kind: "conflict", reason: `Composio answered 409 Conflict${detail}` };
  }
  if (status === 401 || status === 403) {
    return {
      kind: "halt",
      reason: `Composio rejected our API key (${status})${detail}; stopping the drain`,
    };
  }
  if (status === 429) {
    return { kind: "throttled", reason: `rate limited by Composio (429)${detail}`, retryAfterMs };
  }
  if (status === 503 && retryAfterMs !== null) {
    return {
      kind: "retry",
      reason: `Composio unavailable (503) and asked us to come back later${detail}`,
      retryAfterMs,
    };
  }
  if (status === 408) {
    return uncertain(`Composio timed out the request (408)${detail}`, retryAfterMs);
  }
  if (status >= 500) return uncertain(`Composio answered ${status}${detail}`, retryAfterMs);
  // 3xx (fetch already followed redirects, so one here is a misconfiguration) and the other
  // 4xx: the request itself is wrong, and sending it again gets the same answer.
  return {
    kind: "dead_letter",
    code: "non_retryable",
    reason: `Composio rejected the call (${status})${detail}`,
  };
}

function clip(text: string): string {
  return text.length <= MAX_DETAIL ? text : `${text.slice(0, MAX_DETAIL - 1)}…`;
}
