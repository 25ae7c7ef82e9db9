// Transport to Composio's v3.1 REST API: base URL and key from the environment, a timeout on
// every call, Composio's error body and rate-limit headers read, and failures reported as
// facts (ComposioError, callResultOf) for execution_policy.ts to decide on. Catalog calls
// (composio_tools.ts) and executions (composio_execute.ts) build on it, with paths relative
// to the API base (`/tools`, not `/api/v3.1/tools`).
import { optionalEnv, requireEnv } from "./env.ts";
import { parseRetryAfter } from "./backoff.ts";
import type { CallResult } from "./execution_policy.ts";

/**
 * The API base path. v3.1 resolves an unpinned tool call to the toolkit's latest version
 * (v3 to the oldest), so executions always send the version the catalog pinned.
 */
export const COMPOSIO_API_BASE = "/api/v3.1";

export interface ComposioConfig {
  /** Scheme and host (COMPOSIO_BASE_URL), without the API base path. */
  baseUrl: string;
  apiKey: string;
  /** Per-request timeout. */
  timeoutMs: number;
}

export function composioConfig(overrides: Partial<ComposioConfig> = {}): ComposioConfig {
  return {
    baseUrl:
      (overrides.baseUrl ?? optionalEnv("COMPOSIO_BASE_URL") ?? "https://backend.composio.dev")
        .replace(/\/+$/, ""),
    apiKey: overrides.apiKey ?? requireEnv("COMPOSIO_API_KEY"),
    timeoutMs: overrides.timeoutMs ?? 15_000,
  };
}

/**
 * Composio's rate-limit headers (per organisation, over a rolling window), as numbers: what
 * a caller needs to keep its own budget in step with Composio's. Null where a header is
 * absent or unreadable.
 */
export interface RateLimit {
  /** Requests allowed per window (X-RateLimit). */
  limit: number | null;
  /** Requests left in the current window (X-RateLimit-Remaining). */
  remaining: number | null;
  /** The window's length in seconds (X-RateLimit-Window-Size, e.g. "600s"). */
  windowSeconds: number | null;
  /** When to come back (Retry-After, sent with 429), in ms from the answer. */
  retryAfterMs: number | null;
}

/** Composio's error body, `{error: {message, status, request_id, suggested_fix, …}}`. */
export interface ComposioErrorBody {
  message: string | null;
  status: number | null;
  requestId: string | null;
  suggestedFix: string | null;
}

/**
 * A failed call, as facts: what kind of failure, the status, Retry-After, Composio's body.
 * What to do about it (retry, give up, park) is decided in one place, execution_policy.ts,
 * from callResultOf(err).
 */
export class ComposioError extends Error {
  /** What Composio said (describeError of its error body), without our method and path. */
  readonly upstream: string | null;
  /** Composio's request id, for their support. */
  readonly requestId: string | null;
  readonly suggestedFix: string | null;
  /** The rate-limit headers of the answer, when there was one. */
  readonly rateLimit: RateLimit | null;

  /**
   * For an answer we could not use (kind invalid_response): whether asking again may get a
   * usable one (a truncated listing) or not (a listing whose cursor loops).
   */
  readonly transient: boolean;

  constructor(
    message: string,
    readonly status: number | null,
    readonly kind: "http" | "timeout" | "connection_refused" | "network" | "invalid_response",
    info: {
      retryAfterMs?: number | null;
      body?: unknown;
      upstream?: string;
      requestId?: string | null;
      suggestedFix?: string | null;
      rateLimit?: RateLimit;
      transient?: boolean;
    } = {},
  ) {
    super(message);
    this.name = "ComposioError";
    this.retryAfterMs = info.retryAfterMs ?? null;
    this.body = info.body ?? null;
    this.upstream = info.upstream ?? null;
    this.requestId = info.requestId ?? null;
    this.suggestedFix = info.suggestedFix ?? null;
    this.rateLimit = info.rateLimit ?? null;
    this.transient = info.transient ?? true;
  }

  readonly retryAfterMs: number | null;
  readonly body: unknown;
}

/**
 * The failure in the policy's vocabulary (execution_policy.ts decides what it means).
 * `redact` cleans Composio's text (an execution cuts out the argument values it repeats).
 */
