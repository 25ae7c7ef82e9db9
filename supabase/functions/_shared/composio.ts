// Transport to Composio's v3 REST API: base URL and key from the environment, a timeout on
// every call, 429 Retry-After and X-RateLimit-* read, and failures classified as retryable
// or not. Catalog calls (composio_tools.ts) and executions (composio_execute.ts) build on it.
import { optionalEnv, requireEnv } from "./env.ts";
import { parseRetryAfter } from "./backoff.ts";

export interface ComposioConfig {
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

export interface RateLimit {
  limit: number | null;
  remaining: number | null;
  /** Seconds until the window resets, when Composio says. */
  resetSeconds: number | null;
}

/** A failed call. `retryable` means trying again later cannot do harm for a read. */
export class ComposioError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly kind: "http" | "timeout" | "connection_refused" | "network" | "invalid_response",
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = "ComposioError";
  }
}

export interface ComposioResponse<T> {
  status: number;
  data: T;
  headers: Headers;
  rateLimit: RateLimit;
}

function num(h: string | null): number | null {
  const n = h === null ? NaN : Number(h);
  return Number.isFinite(n) ? n : null;
}

export function readRateLimit(headers: Headers): RateLimit {
  return {
    limit: num(headers.get("x-ratelimit-limit")),
    remaining: num(headers.get("x-ratelimit-remaining")),
    resetSeconds: num(headers.get("x-ratelimit-reset")),
  };
}

/** 408, 429 and 5xx are worth retrying (for reads); other 4xx are not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
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
 * One HTTP call to Composio. Resolves with any 2xx; throws ComposioError for everything
 * else, carrying the status, whether a retry is safe for a read, and Retry-After.
 */
export async function composioRequest<T = unknown>(
  config: ComposioConfig,
  method: "GET" | "POST",
  path: string,
  opts: {
    query?: Record<string, string | undefined>;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<ComposioResponse<T>> {
  let url = `${config.baseUrl}${path}`;
  if (opts.query) {
    const u = new URL(url);
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined) u.searchParams.set(k, v);
    }
    url = u.href;
  }
  const timeout = timeoutSignal(config.timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method,
      headers: {
        "x-api-key": config.apiKey,
        accept: "application/json",
        ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
        ...opts.headers,
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: timeout.signal,
    });
    // The timeout covers the body too: a server that stalls mid-body is no answer either.
    text = await res.text();
  } catch (err) {
    if ((err as Error).name === "TimeoutError") {
      throw new ComposioError(
        `${method} ${path}: no answer within ${config.timeoutMs} ms`,
        null,
        "timeout",
        true,
      );
    }
    if (isConnectionRefused(err)) {
      throw new ComposioError(
        `${method} ${path}: connection refused`,
        null,
        "connection_refused",
        true,
      );
    }
    throw new ComposioError(`${method} ${path}: ${(err as Error).message}`, null, "network", true);
  } finally {
    timeout.done();
  }
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    if (res.ok) {
      throw new ComposioError(
        `${method} ${path}: response is not JSON`,
        res.status,
        "invalid_response",
        true,
      );
    }
  }
  if (!res.ok) {
    const message = (data as { error?: { message?: string } })?.error?.message ??
      text.slice(0, 200);
    throw new ComposioError(
      `${method} ${path}: ${res.status} ${message}`,
      res.status,
      "http",
      isRetryableStatus(res.status),
      parseRetryAfter(res.headers.get("retry-after"), new Date()),
      data,
    );
  }
  // Lazy: reading a Response's headers builds a Headers object, a cost an execute call (which
  // never looks at them) would pay on every envelope.
  return {
    status: res.status,
    data: data as T,
    get headers() {
      return res.headers;
    },
    get rateLimit() {
      return readRateLimit(res.headers);
    },
  };
}
