import assert from "node:assert/strict";
import fc from "fast-check";
import {
  applyAttemptLimit,
  type CallResult,
  classifyCallResult,
  type Outcome,
} from "./execution_policy.ts";

type Kind = Outcome["kind"];

// Every row: the call result, what a read becomes, what a write becomes.
const table: {
  name: string;
  result: CallResult;
  read: Kind;
  write: Kind;
  retryAfterMs?: number | null;
}[] = [
  { name: "200", result: { kind: "response", status: 200 }, read: "succeeded", write: "succeeded" },
  {
    name: "200 successful:true",
    result: { kind: "response", status: 200, successful: true },
    read: "succeeded",
    write: "succeeded",
  },
  { name: "201", result: { kind: "response", status: 201 }, read: "succeeded", write: "succeeded" },
  { name: "204", result: { kind: "response", status: 204 }, read: "succeeded", write: "succeeded" },
  {
    name: "200 successful:false",
    result: { kind: "response", status: 200, successful: false, error: "Not Found" },
    read: "retry",
    write: "retry",
    retryAfterMs: null,
  },
  { name: "409", result: { kind: "response", status: 409 }, read: "conflict", write: "conflict" },
  {
    name: "409 with Retry-After",
    result: { kind: "response", status: 409, retryAfterMs: 5_000 },
    read: "conflict",
    write: "conflict",
  },
  { name: "401", result: { kind: "response", status: 401 }, read: "halt", write: "halt" },
  { name: "403", result: { kind: "response", status: 403 }, read: "halt", write: "halt" },
  {
    name: "429 with Retry-After",
    result: { kind: "response", status: 429, retryAfterMs: 30_000 },
    read: "throttled",
    write: "throttled",
    retryAfterMs: 30_000,
  },
  {
    name: "429 without Retry-After",
    result: { kind: "response", status: 429 },
    read: "throttled",
    write: "throttled",
    retryAfterMs: null,
  },
  {
    name: "503 with Retry-After",
    result: { kind: "response", status: 503, retryAfterMs: 0 },
    read: "retry",
    write: "retry",
    retryAfterMs: 0,
  },
  {
    name: "503 without Retry-After",
    result: { kind: "response", status: 503 },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "503 with null Retry-After",
    result: { kind: "response", status: 503, retryAfterMs: null },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "408",
    result: { kind: "response", status: 408 },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "500",
    result: { kind: "response", status: 500, error: "boom" },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "502",
    result: { kind: "response", status: 502 },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "504",
    result: { kind: "response", status: 504 },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "500 with Retry-After keeps it for reads",
    result: { kind: "response", status: 500, retryAfterMs: 7_000 },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: 7_000,
  },
  {
    name: "599",
    result: { kind: "response", status: 599 },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "400",
    result: { kind: "response", status: 400, error: "bad arguments" },
    read: "dead_letter",
    write: "dead_letter",
  },
  {
    name: "404",
    result: { kind: "response", status: 404 },
    read: "dead_letter",
    write: "dead_letter",
  },
  {
    name: "410",
    result: { kind: "response", status: 410 },
    read: "dead_letter",
    write: "dead_letter",
  },
  {
    name: "422",
    result: { kind: "response", status: 422 },
    read: "dead_letter",
    write: "dead_letter",
  },
  {
    name: "301 (redirects are followed by fetch)",
    result: { kind: "response", status: 301 },
    read: "dead_letter",
    write: "dead_letter",
  },
  {
    name: "timeout",
    result: { kind: "timeout" },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "network_error",
    result: { kind: "network_error", message: "connection reset" },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "lease_lost",
    result: { kind: "lease_lost" },
    read: "retry",
    write: "unknown_outcome",
    retryAfterMs: null,
  },
  {
    name: "connection_refused",
    result: { kind: "connection_refused" },
    read: "retry",
    write: "retry",
    retryAfterMs: null,
  },
];

for (const row of table) {
  for (const readOnly of [true, false]) {
    const expected = readOnly ? row.read : row.write;
    Deno.test(`classifyCallResult: ${row.name}, ${readOnly ? "read" : "write"} → ${expected}`, () => {
      const outcome = classifyCallResult(row.result, { readOnly });
      assert.equal(outcome.kind, expected);
      if (outcome.kind === "retry") assert.equal(outcome.retryAfterMs, row.retryAfterMs);
      if (outcome.kind !== "succeeded") {
        assert.ok(outcome.reason.length > 0 && outcome.reason.length < 500, outcome.reason);
      }
    });
  }
}

