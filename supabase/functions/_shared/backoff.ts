// Retry timing for outbox jobs: exponential backoff with full jitter, and the server's own
// Retry-After, which always wins when it asks for a longer wait.
//
// Full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015) draws the whole
// delay uniformly from [0, cap]; it spreads a burst of failures that happened together (one
// upstream outage hits every job at once) better than adding a little noise to a fixed delay.
// Delays are whole milliseconds so that they can go straight into a timestamp or setTimeout.

export interface BackoffPolicy {
  /** Cap of the first retry's delay, in ms. */
  baseMs: number;
  /** No jittered delay exceeds this, in ms. Retry-After may (see nextRetryDelay). */
  maxMs: number;
  /** Growth per attempt; default 2. */
  factor?: number;
}

/**
 * The largest delay full jitter may draw after `attempt` failed:
 * min(maxMs, baseMs * factor^(attempt - 1)). Never decreases as `attempt` grows.
 */
export function backoffCap(attempt: number, policy: BackoffPolicy): number {
  checkAttempt(attempt);
  const { baseMs, maxMs, factor } = checkPolicy(policy);
  if (baseMs === 0) return 0; // also avoids 0 * Infinity when factor^n overflows
  const grown = baseMs * factor ** (attempt - 1);
  return grown < maxMs ? grown : maxMs;
}

/**
 * Delay before retrying after `attempt` (1-based, the attempt that just failed) failed: a
 * whole number of ms drawn uniformly from [0, floor(backoffCap(attempt, policy))].
 * `random` must behave like Math.random (a number in [0, 1)); tests pass a fixed one.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const cap = Math.floor(backoffCap(attempt, policy));
  const r = random();
  if (typeof r !== "number" || !(r >= 0 && r < 1)) {
    throw new RangeError(`backoffDelay: random() must return a number in [0, 1), got ${r}`);
  }
  // floor(r * (cap + 1)) puts equal weight on each of 0..cap, cap included.
  return Math.floor(r * (cap + 1));
}

/**
 * Milliseconds to wait according to a Retry-After header (RFC 9110 §10.2.3): delay-seconds
 * ("120") or an HTTP-date in any of the three formats HTTP allows (IMF-fixdate, RFC 850,
 * asctime). Returns null when the header is absent or not valid, and 0 for a date in the past:
 * never a negative wait. Fractional or signed seconds are not valid delay-seconds.
 */
export function parseRetryAfter(header: string | null, now: Date): number | null {
  const nowMs = checkNow(now);
  if (header === null || header === undefined) return null;
  if (typeof header !== "string") {
    throw new TypeError(`parseRetryAfter: header must be a string or null, got ${typeof header}`);
  }
  const text = header.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : null;
  }
  const at = parseHttpDate(text, nowMs);
  return at === null ? null : Math.max(0, at - nowMs);
}

/**
 * Delay before the next attempt: max(retryAfterMs, backoffDelay(attempt, policy, random)).
 *
 * Retry-After is honoured even when it exceeds policy.maxMs: the server told us when it will
 * accept the call, and retrying earlier only earns another 429/503 and burns an attempt. No
 * ceiling is applied here; a caller that will not wait that long should dead-letter instead.
 * A fractional retryAfterMs is rounded up, so we never come back early.
 */
export function nextRetryDelay(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  const jittered = backoffDelay(attempt, policy, random);
  if (retryAfterMs === null || retryAfterMs === undefined) return jittered;
  if (typeof retryAfterMs !== "number" || !Number.isFinite(retryAfterMs) || retryAfterMs < 0) {
    throw new RangeError(
      `nextRetryDelay: retryAfterMs must be null or a finite number >= 0, got ${retryAfterMs}`,
    );
  }
  return Math.max(Math.ceil(retryAfterMs), jittered);
}

function checkAttempt(attempt: number): void {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  }
}

function checkPolicy(policy: BackoffPolicy): Required<BackoffPolicy> {
  if (policy === null || typeof policy !== "object") {
    throw new TypeError(`policy must be an object {baseMs, maxMs, factor?}, got ${policy}`);
  }
  const { baseMs, maxMs, factor = 2 } = policy;
  if (typeof baseMs !== "number" || !Number.isFinite(baseMs) || baseMs < 0) {
    throw new RangeError(`policy.baseMs must be a finite number >= 0, got ${baseMs}`);
  }
  if (typeof maxMs !== "number" || !Number.isFinite(maxMs) || maxMs < baseMs) {
    throw new RangeError(
      `policy.maxMs must be a finite number >= policy.baseMs (${baseMs}), got ${maxMs}`,
    );
  }
  if (typeof factor !== "number" || !Number.isFinite(factor) || factor < 1) {
    throw new RangeError(`policy.factor must be a finite number >= 1, got ${factor}`);
  }
  return { baseMs, maxMs, factor };
}

function checkNow(now: Date): number {
  if (!(now instanceof Date)) throw new TypeError(`now must be a Date, got ${typeof now}`);
  const ms = now.getTime();
  if (Number.isNaN(ms)) throw new RangeError("now must be a valid Date, got Invalid Date");
  return ms;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY = "(?:mon|tue|wed|thu|fri|sat|sun)";
const LONG_DAY = "(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)";
const MONTH = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)";
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
// Date.parse accepts far more than HTTP-date (and differs between engines), so the three
// formats are matched exactly. Matching ignores case: RFC 9110 makes HTTP-date case-sensitive
// but asks recipients to be lenient, and servers do send "GMT" in odd cases.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, "i");
const RFC_850 = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, "i");
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, "i");

function parseHttpDate(text: string, nowMs: number): number | null {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc({ year: +m[3], month: m[2], day: +m[1], ...clock(m, 4) });
  m = RFC_850.exec(text);
  if (m) {
    // RFC 9110: a two-digit year more than 50 years in the future means the past century.
    const nowYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(m[3]);
    if (year > nowYear + 50) year -= 100;
    return utc({ year, month: m[2], day: +m[1], ...clock(m, 4) });
  }
  m = ASCTIME.exec(text);
  if (m) return utc({ year: +m[6], month: m[1], day: +m[2].trim(), ...clock(m, 3) });
  return null;
}

function clock(m: RegExpExecArray, first: number) {
  return { hour: +m[first], minute: +m[first + 1], second: +m[first + 2] };
}

// Rejects out-of-range fields instead of letting Date.UTC roll "Feb 30" into March.
function utc(fields: {
  year: number;
  month: string;
  day: number;
  hour: number;
  minute: number;
  second: number;
}): number | null {
  const { year, day, hour, minute, second } = fields;
  const month = MONTHS.indexOf(fields.month.toLowerCase());
  if (hour > 23 || minute > 59 || second > 60) return null; // 60: a leap second
  const ms = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  const back = new Date(ms);
  if (back.getUTCMonth() !== month || back.getUTCDate() !== day) return null;
  return second === 60 ? ms + 1000 : ms;
}
