import assert from "node:assert/strict";
import fc from "fast-check";
import {
  backoffCap,
  backoffDelay,
  type BackoffPolicy,
  nextRetryDelay,
  parseRetryAfter,
} from "./backoff.ts";

const policy: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };
const fixed = (r: number) => () => r;
const ALMOST_ONE = 1 - Number.EPSILON / 2; // the largest value Math.random can return

const delayExamples: {
  name: string;
  attempt: number;
  policy: BackoffPolicy;
  random: number;
  expected: number;
}[] = [
  { name: "first attempt, r=0", attempt: 1, policy, random: 0, expected: 0 },
  {
    name: "first attempt, r→1 reaches base",
    attempt: 1,
    policy,
    random: ALMOST_ONE,
    expected: 1_000,
  },
  { name: "first attempt, r=0.5", attempt: 1, policy, random: 0.5, expected: 500 },
  {
    name: "second attempt doubles the cap",
    attempt: 2,
    policy,
    random: ALMOST_ONE,
    expected: 2_000,
  },
  { name: "fourth attempt", attempt: 4, policy, random: ALMOST_ONE, expected: 8_000 },
  { name: "capped at maxMs", attempt: 7, policy, random: ALMOST_ONE, expected: 60_000 },
  {
    name: "huge attempt stays at maxMs",
    attempt: 10_000,
    policy,
    random: ALMOST_ONE,
    expected: 60_000,
  },
  {
    name: "custom factor 3",
    attempt: 3,
    policy: { baseMs: 100, maxMs: 10_000, factor: 3 },
    random: ALMOST_ONE,
    expected: 900,
  },
  {
    name: "factor 1 is constant",
    attempt: 50,
    policy: { baseMs: 250, maxMs: 10_000, factor: 1 },
    random: ALMOST_ONE,
    expected: 250,
  },
  {
    name: "fractional cap is floored",
    attempt: 2,
    policy: { baseMs: 100, maxMs: 10_000, factor: 1.5 },
    random: ALMOST_ONE,
    expected: 150,
  },
  {
    name: "zero base never waits",
    attempt: 2_000,
    policy: { baseMs: 0, maxMs: 0 },
    random: ALMOST_ONE,
    expected: 0,
  },
];

for (const { name, attempt, policy, random, expected } of delayExamples) {
  Deno.test(`backoffDelay: ${name}`, () => {
    assert.equal(backoffDelay(attempt, policy, fixed(random)), expected);
  });
}

const badArguments: {
  name: string;
  call: () => unknown;
  error: RangeErrorConstructor | TypeErrorConstructor;
  message: RegExp;
}[] = [
  {
    name: "attempt 0",
    call: () => backoffDelay(0, policy),
    error: RangeError,
    message: /attempt must be an integer >= 1, got 0/,
  },
  {
    name: "attempt 1.5",
    call: () => backoffDelay(1.5, policy),
    error: RangeError,
    message: /got 1.5/,
  },
  {
    name: "attempt NaN",
    call: () => backoffCap(NaN, policy),
    error: RangeError,
    message: /got NaN/,
  },
  {
    name: "negative base",
    call: () => backoffDelay(1, { baseMs: -1, maxMs: 5 }),
    error: RangeError,
    message: /policy\.baseMs .* got -1/,
  },
  {
    name: "max below base",
    call: () => backoffDelay(1, { baseMs: 10, maxMs: 5 }),
    error: RangeError,
    message: /policy\.maxMs .* >= policy\.baseMs \(10\), got 5/,
  },
  {
    name: "infinite max",
    call: () => backoffDelay(1, { baseMs: 10, maxMs: Infinity }),
    error: RangeError,
    message: /policy\.maxMs/,
  },
  {
    name: "factor below 1",
    call: () => backoffDelay(1, { baseMs: 1, maxMs: 5, factor: 0.5 }),
    error: RangeError,
    message: /policy\.factor .* >= 1, got 0.5/,
  },
  {
    name: "policy null",
    call: () => backoffDelay(1, null as unknown as BackoffPolicy),
    error: TypeError,
    message: /policy must be an object/,
  },
  {
    name: "random returns 1",
    call: () => backoffDelay(1, policy, fixed(1)),
    error: RangeError,
    message: /random\(\) must return a number in \[0, 1\), got 1/,
  },
  {
    name: "random returns -0.1",
    call: () => backoffDelay(1, policy, fixed(-0.1)),
    error: RangeError,
    message: /got -0.1/,
  },
  {
    name: "negative retryAfterMs",
    call: () => nextRetryDelay(1, policy, -5),
    error: RangeError,
    message: /retryAfterMs .* got -5/,
  },
  {
    name: "NaN retryAfterMs",
    call: () => nextRetryDelay(1, policy, NaN),
    error: RangeError,
    message: /retryAfterMs .* got NaN/,
  },
  {
    name: "invalid now",
    call: () => parseRetryAfter("1", new Date(NaN)),
    error: RangeError,
    message: /now must be a valid Date/,
  },
  {
    name: "now not a Date",
    call: () => parseRetryAfter("1", 5 as unknown as Date),
    error: TypeError,
    message: /now must be a Date/,
  },
];