Deno.test("reasons carry the upstream detail, clipped", () => {
  const long = "x".repeat(1_000);
  const outcome = classifyCallResult({ kind: "response", status: 400, error: long }, {
    readOnly: false,
  });
  assert.equal(outcome.kind, "dead_letter");
  assert.equal((outcome as { code: string }).code, "non_retryable");
  assert.match((outcome as { reason: string }).reason, /^Composio rejected the call \(400\): x+…$/);
  assert.ok((outcome as { reason: string }).reason.length < 400);
  const reset = classifyCallResult({ kind: "network_error", message: "ECONNRESET" }, {
    readOnly: false,
  });
  assert.deepEqual(reset, {
    kind: "unknown_outcome",
    reason: "connection failed after sending: ECONNRESET; the write may have happened",
  });
  const failed = classifyCallResult(
    { kind: "response", status: 200, successful: false, error: "Issue not found" },
    { readOnly: true },
  );
  assert.deepEqual(failed, {
    kind: "retry",
    reason: "the tool reported failure: Issue not found",
    retryAfterMs: null,
  });
});

const invalid: { name: string; call: () => unknown; error: ErrorConstructor; message: RegExp }[] = [
  {
    name: "status 100",
    call: () => classifyCallResult({ kind: "response", status: 100 }, { readOnly: true }),
    error: RangeError,
    message: /result\.status .* 200\.\.599, got 100/,
  },
  {
    name: "status 600",
    call: () => classifyCallResult({ kind: "response", status: 600 }, { readOnly: true }),
    error: RangeError,
    message: /got 600/,
  },
  {
    name: "status 200.5",
    call: () => classifyCallResult({ kind: "response", status: 200.5 }, { readOnly: true }),
    error: RangeError,
    message: /got 200.5/,
  },
  {
    name: "negative retryAfterMs",
    call: () =>
      classifyCallResult({ kind: "response", status: 429, retryAfterMs: -1 }, { readOnly: true }),
    error: RangeError,
    message: /result\.retryAfterMs .* got -1/,
  },
  {
    name: "unknown kind",
    call: () => classifyCallResult({ kind: "nope" } as unknown as CallResult, { readOnly: true }),
    error: TypeError,
    message: /result\.kind .* got nope/,
  },
  {
    name: "missing readOnly",
    call: () => classifyCallResult({ kind: "timeout" }, {} as { readOnly: boolean }),
    error: TypeError,
    message: /opts\.readOnly must be a boolean, got undefined/,
  },
  {
    name: "attempt 0",
    call: () => applyAttemptLimit({ kind: "succeeded" }, 0, 3),
    error: RangeError,
    message: /attempt must be an integer >= 1, got 0/,
  },
  {
    name: "maxAttempts 0",
    call: () => applyAttemptLimit({ kind: "succeeded" }, 1, 0),
    error: RangeError,
    message: /maxAttempts must be an integer >= 1, got 0/,
  },
];

for (const { name, call, error, message } of invalid) {
  Deno.test(`rejects ${name}`, () => {
    assert.throws(call, (e) => e instanceof error && message.test((e as Error).message));
  });
}

const retry: Outcome = {
  kind: "retry",
  reason: "rate limited by Composio (429)",
  retryAfterMs: 1_000,
};
const limitExamples: {
  name: string;
  outcome: Outcome;
  attempt: number;
  max: number;
  expected: Outcome;
}[] = [
  {
    name: "retry below the limit stays retry",
    outcome: retry,
    attempt: 2,
    max: 3,
    expected: retry,
  },
  {
    name: "retry at the limit is dead-lettered",
    outcome: retry,
    attempt: 3,
    max: 3,
    expected: {
      kind: "dead_letter",
      code: "max_attempts",
      reason: "attempts exhausted (3/3): rate limited by Composio (429)",
    },
  },
  {
    name: "retry past the limit is dead-lettered",
    outcome: retry,
    attempt: 7,
    max: 3,
    expected: {
      kind: "dead_letter",
      code: "max_attempts",
      reason: "attempts exhausted (7/3): rate limited by Composio (429)",
    },
  },
  {
    name: "single-attempt tier",
    outcome: retry,
    attempt: 1,
    max: 1,
    expected: {
      kind: "dead_letter",
      code: "max_attempts",
      reason: "attempts exhausted (1/1): rate limited by Composio (429)",
    },
  },
  {
    name: "unknown_outcome is never turned into a dead letter",
    outcome: { kind: "unknown_outcome", reason: "r" },
    attempt: 9,
    max: 3,
    expected: { kind: "unknown_outcome", reason: "r" },
  },
  {
    name: "succeeded passes",
    outcome: { kind: "succeeded" },
    attempt: 5,
    max: 1,
    expected: { kind: "succeeded" },
  },
  {
    name: "halt passes",
    outcome: { kind: "halt", reason: "h" },
    attempt: 5,
    max: 1,
    expected: { kind: "halt", reason: "h" },
  },
  {
    name: "conflict passes",
    outcome: { kind: "conflict", reason: "c" },
    attempt: 5,
    max: 1,
    expected: { kind: "conflict", reason: "c" },
  },
];

