// Sends one webhook POST to a URL the policy allows (webhook_url.ts), to an address it has
// checked. fetch cannot do that: it resolves the name itself when it connects, so a check
// before it could be answered by one DNS reply and the connection by another (DNS
// rebinding), and Deno's fetch takes no resolver or address. So the sender resolves the
// host (A and AAAA), refuses if any address is not public, connects with Deno.connect to a
// checked address, and for https runs TLS over that connection with Deno.startTls and the
// URL's host name: SNI and certificate verification are against the name, as fetch would
// do them, while the socket goes only where the check looked. One HTTP/1.1 request with
// Connection: close; only the status line is read; redirects are never followed; one
// deadline bounds resolution, connection, TLS and the answer.
//
// Errors name the host and the address, never the URL's path or query (a receiver's token
// often lives there), and never the body.
import { addressProblem, checkWebhookUrl, type WebhookTarget } from "./webhook_url.ts";

export const webhookTimeoutMs = 10_000;
/** The answer's status line and headers must fit in this. */
const maxHeadBytes = 16 * 1024;

export type SendResult =
  | { outcome: "delivered"; httpStatus: number; address: string; ms: number }
  | {
    /** failed: final (the receiver refused, a redirect); retry: worth another attempt. */
    outcome: "failed" | "retry";
    httpStatus: number | null;
    address: string | null;
    error: string;
    ms: number;
  }
  | { outcome: "refused"; error: string; address: string | null; ms: number };

export interface SendOptions {
  /** Exact host:port entries the test allow-list permits (parseAllowHosts). */
  allowHosts: ReadonlySet<string>;
  timeoutMs?: number;
  /** Extra request headers (the delivery id). */
  headers?: Record<string, string>;
}

/** What the sender does to the network; tests replace parts of it. */
export interface SendDeps {
  resolve(name: string, type: "A" | "AAAA", signal: AbortSignal): Promise<string[]>;
  connect(hostname: string, port: number): Promise<Deno.Conn>;
  startTls(conn: Deno.Conn, hostname: string): Promise<Deno.TlsConn>;
}

export const networkDeps: SendDeps = {
  resolve: (name, type, signal) => Deno.resolveDns(name, type, { signal }),
  connect: (hostname, port) => Deno.connect({ hostname, port, transport: "tcp" }),
  startTls: (conn, hostname) => Deno.startTls(conn as Deno.TcpConn, { hostname }),
};

class Timeout extends Error {}