for (const { name, call, error, message } of badArguments) {
  Deno.test(`rejects ${name}`, () => {
    assert.throws(call, (e) => e instanceof error && message.test(e.message));
  });
}

const now = new Date("2026-03-29T01:00:00Z");
const retryAfterExamples: { header: string | null; expected: number | null }[] = [
  { header: null, expected: null },
  { header: "", expected: null },
  { header: "0", expected: 0 },
  { header: "120", expected: 120_000 },
  { header: " 5 ", expected: 5_000 },
  { header: "007", expected: 7_000 },
  { header: "-5", expected: null },
  { header: "1.5", expected: null },
  { header: "+3", expected: null },
  { header: "1e3", expected: null },
  { header: "soon", expected: null },
  { header: "99999999999999999999", expected: null }, // not representable as whole ms
  { header: "Sun, 29 Mar 2026 01:00:30 GMT", expected: 30_000 },
  { header: "Sun, 29 Mar 2026 02:00:00 GMT", expected: 3_600_000 },
  { header: "sun, 29 mar 2026 01:00:30 gmt", expected: 30_000 },
  { header: "Sat, 28 Mar 2026 01:00:00 GMT", expected: 0 }, // in the past: retry now
  { header: "Sunday, 29-Mar-26 01:01:00 GMT", expected: 60_000 },
  { header: "Sun Mar 29 01:00:10 2026", expected: 10_000 },
  { header: "Sun Mar  1 00:00:00 2026", expected: 0 },
  { header: "Mon, 30 Feb 2026 00:00:00 GMT", expected: null }, // no such day
  { header: "Sun, 29 Mar 2026 24:00:00 GMT", expected: null },
  { header: "Sun, 29 Mar 2026 01:00:30 +0000", expected: null }, // HTTP-date is always GMT
  { header: "2026-03-29T01:00:30Z", expected: null }, // ISO 8601 is not an HTTP-date
  { header: "Sun, 29 Mar 2026 01:00:30 GMT extra", expected: null },
];

for (const { header, expected } of retryAfterExamples) {
  Deno.test(`parseRetryAfter(${JSON.stringify(header)}) is ${expected}`, () => {
    assert.equal(parseRetryAfter(header, now), expected);
  });
}

Deno.test("parseRetryAfter: RFC 850 two-digit years more than 50 years ahead are last century", () => {
  assert.equal(
    parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now),
    0, // 1994, in the past
  );
  assert.equal(
    parseRetryAfter("Thursday, 29-Mar-76 01:00:00 GMT", now),
    Date.UTC(2076, 2, 29, 1) - now.getTime(), // 2076 is exactly 50 years ahead: kept
  );
});

const nextExamples: {
  name: string;
  retryAfterMs: number | null;
  random: number;
  expected: number;
}[] = [
  { name: "no Retry-After: the jittered delay", retryAfterMs: null, random: 0.5, expected: 1_000 },
  { name: "Retry-After above the jitter wins", retryAfterMs: 1_500, random: 0.5, expected: 1_500 },
  { name: "jitter above Retry-After wins", retryAfterMs: 100, random: 0.5, expected: 1_000 },
  {
    name: "Retry-After above maxMs is honoured",
    retryAfterMs: 3_600_000,
    random: ALMOST_ONE,
    expected: 3_600_000,
  },
  { name: "fractional Retry-After rounds up", retryAfterMs: 1_500.2, random: 0, expected: 1_501 },
  { name: "zero Retry-After", retryAfterMs: 0, random: 0, expected: 0 },
];

