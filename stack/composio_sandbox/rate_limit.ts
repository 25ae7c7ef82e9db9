// Composio's rate limit: per organisation (here: per sandbox), over a rolling window. Every
// answer carries X-RateLimit (the limit), X-RateLimit-Remaining and X-RateLimit-Window-Size
// ("600s"); a request over the limit gets 429 with Retry-After, the seconds until the oldest
// request in the window rolls out of it (docs.composio.dev/reference/rate-limits).

export interface RateLimitSpec {
  /** Requests allowed per window. */
  limit: number;
  window_seconds: number;
}

/** What a 429 fault reports when no limit is set: an organisation-sized window, for shape. */
export const DEFAULT_RATE_LIMIT: RateLimitSpec = { limit: 20_000, window_seconds: 600 };

const MAX_LIMIT = 1_000_000;

/** Returns a problem description, or null when the spec is usable. */
export function checkRateLimit(spec: unknown): string | null {
  const s = spec as Partial<RateLimitSpec> | null;
  if (typeof s !== "object" || s === null) return "rate limit must be {limit, window_seconds}";
  if (!Number.isInteger(s.limit) || s.limit! < 1 || s.limit! > MAX_LIMIT) {
    return `limit must be an integer in 1..${MAX_LIMIT}`;
  }
  if (!Number.isInteger(s.window_seconds) || s.window_seconds! < 1) {
    return "window_seconds must be a positive integer";
  }
  return null;
}

export function rateLimitHeaders(spec: RateLimitSpec, remaining: number): Record<string, string> {
  return {
    "x-ratelimit": String(spec.limit),
    "x-ratelimit-remaining": String(remaining),
    "x-ratelimit-window-size": `${spec.window_seconds}s`,
  };
}

export class RollingWindow {
  // Times of the admitted requests still in the window, oldest first, from `head` on.
  private hits: number[] = [];
  private head = 0;

  constructor(readonly spec: RateLimitSpec) {}

  /** Counts a request at `now` (ms) if the window has room. */
  take(now: number): { admitted: boolean; remaining: number; retryAfterSeconds: number } {
    const windowMs = this.spec.window_seconds * 1000;
    while (this.head < this.hits.length && this.hits[this.head] <= now - windowMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.hits.length) {
      this.hits = this.hits.slice(this.head);
      this.head = 0;
    }
    const used = this.hits.length - this.head;
    if (used < this.spec.limit) {
      this.hits.push(now);
      return { admitted: true, remaining: this.spec.limit - used - 1, retryAfterSeconds: 0 };
    }
    const freesAt = this.hits[this.head] + windowMs;
    return {
      admitted: false,
      remaining: 0,
      retryAfterSeconds: Math.max(1, Math.ceil((freesAt - now) / 1000)),
    };
  }
}
