// Delivers requests queued by the stand-in pg_net extension, as pg_net's background worker
// does on hosted: after commit (woken by NOTIFY 'pg_net', which Postgres delivers only on
// commit, plus a poll as a safety net), concurrently in batches, honouring each request's
// timeout; every result lands in net._http_response under the request's id. Responses
// older than pg_net.ttl are deleted. Survives a Postgres restart: it reconnects and sends
// what is queued.
import postgres from "postgres";

export interface PgNetWorkerOptions {
  /** Direct (not pooled) connection: LISTEN needs a session. */
  url: string;
  batchSize?: number;
  pollMs?: number;
  log?: (line: string) => void;
}

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  timeout_milliseconds: number;
}

interface HttpResult {
  id: string;
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean;
  error_msg: string | null;
}

export async function send(req: QueuedRequest): Promise<HttpResult> {
  const base = { id: req.id, status_code: null, content_type: null, headers: null, content: null };
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body as BodyInit | null,
      signal: AbortSignal.timeout(req.timeout_milliseconds),
    });
    const content = await res.text();
    return {
      id: req.id,
      status_code: res.status,
      content_type: res.headers.get("content-type"),
      headers: Object.fromEntries(res.headers),
      content,
      timed_out: false,
      error_msg: null,
    };
  } catch (err) {
    const e = err as Error;
    if (e.name === "TimeoutError") {
      return {
        ...base,
        timed_out: true,
        error_msg: `Timeout of ${req.timeout_milliseconds} ms reached`,
      };
    }
    return { ...base, timed_out: false, error_msg: e.message };
  }
}

const connectionErrors = new Set(["ECONNRESET", "ECONNREFUSED", "CONNECTION_CLOSED", "EPIPE"]);
let toleratingResets = false;

/**
 * postgres.js re-issues LISTEN after a reconnect from a promise nobody awaits; when Postgres
 * is restarting that promise can reject with a connection error and, unhandled, would end
 * this process. The worker's own loop retries, so such rejections are logged, not fatal.
 */
function tolerateConnectionResets(log: (l: string) => void) {
  if (toleratingResets) return;
  toleratingResets = true;
  globalThis.addEventListener("unhandledrejection", (e) => {
    const code = (e.reason as { code?: string })?.code;
    if (code && connectionErrors.has(code)) {
      e.preventDefault();
      log(`[pg_net] connection lost (${code}); reconnecting`);
    }
  });
}

export class PgNetWorker {
  #sql: postgres.Sql;
  #opts: Required<Omit<PgNetWorkerOptions, "url">>;
  #wake: (() => void) | null = null;
  #pending = false;
  #stopped = false;
  #loop: Promise<void> | null = null;
  #lastSweep = 0;

  constructor(opts: PgNetWorkerOptions) {
    this.#opts = {
      batchSize: opts.batchSize ?? 200,
      pollMs: opts.pollMs ?? 1000,
      log: opts.log ?? ((l) => console.error(l)),
    };
    this.#sql = postgres(opts.url, {
      max: 2,
      onnotice: () => {},
      connect_timeout: 5,
      // Keep trying while Postgres restarts.
      backoff: () => 0.2,
    });
  }

  async start(): Promise<void> {
    tolerateConnectionResets(this.#opts.log);
    await this.#sql.listen("pg_net", () => this.#kick(), () => this.#kick());
    this.#loop = this.#run();
  }

  #kick() {
    this.#pending = true;
    this.#wake?.();
  }

  async #run() {
    while (!this.#stopped) {
      try {
        this.#pending = false;
        const sent = await this.#deliverBatch();
        await this.#sweepExpired();
        if (sent === this.#opts.batchSize || this.#pending) continue;
      } catch (err) {
        if (!this.#stopped) this.#opts.log(`[pg_net] ${(err as Error).message}; retrying`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.#opts.pollMs);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  /** Claims a batch (deleting it from the queue, as pg_net does) and sends it concurrently. */
  async #deliverBatch(): Promise<number> {
    const batch = await this.#sql<QueuedRequest[]>`
      delete from net.http_request_queue
      where id in (select id from net.http_request_queue order by id
                   limit ${this.#opts.batchSize} for update skip locked)
      returning id::text, method, url, headers, body, timeout_milliseconds`;
    if (batch.length === 0) return 0;
    const results = await Promise.all(batch.map(send));
    await this.#sql`
      insert into net._http_response
        (id, status_code, content_type, headers, content, timed_out, error_msg)
      select (r->>'id')::bigint, (r->>'status_code')::int, r->>'content_type', r->'headers',
             r->>'content', (r->>'timed_out')::boolean, r->>'error_msg'
      from jsonb_array_elements(${this.#sql.json(results as unknown as postgres.JSONValue)}) r`;
    return batch.length;
  }

  async #sweepExpired() {
    if (Date.now() - this.#lastSweep < this.#opts.pollMs) return;
    this.#lastSweep = Date.now();
    await this.#sql`delete from net._http_response where created < now() - net._ttl()`;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    await this.#sql.end({ timeout: 2 });
  }
}