/** `p`, or a Timeout when the deadline passes first (whatever p does later is dropped). */
function within<T>(p: Promise<T>, signal: AbortSignal, onLate?: (v: T) => void): Promise<T> {
  if (signal.aborted) {
    p.then((v) => onLate?.(v), () => {});
    return Promise.reject(new Timeout());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new Timeout());
    signal.addEventListener("abort", abort, { once: true });
    p.then((v) => {
      signal.removeEventListener("abort", abort);
      if (signal.aborted) onLate?.(v);
      else resolve(v);
    }, (e) => {
      signal.removeEventListener("abort", abort);
      reject(e);
    });
  });
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The host's addresses, IPv4 first; a name with neither record type resolves to []. */
async function resolveHost(
  url: WebhookTarget,
  deps: SendDeps,
  signal: AbortSignal,
): Promise<string[]> {
  if (url.kind !== "name") return [url.host];
  const lookup = async (type: "A" | "AAAA") => {
    try {
      return await deps.resolve(url.host, type, signal);
    } catch (err) {
      // No record of this type is an answer, not a failure.
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
  };
  const [a, aaaa] = await within(Promise.all([lookup("A"), lookup("AAAA")]), signal);
  return [...new Set([...a, ...aaaa])];
}

/** Reads until the end of the answer's head; returns its status code. */
async function readStatus(conn: Deno.Conn): Promise<number> {
  const buf = new Uint8Array(maxHeadBytes);
  let n = 0;
  const decoder = new TextDecoder();
  for (;;) {
    const got = await conn.read(buf.subarray(n));
    if (got === null) break;
    n += got;
    const text = decoder.decode(buf.subarray(0, n));
    if (text.includes("\r\n\r\n") || n === buf.length) break;
  }
  const line = decoder.decode(buf.subarray(0, n)).split("\r\n", 1)[0];
  const m = /^HTTP\/1\.[01] ([1-5][0-9]{2})(?: |$)/.exec(line);
  if (!m) {
    throw new Error(
      n === 0 ? "closed the connection without answering" : "answered with no HTTP status line",
    );
  }
  return Number(m[1]);
}

/** POSTs `body` (JSON text) to `rawUrl` if the policy allows it; never throws. */
export async function sendWebhook(
  rawUrl: string,
  body: string,
  opts: SendOptions,
  deps: SendDeps = networkDeps,
): Promise<SendResult> {
  // A timer of our own rather than AbortSignal.timeout: cleared as soon as the attempt ends.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), opts.timeoutMs ?? webhookTimeoutMs);
  try {
    return await attempt(rawUrl, body, opts, deps, deadline.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function attempt(
  rawUrl: string,
  body: string,
  opts: SendOptions,
  deps: SendDeps,
  signal: AbortSignal,
): Promise<SendResult> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const timeoutMs = opts.timeoutMs ?? webhookTimeoutMs;
  const checked = checkWebhookUrl(rawUrl, opts.allowHosts);
  if (!checked.ok) {
    return { outcome: "refused", error: `the URL ${checked.problem}`, address: null, ms: ms() };
  }
  const url = checked.url;
  const retry = (error: string, address: string | null, httpStatus: number | null = null) =>
    ({ outcome: "retry", httpStatus, address, error, ms: ms() }) as const;
  const timedOut = (what: string, address: string | null) =>
    retry(`${what} ${url.display} timed out after ${timeoutMs} ms`, address);

  let addresses: string[];
  try {
    addresses = await resolveHost(url, deps, signal);
  } catch (err) {
    if (err instanceof Timeout) return timedOut("resolving", null);
    return retry(`resolving ${url.display} failed: ${message(err)}`, null);
  }
  if (addresses.length === 0) return retry(`${url.display} does not resolve`, null);
  if (!checked.allowListed) {
    for (const address of addresses) {
      const problem = addressProblem(address);
      if (problem) {
        return {
          outcome: "refused",
          error: `host ${url.display} resolves to ${address}, which ${problem}`,
          address,
          ms: ms(),
        };
      }
    }
  }

  // Only checked addresses, in the order resolved (IPv4 first), until one accepts.
  let conn: Deno.Conn | null = null;
  let address = addresses[0];
  let lastError = "";
  for (const candidate of addresses) {
    address = candidate;
    try {
      conn = await within(deps.connect(candidate, url.port), signal, (late) => late.close());
      break;
    } catch (err) {
      if (err instanceof Timeout) return timedOut("connecting to", candidate);
      lastError = message(err);
    }
  }
  if (!conn) return retry(`connecting to ${address}:${url.port} failed: ${lastError}`, address);

  let open: Deno.Conn = conn;
  const close = () => {
    try {
      open.close();
    } catch { /* already closed */ }
  };
  // Closing the connection is what interrupts a read or write the deadline overtakes.
  signal.addEventListener("abort", close, { once: true });
  try {
    if (url.scheme === "https") {
      try {
        const tls = await within(deps.startTls(conn, url.host), signal, (late) => late.close());
        open = tls;
        // The handshake, where the certificate is verified, before anything is written.
        await within(tls.handshake(), signal);
      } catch (err) {
        if (err instanceof Timeout) return timedOut("TLS with", address);
        return retry(`TLS with ${url.display} (${address}) failed: ${message(err)}`, address);
      }
    }
    const payload = new TextEncoder().encode(body);
    const head = [
      `POST ${url.target} HTTP/1.1`,
      `Host: ${url.hostHeader}`,
      "Content-Type: application/json",
      `Content-Length: ${payload.length}`,
      "User-Agent: agent-control-plane-webhooks",
      "Connection: close",
      ...Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ].join("\r\n");
    let status: number;
    try {
      const request = new Uint8Array([...new TextEncoder().encode(head), ...payload]);
      for (let off = 0; off < request.length;) off += await open.write(request.subarray(off));
      status = await readStatus(open);
    } catch (err) {
      if (signal.aborted) return timedOut("the request to", address);
      return retry(`${url.display} (${address}): ${message(err)}`, address);
    }
    if (status >= 200 && status < 300) {
      return { outcome: "delivered", httpStatus: status, address, ms: ms() };
    }
    const answered = `${url.display} answered ${status}`;
    if (status >= 300 && status < 400) {
      return {
        outcome: "failed",
        httpStatus: status,
        address,
        error: `${answered}: redirects are not followed`,
        ms: ms(),
      };
    }
    if (status === 408 || status === 429 || status >= 500) return retry(answered, address, status);
    return { outcome: "failed", httpStatus: status, address, error: answered, ms: ms() };
  } finally {
    signal.removeEventListener("abort", close);
    close();
  }
}