for (const { name, retryAfterMs, random, expected } of nextExamples) {
  Deno.test(`nextRetryDelay: ${name}`, () => {
    assert.equal(nextRetryDelay(2, policy, retryAfterMs, fixed(random)), expected);
  });
}

const policies = fc
  .record({
    baseMs: fc.integer({ min: 0, max: 100_000 }),
    extra: fc.integer({ min: 0, max: 10_000_000 }),
    factor: fc.option(fc.double({ min: 1, max: 10, noNaN: true }), { nil: undefined }),
  })
  .map(({ baseMs, extra, factor }): BackoffPolicy => ({
    baseMs,
    maxMs: baseMs + extra,
    ...(factor === undefined ? {} : { factor }),
  }));
const attempts = fc.integer({ min: 1, max: 2_000 });
const randoms = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

Deno.test("property: delay is a whole number of ms within [0, min(maxMs, base*factor^(n-1))]", () => {
  fc.assert(
    fc.property(attempts, policies, randoms, (attempt, p, r) => {
      const delay = backoffDelay(attempt, p, fixed(r));
      const bound = Math.min(p.maxMs, p.baseMs * (p.factor ?? 2) ** (attempt - 1));
      assert.ok(Number.isInteger(delay));
      assert.ok(delay >= 0 && delay <= p.maxMs, `${delay} outside [0, ${p.maxMs}]`);
      assert.ok(delay <= (Number.isNaN(bound) ? 0 : bound), `${delay} > ${bound}`);
    }),
  );
});

Deno.test("property: the cap, and the delay for a fixed draw, never shrink as attempts grow", () => {
  fc.assert(
    fc.property(attempts, attempts, policies, randoms, (a, b, p, r) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      assert.ok(backoffCap(lo, p) <= backoffCap(hi, p));
      assert.ok(backoffDelay(lo, p, fixed(r)) <= backoffDelay(hi, p, fixed(r)));
      // Once at maxMs, it stays there.
      if (backoffCap(lo, p) === p.maxMs) assert.equal(backoffCap(hi, p), p.maxMs);
    }),
  );
});

Deno.test("property: the full range is reachable (r near 0 gives 0, r near 1 gives the cap)", () => {
  fc.assert(
    fc.property(attempts, policies, (attempt, p) => {
      assert.equal(backoffDelay(attempt, p, fixed(0)), 0);
      assert.equal(backoffDelay(attempt, p, fixed(ALMOST_ONE)), Math.floor(backoffCap(attempt, p)));
    }),
  );
});

Deno.test("property: Retry-After is always honoured, and the result is the larger of the two", () => {
  fc.assert(
    fc.property(
      attempts,
      policies,
      fc.option(fc.integer({ min: 0, max: 10 * 24 * 3_600_000 }), { nil: null }),
      randoms,
      (attempt, p, retryAfterMs, r) => {
        const delay = nextRetryDelay(attempt, p, retryAfterMs, fixed(r));
        const jittered = backoffDelay(attempt, p, fixed(r));
        assert.equal(delay, Math.max(retryAfterMs ?? 0, jittered));
        if (retryAfterMs !== null) assert.ok(delay >= retryAfterMs);
        else assert.ok(delay <= p.maxMs);
      },
    ),
  );
});

Deno.test("property: parseRetryAfter round-trips delay-seconds and IMF-fixdate", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10_000_000 }),
      fc.date({
        min: new Date("2000-01-01T00:00:00Z"),
        max: new Date("2100-01-01T00:00:00Z"),
        noInvalidDate: true,
      }),
      fc.integer({ min: -86_400, max: 86_400 }),
      (seconds, at, offsetSeconds) => {
        assert.equal(parseRetryAfter(String(seconds), at), seconds * 1000);
        const whole = new Date(Math.floor(at.getTime() / 1000) * 1000 + offsetSeconds * 1000);
        const wait = parseRetryAfter(whole.toUTCString(), at);
        assert.equal(wait, Math.max(0, whole.getTime() - at.getTime()));
        assert.ok(wait !== null && wait >= 0);
      },
    ),
  );
});

Deno.test("property: parseRetryAfter never throws on arbitrary text and never goes negative", () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      const wait = parseRetryAfter(text, now);
      assert.ok(wait === null || (Number.isInteger(wait) && wait >= 0));
    }),
  );
});