export function callResultOf(
  err: ComposioError,
  redact: (text: string) => string = (t) => t,
): CallResult {
  switch (err.kind) {
    case "timeout":
      return { kind: "timeout" };
    case "connection_refused":
      return { kind: "connection_refused" };
    case "http":
      return {
        kind: "response",
        status: err.status ?? 500,
        retryAfterMs: err.retryAfterMs,
        error: redact(err.upstream ?? err.message),
      };
    case "invalid_response":
      // A 2xx we could not use: the call reached Composio.
      return { kind: "invalid_answer", transient: err.transient, message: redact(err.message) };
    case "network":
      return { kind: "network_error", message: redact(err.message) };
  }
}

export interface ComposioResponse<T> {
  status: number;
  data: T;
  /** Length of the answer's text: what a caller may weigh the parsed data by, for free. */
  bodyChars: number;
  headers: Headers;
  rateLimit: RateLimit;
}

function num(h: string | null): number | null {
  const n = h === null || h.trim() === "" ? NaN : Number(h);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

const UNIT_SECONDS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600 };

/** X-RateLimit-Window-Size in seconds: "600s" as documented, also "600", "10m", "1h". */
export function parseWindowSize(h: string | null): number | null {
  const m = h === null ? null : /^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$/i.exec(h);
  return m ? Number(m[1]) * UNIT_SECONDS[m[2].toLowerCase()] : null;
}

