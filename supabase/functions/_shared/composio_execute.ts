// One tool execution through Composio: `POST /api/v3.1/tools/execute/{slug}` with the
// envelope id in the `x-envelope-id` header (Composio takes no idempotency key; the header
// lets logs and the sandbox tie a call to its envelope), always at the version the catalog
// pinned: v3.1 runs an unversioned call at the toolkit's latest version, which the arguments
// were never validated against. The answer is turned into the CallResult that
// execution_policy.ts classifies: this module never decides what to do with a failure.
import {
  callResultOf,
  type ComposioConfig,
  ComposioError,
  composioRequest,
  type RateLimit,
} from "./composio.ts";
import type { CallResult } from "./execution_policy.ts";

export interface ExecuteRequest {
  slug: string;
  arguments: Record<string, unknown>;
  envelopeId: string;
  /** Composio connected account to act with, when the envelope names one. */
  connectedAccountId?: string | null;
  /** Composio user id (we use the tenant id). */
  userId?: string | null;
  /** Toolkit version the arguments were validated against (isPinnedVersion). */
  version: string | null;
}

export interface ExecuteOutcome {
  call: CallResult;
  /** The response body of a 2xx answer ({data, error, successful, log_id}). */
  body: unknown;
  /**
   * Length of that body's text. The drain keeps large outputs as artifacts and measures only
   * those this says may be large; unknown (absent) means measure.
   */
  bodyChars?: number;
  durationMs: number;
  /** Composio's rate-limit headers of the answer; null when there was no answer. */
  readonly rateLimit: RateLimit | null;
}

/** A concrete toolkit version ("20250909_00"): not empty, not "latest". */
export function isPinnedVersion(version: string | null | undefined): version is string {
  return typeof version === "string" && version.trim() !== "" &&
    version.trim().toLowerCase() !== "latest";
}

/**
 * Our own code failed during an execution (not Composio, not the network): a bug. `sent`
 * says whether the request had left by then, so whether the tool may have run.
 */
export class ExecutorError extends Error {
  constructor(slug: string, cause: unknown, readonly sent: boolean) {
    super(
      `executing ${slug} failed in our own code${sent ? " after the request left" : ""}: ${
        (cause as Error)?.message ?? String(cause)
      }`,
      { cause },
    );
    this.name = "ExecutorError";
  }
}

/** executeTool was asked to run a tool at no particular version; nothing was sent. */
export class UnpinnedVersionError extends TypeError {
  constructor(slug: string, version: unknown) {
    super(`refusing to execute ${slug} without a pinned version (got ${JSON.stringify(version)})`);
    this.name = "UnpinnedVersionError";
  }
}

/**
 * Executes one tool; never throws for an HTTP or network failure (it is in `call`). Rejects
 * with UnpinnedVersionError, before sending anything, when `version` is not pinned (callers
 * check isPinnedVersion first), and with ExecutorError when our own code fails.
 */
export async function executeTool(
  config: ComposioConfig,
  req: ExecuteRequest,
): Promise<ExecuteOutcome> {
  if (!isPinnedVersion(req.version)) throw new UnpinnedVersionError(req.slug, req.version);
  const started = performance.now();
  const body: Record<string, unknown> = { arguments: req.arguments, version: req.version };
  if (req.connectedAccountId) body.connected_account_id = req.connectedAccountId;
  if (req.userId) body.user_id = req.userId;
  let sent = false;
  try {
    const res = await composioRequest<Record<string, unknown> | null>(
      config,
      "POST",
      `/tools/execute/${encodeURIComponent(req.slug)}`,
      { body, headers: { "x-envelope-id": req.envelopeId }, onSend: () => sent = true },
    );
    const data = res.data;
    const successful = data !== null && typeof data === "object" && "successful" in data
      ? data.successful !== false
      : true;
    const error = data !== null && typeof data === "object" && typeof data.error === "string"
      ? redactArguments(data.error, req.arguments)
      : null;
    return {
      call: { kind: "response", status: res.status, successful, error },
      body: data,
      bodyChars: res.bodyChars,
      durationMs: performance.now() - started,
      // Lazy, as the response's own: most callers never read the headers.
      get rateLimit() {
        return res.rateLimit;
      },
    };
  } catch (err) {
    // Only the transport's failures are outcomes of the call; anything else is our own bug,
    // which must fail loudly rather than pass for a network error.
    if (!(err instanceof ComposioError)) throw new ExecutorError(req.slug, err, sent);
    return {
      call: callResultOf(err, (text) => redactArguments(text, req.arguments)),
      body: null,
      durationMs: performance.now() - started,
      rateLimit: err.rateLimit,
    };
  }
}

// Argument values shorter than this are too common ("open", "main") to be worth hiding.
const MIN_REDACTED = 8;

/**
 * Composio's text with every string argument value it repeats cut out: error texts land in
 * the outbox, its audit rows and logs, which hold no tool arguments. Runs on failures only.
 */
export function redactArguments(text: string, args: Record<string, unknown>): string {
  let out = text;
  const visit = (v: unknown): void => {
    if (typeof v === "string") {
      if (v.length >= MIN_REDACTED && out.includes(v)) out = out.replaceAll(v, "[argument]");
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(args);
  return out;
}
