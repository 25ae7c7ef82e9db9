// One tool execution through Composio: `POST /api/v3/tools/execute/{slug}` with the envelope
// id in the `x-envelope-id` header (Composio takes no idempotency key; the header lets logs
// and the sandbox tie a call to its envelope). The answer is turned into the CallResult that
// execution_policy.ts classifies: this module never decides what to do with a failure.
import { type ComposioConfig, ComposioError, composioRequest } from "./composio.ts";
import type { CallResult } from "./execution_policy.ts";

export interface ExecuteRequest {
  slug: string;
  arguments: Record<string, unknown>;
  envelopeId: string;
  /** Composio connected account to act with, when the envelope names one. */
  connectedAccountId?: string | null;
  /** Composio user id (we use the tenant id). */
  userId?: string | null;
  /** Toolkit version the arguments were validated against. */
  version?: string | null;
}

export interface ExecuteOutcome {
  call: CallResult;
  /** The response body of a 2xx answer ({data, error, successful, log_id}). */
  body: unknown;
  durationMs: number;
}

/** Executes one tool; never throws for an HTTP or network failure (it is in `call`). */
export async function executeTool(
  config: ComposioConfig,
  req: ExecuteRequest,
): Promise<ExecuteOutcome> {
  const started = performance.now();
  const body: Record<string, unknown> = { arguments: req.arguments };
  if (req.connectedAccountId) body.connected_account_id = req.connectedAccountId;
  if (req.userId) body.user_id = req.userId;
  if (req.version) body.version = req.version;
  try {
    const res = await composioRequest<Record<string, unknown> | null>(
      config,
      "POST",
      `/api/v3/tools/execute/${encodeURIComponent(req.slug)}`,
      { body, headers: { "x-envelope-id": req.envelopeId } },
    );
    const data = res.data;
    const successful = data !== null && typeof data === "object" && "successful" in data
      ? data.successful !== false
      : true;
    const error = data !== null && typeof data === "object" && typeof data.error === "string"
      ? data.error
      : null;
    return {
      call: { kind: "response", status: res.status, successful, error },
      body: data,
      durationMs: performance.now() - started,
    };
  } catch (err) {
    return { call: toCallResult(err), body: null, durationMs: performance.now() - started };
  }
}

/** Maps a transport failure to the policy's vocabulary. */
export function toCallResult(err: unknown): CallResult {
  if (!(err instanceof ComposioError)) {
    return { kind: "network_error", message: (err as Error)?.message ?? String(err) };
  }
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
        error: errorMessage(err),
      };
    // A 2xx whose body is not JSON: the call reached the tool, what it did is unknown.
    case "invalid_response":
    case "network":
    default:
      return { kind: "network_error", message: err.message };
  }
}

function errorMessage(err: ComposioError): string {
  const b = err.body as { error?: { message?: unknown } | string } | null;
  if (b && typeof b === "object") {
    if (typeof b.error === "string") return b.error;
    if (b.error && typeof b.error.message === "string") return b.error.message;
  }
  return err.message;
}