export function readRateLimit(headers: Headers, now: Date = new Date()): RateLimit {
  return {
    limit: num(headers.get("x-ratelimit")),
    remaining: num(headers.get("x-ratelimit-remaining")),
    windowSeconds: parseWindowSize(headers.get("x-ratelimit-window-size")),
    retryAfterMs: parseRetryAfter(headers.get("retry-after"), now),
  };
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/**
 * Reads an error answer: Composio's documented `{error: {…}}`, an `{error: "…"}`, or the
 * bare `{message}` its rate limiter answers 429 with; else the start of a non-JSON body.
 */
export function parseErrorBody(data: unknown, text = ""): ComposioErrorBody {
  const out: ComposioErrorBody = {
    message: null,
    status: null,
    requestId: null,
    suggestedFix: null,
  };
  const b = data as Record<string, unknown> | null;
  if (b !== null && typeof b === "object" && !Array.isArray(b)) {
    const e = b.error as Record<string, unknown> | string | null | undefined;
    if (e !== null && typeof e === "object" && !Array.isArray(e)) {
      out.message = str(e.message);
      out.status = typeof e.status === "number" ? e.status : null;
      out.requestId = str(e.request_id);
      out.suggestedFix = str(e.suggested_fix);
    } else if (typeof e === "string") {
      out.message = str(e);
    }
    out.message ??= str(b.message);
  }
  // Anything else: the start of what was sent, which is all there is to go on.
  out.message ??= text.trim().slice(0, 200) || null;
  return out;
}

// Upstream text lands in logs and audit rows; an error body can be arbitrarily long.
const MAX_UPSTREAM = 300;

/** Composio's message, its suggested fix and request id, clipped: the text a failure shows. */
export function describeError(e: ComposioErrorBody): string {
  let text = e.message ?? "no message";
  if (e.suggestedFix) text += `; suggested fix: ${e.suggestedFix}`;
  if (text.length > MAX_UPSTREAM) text = `${text.slice(0, MAX_UPSTREAM - 1)}…`;
  return e.requestId ? `${text} (request_id ${e.requestId})` : text;
}

function isConnectionRefused(err: unknown): boolean {
  // Deno's fetch puts the reason in cause.message ("Connection refused (os error 111)").
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e?.code === "ECONNREFUSED" || e?.cause?.code === "ECONNREFUSED" ||
    /connection refused|ECONNREFUSED/i.test(`${e?.message ?? ""} ${e?.cause?.message ?? ""}`);
}

// Per-call timeouts share one timer: AbortSignal.timeout leaves a timer pending for the full
// timeout after every call, so a drain doing a thousand calls a second keeps ~15,000 live
// timers and pays for each (bench/RESULTS.md, outbox-drain). The sweep runs only while calls
// are in flight and aborts, with a TimeoutError like AbortSignal.timeout's, the ones past their
// deadline (at most SWEEP_MS late).
const SWEEP_MS = 50;
const inFlight = new Set<{ controller: AbortController; deadline: number; ms: number }>();
let sweep: ReturnType<typeof setInterval> | undefined;

function timeoutSignal(ms: number): { signal: AbortSignal; done: () => void } {
  const call = { controller: new AbortController(), deadline: performance.now() + ms, ms };
  inFlight.add(call);
  sweep ??= setInterval(() => {
    const now = performance.now();
    for (const c of inFlight) {
      if (c.deadline > now) continue;
      inFlight.delete(c);
      c.controller.abort(new DOMException(`no answer within ${c.ms} ms`, "TimeoutError"));
    }
    if (inFlight.size === 0) {
      clearInterval(sweep);
      sweep = undefined;
    }
  }, SWEEP_MS);
  return { signal: call.controller.signal, done: () => inFlight.delete(call) };
}

/**
 * One HTTP call to Composio, `path` under the API base. Resolves with any 2xx; throws
 * ComposioError for everything else, carrying the status, Retry-After, Composio's error body
 * and the rate-limit headers. Messages name the
 * method and path only (never the query or body) and never hold the API key.
 */
export async function composioRequest<T = unknown>(
  config: ComposioConfig,
  method: "GET" | "POST",
  path: string,
  opts: {
    query?: Record<string, string | undefined>;
    body?: unknown;
    headers?: Record<string, string>;
    /** Called just before the request leaves: after it, an effect on Composio's side is possible. */
    onSend?: () => void;
  } = {},
): Promise<ComposioResponse<T>> {
  const apiPath = `${COMPOSIO_API_BASE}${path}`;
  let url = `${config.baseUrl}${apiPath}`;
  if (opts.query) {
    const u = new URL(url);
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined) u.searchParams.set(k, v);
    }
    url = u.href;
  }
  // Our side of the request, outside the try below: a failure here is our bug, not the
  // network's, and nothing has been sent.
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = {
    "x-api-key": config.apiKey,
    accept: "application/json",
    ...(body !== undefined ? { "content-type": "application/json" } : {}),
    ...opts.headers,
  };
  const timeout = timeoutSignal(config.timeoutMs);
  let res: Response;
  let text: string;
  opts.onSend?.();
  try {
    res = await fetch(url, { method, headers, body, signal: timeout.signal });
    // The timeout covers the body too: a server that stalls mid-body is no answer either.
    text = await res.text();
  } catch (err) {
    if ((err as Error).name === "TimeoutError") {
      throw new ComposioError(
        `${method} ${apiPath}: no answer within ${config.timeoutMs} ms`,
        null,
        "timeout",
      );
    }
    if (isConnectionRefused(err)) {
      throw new ComposioError(
        `${method} ${apiPath}: connection refused`,
        null,
        "connection_refused",
      );
    }
    throw new ComposioError(
      redactKey(`${method} ${apiPath}: ${(err as Error).message}`, config.apiKey),
      null,
      "network",
    );
  } finally {
    timeout.done();
  }
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    if (res.ok) {
      throw new ComposioError(
        `${method} ${apiPath}: response is not JSON`,
        res.status,
        "invalid_response",
      );
    }
  }
  if (!res.ok) {
    const parsed = parseErrorBody(data, text);
    const upstream = redactKey(describeError(parsed), config.apiKey);
    const rateLimit = readRateLimit(res.headers);
    throw new ComposioError(`${method} ${apiPath}: ${res.status} ${upstream}`, res.status, "http", {
      retryAfterMs: rateLimit.retryAfterMs,
      body: data,
      upstream,
      requestId: parsed.requestId,
      suggestedFix: parsed.suggestedFix,
      rateLimit,
    });
  }
  // Lazy: reading a Response's headers builds a Headers object, a cost an execute call (which
  // never looks at them) would pay on every envelope.
  return {
    status: res.status,
    data: data as T,
    bodyChars: text.length,
    get headers() {
      return res.headers;
    },
    get rateLimit() {
      return readRateLimit(res.headers);
    },
  };
}

/** The text with the API key cut out, should an upstream message or URL ever echo it. */
function redactKey(text: string, apiKey: string): string {
  return apiKey.length >= 8 ? text.replaceAll(apiKey, "[redacted]") : text;
}
