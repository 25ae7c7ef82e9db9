// Injected faults: what a test asks the sandbox to answer instead of the real thing, for
// which requests, and how many times. Matching is pure, so "first a 429, then success" can
// be tested on its own.
import { apiError, json } from "./http.ts";
import { rateLimitHeaders, type RateLimitSpec } from "./rate_limit.ts";
import { isObject, sameSlug } from "./util.ts";

/** Which sandboxed route a fault applies to. */
export type FaultRoute =
  | "execute"
  | "list"
  | "get"
  | "toolkits"
  | "account_create"
  | "account_get"
  | "account_list";

const ROUTES: FaultRoute[] = [
  "execute",
  "list",
  "get",
  "toolkits",
  "account_create",
  "account_get",
  "account_list",
];

export interface FaultSpec {
  /**
   * Default "execute". "list" = GET /tools, "get" = GET /tools/{slug}, "toolkits" =
   * GET /toolkits; "account_create" = POST /connected_accounts, "account_get" =
   * GET /connected_accounts/{id}, "account_list" = GET /connected_accounts.
   */
  route?: FaultRoute;
  /** Only requests for this tool slug (execute and get routes) or account id (account_get). */
  slug?: string;
  /** Only execute requests carrying this `x-envelope-id`. */
  envelope_id?: string;
  /** HTTP status to answer with (409, 429, 500, 503, ...). */
  status?: number;
  /** Seconds, sent as the Retry-After header. */
  retry_after?: number;
  /** Answer 200 with `successful: false` (execute only); Composio reports tool failures this way. */
  successful_false?: boolean;
  /** Wait this long before answering (combines with the other effects). */
  delay_ms?: number;
  /**
   * Execute only: run the tool first (its effect takes place), then answer with the status
   * and/or after the delay: a write whose answer was lost.
   */
  after_apply?: boolean;
  /** How many matching requests get this fault; unlimited when absent. */
  times?: number;
  /** Replaces the whole response body. */
  body?: unknown;
  /** Error message used in the default body. */
  message?: string;
  /** `suggested_fix` of the default error body. */
  suggested_fix?: string;
}

export interface Fault extends FaultSpec {
  id: string;
  route: FaultRoute;
  /** Matching requests still to hit; null = unlimited. */
  remaining: number | null;
}

/**
 * Picks the first queued fault matching the request (FIFO), and returns the queue with that
 * fault's remaining count spent.
 */
export function matchFault(
  queue: readonly Fault[],
  req: { route: FaultRoute; slug?: string; envelope_id?: string | null },
): { fault: Fault | null; queue: Fault[] } {
  const index = queue.findIndex((f) =>
    f.route === req.route &&
    (f.remaining === null || f.remaining > 0) &&
    (f.slug === undefined || sameSlug(f.slug, req.slug)) &&
    (f.envelope_id === undefined || f.envelope_id === req.envelope_id)
  );
  if (index < 0) return { fault: null, queue: [...queue] };
  const fault = queue[index];
  const spent = fault.remaining === null ? fault : { ...fault, remaining: fault.remaining - 1 };
  const rest = [...queue];
  if (spent.remaining === 0) rest.splice(index, 1);
  else rest[index] = spent;
  return { fault, queue: rest };
}

/** Returns a problem description, or null when the spec is usable. */
export function checkFault(spec: unknown): string | null {
  if (!isObject(spec)) return "fault must be an object";
  if (spec.route !== undefined && !ROUTES.includes(spec.route as FaultRoute)) {
    return `route must be one of ${ROUTES.join(", ")}`;
  }
  for (const key of ["slug", "envelope_id", "message", "suggested_fix"]) {
    if (spec[key] !== undefined && typeof spec[key] !== "string") return `${key} must be a string`;
  }
  const s = spec.status;
  if (s !== undefined && !(Number.isInteger(s) && (s as number) >= 400 && (s as number) <= 599)) {
    return "status must be an HTTP error status (400-599)";
  }
  for (const key of ["retry_after", "delay_ms"]) {
    const v = spec[key];
    if (v !== undefined && !(typeof v === "number" && v >= 0)) return `${key} must be >= 0`;
  }
  const t = spec.times;
  if (t !== undefined && !(Number.isInteger(t) && (t as number) >= 1)) {
    return "times must be a positive integer";
  }
  if (s === undefined && !spec.successful_false && !spec.delay_ms) {
    return "fault needs status, successful_false or delay_ms";
  }
  if (spec.after_apply !== undefined) {
    if (typeof spec.after_apply !== "boolean") return "after_apply must be a boolean";
    if (spec.after_apply && (spec.route ?? "execute") !== "execute") {
      return "after_apply applies to the execute route only";
    }
    if (spec.after_apply && spec.successful_false) {
      return "after_apply answers with status or delay_ms, not successful_false";
    }
  }
  return null;
}

/**
 * The error answer of a fault that has a status. A 429 also carries the rate-limit headers
 * of `window` with nothing remaining, as Composio's limiter sends them; Retry-After only
 * when the fault sets it, so that a test can also see a 429 without one.
 */
export function faultResponse(fault: Fault, window: RateLimitSpec): Response {
  const status = fault.status!;
  const headers: Record<string, string> = status === 429 ? rateLimitHeaders(window, 0) : {};
  if (fault.retry_after !== undefined) headers["retry-after"] = String(fault.retry_after);
  if (fault.body !== undefined) return json(status, fault.body, headers);
  return apiError(status, fault.message ?? `Sandbox fault: HTTP ${status}`, {
    headers,
    suggestedFix: fault.suggested_fix,
  });
}
