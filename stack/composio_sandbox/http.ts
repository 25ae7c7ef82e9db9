// Responses as Composio writes them, and reading request bodies.

const STATUS_SLUGS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  422: "UnprocessableEntity",
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
};

let requestSeq = 0;

export function json(status: number, body: unknown, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/**
 * Composio's documented error body:
 * `{error: {message, code, slug, status, request_id, suggested_fix?, errors?}}`.
 */
export function apiError(
  status: number,
  message: string,
  opts: { headers?: HeadersInit; suggestedFix?: string; errors?: string[] } = {},
): Response {
  return json(status, {
    error: {
      message,
      code: status,
      slug: STATUS_SLUGS[status] ?? `Http${status}`,
      status,
      request_id: `req_sandbox_${++requestSeq}`,
      ...(opts.suggestedFix ? { suggested_fix: opts.suggestedFix } : {}),
      ...(opts.errors ? { errors: opts.errors } : {}),
    },
  }, opts.headers);
}

/** A control request the sandbox cannot read: answered 400 with the message. */
export class BadRequest extends Error {}

export async function readJson(req: Request): Promise<unknown> {
  const v = parseJson(await req.text());
  if (v === undefined) throw new BadRequest("body must be JSON");
  return v;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isLoopback(host: string): boolean {
  return host === "::1" || host.startsWith("127.") || host.startsWith("::ffff:127.");
}