for (const { name, outcome, attempt, max, expected } of limitExamples) {
  Deno.test(`applyAttemptLimit: ${name}`, () => {
    assert.deepEqual(applyAttemptLimit(outcome, attempt, max), expected);
  });
}

const callResults: fc.Arbitrary<CallResult> = fc.oneof(
  fc.record(
    {
      kind: fc.constant("response" as const),
      // Bias towards the statuses the rules name, so every branch is exercised often.
      status: fc.oneof(
        fc.constantFrom(200, 204, 401, 403, 408, 409, 429, 500, 502, 503, 504),
        fc.integer({ min: 200, max: 599 }),
      ),
      successful: fc.boolean(),
      retryAfterMs: fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: null }),
      error: fc.option(fc.string(), { nil: null }),
    },
    { requiredKeys: ["kind", "status"] },
  ),
  fc.constant({ kind: "timeout" as const }),
  fc.constant({ kind: "connection_refused" as const }),
  fc.record({ kind: fc.constant("network_error" as const), message: fc.string() }),
  fc.constant({ kind: "lease_lost" as const }),
);

// The statuses that prove a write had no effect, or completed and reported failure.
function writeMayRetry(result: CallResult): boolean {
  if (result.kind === "connection_refused") return true;
  if (result.kind !== "response") return false;
  const { status } = result;
  return status === 429 ||
    (status === 503 && result.retryAfterMs != null) ||
    (status >= 200 && status < 300 && result.successful === false);
}

Deno.test("property: a write is never retried unless the result proves no duplicate", () => {
  fc.assert(
    fc.property(callResults, (result) => {
      const outcome = classifyCallResult(result, { readOnly: false });
      if (outcome.kind === "retry" || outcome.kind === "throttled") {
        assert.ok(writeMayRetry(result), JSON.stringify(result));
      }
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("property: reads are never unknown_outcome, and retry wherever a write is unknown", () => {
  fc.assert(
    fc.property(callResults, (result) => {
      const read = classifyCallResult(result, { readOnly: true });
      const write = classifyCallResult(result, { readOnly: false });
      assert.notEqual(read.kind, "unknown_outcome");
      if (write.kind === "unknown_outcome") assert.equal(read.kind, "retry");
      else assert.deepEqual(read, write); // only the uncertain cases depend on readOnly
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("property: 401/403 always halt and 409 is never retried, whatever else is set", () => {
  fc.assert(
    fc.property(callResults, fc.boolean(), (result, readOnly) => {
      const outcome = classifyCallResult(result, { readOnly });
      if (result.kind === "response" && (result.status === 401 || result.status === 403)) {
        assert.equal(outcome.kind, "halt");
      }
      if (result.kind === "response" && result.status === 409) {
        assert.equal(outcome.kind, "conflict");
      }
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("property: applyAttemptLimit only ever turns a retry into a dead letter", () => {
  fc.assert(
    fc.property(
      callResults,
      fc.boolean(),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 20 }),
      (result, readOnly, attempt, max) => {
        const outcome = classifyCallResult(result, { readOnly });
        const limited = applyAttemptLimit(outcome, attempt, max);
        if (outcome.kind === "retry" && attempt >= max) {
          assert.equal(limited.kind, "dead_letter");
          assert.ok((limited as { reason: string }).reason.endsWith(outcome.reason));
        } else {
          assert.deepEqual(limited, outcome);
        }
      },
    ),
  );
});
