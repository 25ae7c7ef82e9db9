// Where audit exports go: a store outside the project's authority that takes new objects and
// never overwrites or deletes one. Two kinds, chosen by the function's secrets:
//
// * HTTPS sink (AUDIT_EXPORT_URL, AUDIT_EXPORT_TOKEN): any endpoint the operator runs that
//   speaks this protocol, every request with `Authorization: Bearer <token>`:
//     PUT <url>/<name>            body: the export → 201; 409 if <name> exists (never replaced)
//     GET <url>/<name>            → 200 the export as stored; 404
//     GET <url>/?after=<name>&limit=<n>
//                                 → 200 {"names": [...], "next": <name> | null}, names sorted,
//                                   all after <after>; `next` set when there are more
//   There is no delete. The local stack runs one (stack/audit_sink_server.ts).
// * S3-compatible bucket (AUDIT_EXPORT_S3_ENDPOINT, _REGION, _BUCKET, _ACCESS_KEY_ID,
//   _SECRET_ACCESS_KEY, optional _SESSION_TOKEN and _PREFIX): PutObject with
//   `If-None-Match: *` (412 when the key exists) and Content-MD5 (which Object Lock
//   requires), GetObject, ListObjectsV2; path-style URLs, SigV4 (../_shared/sigv4.ts). Give
//   the key PutObject, GetObject and ListBucket only, and turn on Object Lock.
import { createHash } from "node:crypto";
import { sha256Hex, signRequest, type SigV4Credentials } from "../_shared/sigv4.ts";

export type PutResult = "created" | "exists";

export interface ExportSink {
  /** For logs and answers: the kind and where, never a credential. */
  readonly describe: string;
  put(name: string, body: string, opts?: { timeoutMs?: number }): Promise<PutResult>;
  get(name: string): Promise<string | null>;
  /** Every name after `after` (all when omitted), sorted. */
  list(after?: string): Promise<string[]>;
}

export class SinkError extends Error {
  constructor(readonly sink: string, message: string) {
    super(`${sink}: ${message}`);
    this.name = "SinkError";
  }
}

const defaultTimeoutMs = 20_000;

function isLoopback(url: URL): boolean {
  return ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

function parseBase(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${what} is not a URL`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url))) {
    throw new Error(`${what} must be https:// (plain http only on loopback)`);
  }
  url.pathname = url.pathname.replace(/\/+$/, "");
  url.search = "";
  return url;
}

async function detail(res: Response): Promise<string> {
  const text = (await res.text().catch(() => "")).slice(0, 300).replace(/\s+/g, " ").trim();
  return `${res.status}${text ? ` ${text}` : ""}`;
}

/** The HTTPS sink protocol above. */
export class HttpSink implements ExportSink {
  readonly describe: string;
  readonly #base: URL;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.#base = parseBase(baseUrl, "AUDIT_EXPORT_URL");
    if (!token) throw new Error("AUDIT_EXPORT_TOKEN is not set");
    this.#token = token;
    this.describe = `https sink ${this.#base.origin}${this.#base.pathname}`;
  }

  #url(name?: string): URL {
    const u = new URL(this.#base);
    u.pathname = `${u.pathname}/${name ? encodeURIComponent(name) : ""}`;
    return u;
  }

  async #fetch(url: URL, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        headers: { ...(init.headers ?? {}), authorization: `Bearer ${this.#token}` },
        signal: AbortSignal.timeout(init.timeoutMs ?? defaultTimeoutMs),
      });
    } catch (err) {
      throw new SinkError(
        this.describe,
        `${init.method ?? "GET"} failed: ${(err as Error).message}`,
      );
    }
  }

  async put(name: string, body: string, opts: { timeoutMs?: number } = {}): Promise<PutResult> {
    const res = await this.#fetch(this.#url(name), {
      method: "PUT",
      body,
      headers: { "content-type": "application/json" },
      timeoutMs: opts.timeoutMs,
    });
    if (res.status === 201 || res.status === 200) {
      await res.body?.cancel();
      return "created";
    }
    if (res.status === 409) {
      await res.body?.cancel();
      return "exists";
    }
    throw new SinkError(this.describe, `PUT ${name}: ${await detail(res)}`);
  }

  async get(name: string): Promise<string | null> {
    const res = await this.#fetch(this.#url(name));
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) throw new SinkError(this.describe, `GET ${name}: ${await detail(res)}`);
    return await res.text();
  }

  async list(after?: string): Promise<string[]> {
    const out: string[] = [];
    let from = after;
    for (;;) {
      const u = this.#url();
      if (from) u.searchParams.set("after", from);
      u.searchParams.set("limit", "1000");
      const res = await this.#fetch(u);
      if (!res.ok) throw new SinkError(this.describe, `list: ${await detail(res)}`);
      const page = await res.json() as { names?: unknown; next?: unknown };
      if (!Array.isArray(page.names)) throw new SinkError(this.describe, "list: no names array");
      out.push(...page.names.map(String));
      if (typeof page.next !== "string" || page.next === from) return out;
      from = page.next;
    }
  }
}

export interface S3Config {
  endpoint: string;
  region: string;
  bucket: string;
  prefix?: string;
  credentials: SigV4Credentials;
}

function xmlText(xml: string, tag: string): string[] {
  const out: string[] = [];
  for (const m of xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))) {
    out.push(
      m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'").replace(/&amp;/g, "&"),
    );
  }
  return out;
}

/** An S3-compatible bucket, path-style. */
export class S3Sink implements ExportSink {
  readonly describe: string;
  readonly #base: URL;
  readonly #cfg: S3Config;
  readonly #prefix: string;

  constructor(cfg: S3Config) {
    this.#base = parseBase(cfg.endpoint, "AUDIT_EXPORT_S3_ENDPOINT");
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(cfg.bucket)) {
      throw new Error("AUDIT_EXPORT_S3_BUCKET is not a valid bucket name");
    }
    if (!cfg.region) throw new Error("AUDIT_EXPORT_S3_REGION is not set");
    if (!cfg.credentials.accessKeyId || !cfg.credentials.secretAccessKey) {
      throw new Error(
        "AUDIT_EXPORT_S3_ACCESS_KEY_ID and AUDIT_EXPORT_S3_SECRET_ACCESS_KEY are needed",
      );
    }
    this.#cfg = cfg;
    this.#prefix = cfg.prefix ?? "";
    this.describe =
      `s3 sink ${this.#base.origin}${this.#base.pathname}/${cfg.bucket}/${this.#prefix}`;
  }

  #url(key?: string): URL {
    const u = new URL(this.#base);
    const segments = key === undefined ? [] : key.split("/").map(encodeURIComponent);
    u.pathname = [u.pathname, this.#cfg.bucket, ...segments].join("/");
    return u;
  }

  async #send(
    method: string,
    url: URL,
    opts: { body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<Response> {
    const body = opts.body ?? "";
    const signed = await signRequest({
      method,
      url,
      headers: opts.headers,
      payloadHash: await sha256Hex(body),
      region: this.#cfg.region,
    }, this.#cfg.credentials);
    // fetch sets Host itself, from the URL that was signed.
    const { host: _, ...headers } = signed;
    try {
      return await fetch(url, {
        method,
        headers,
        body: method === "PUT" ? body : undefined,
        signal: AbortSignal.timeout(opts.timeoutMs ?? defaultTimeoutMs),
      });
    } catch (err) {
      throw new SinkError(this.describe, `${method} failed: ${(err as Error).message}`);
    }
  }

  async put(name: string, body: string, opts: { timeoutMs?: number } = {}): Promise<PutResult> {
    const res = await this.#send("PUT", this.#url(this.#prefix + name), {
      body,
      headers: {
        "content-type": "application/json",
        "content-md5": createHash("md5").update(body, "utf8").digest("base64"),
        // Never replace an export: S3 answers 412 when the key exists.
        "if-none-match": "*",
      },
      timeoutMs: opts.timeoutMs,
    });
    if (res.ok) {
      await res.body?.cancel();
      return "created";
    }
    // 409 ConditionalRequestConflict: a concurrent write of the same key won.
    if (res.status === 412 || res.status === 409) {
      await res.body?.cancel();
      return "exists";
    }
    throw new SinkError(this.describe, `PutObject ${name}: ${await detail(res)}`);
  }

  async get(name: string): Promise<string | null> {
    const res = await this.#send("GET", this.#url(this.#prefix + name));
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) throw new SinkError(this.describe, `GetObject ${name}: ${await detail(res)}`);
    return await res.text();
  }

  async list(after?: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    for (;;) {
      const u = this.#url();
      u.searchParams.set("list-type", "2");
      u.searchParams.set("max-keys", "1000");
      if (this.#prefix) u.searchParams.set("prefix", this.#prefix);
      if (token) u.searchParams.set("continuation-token", token);
      else if (after) u.searchParams.set("start-after", this.#prefix + after);
      const res = await this.#send("GET", u);
      if (!res.ok) throw new SinkError(this.describe, `ListObjectsV2: ${await detail(res)}`);
      const xml = await res.text();
      for (const key of xmlText(xml, "Key")) {
        if (key.startsWith(this.#prefix)) out.push(key.slice(this.#prefix.length));
      }
      const truncated = xmlText(xml, "IsTruncated")[0] === "true";
      token = xmlText(xml, "NextContinuationToken")[0];
      if (!truncated || !token) return out.sort();
    }
  }
}

/** In memory, for tests and benchmarks; `objects` is there to tamper with. */
export class MemorySink implements ExportSink {
  readonly describe = "memory sink";
  readonly objects = new Map<string, string>();

  put(name: string, body: string): Promise<PutResult> {
    if (this.objects.has(name)) return Promise.resolve("exists");
    this.objects.set(name, body);
    return Promise.resolve("created");
  }

  get(name: string): Promise<string | null> {
    return Promise.resolve(this.objects.get(name) ?? null);
  }

  list(after?: string): Promise<string[]> {
    return Promise.resolve([...this.objects.keys()].filter((n) => !after || n > after).sort());
  }
}

/**
 * The sink the function's secrets name, or null when none is configured. Both kinds set
 * is a configuration error, as is a half-configured one.
 */
export function sinkFromEnv(env: (name: string) => string | undefined): ExportSink | null {
  const url = env("AUDIT_EXPORT_URL");
  const bucket = env("AUDIT_EXPORT_S3_BUCKET");
  if (url && bucket) {
    throw new Error("set either AUDIT_EXPORT_URL or AUDIT_EXPORT_S3_BUCKET, not both");
  }
  if (url) return new HttpSink(url, env("AUDIT_EXPORT_TOKEN") ?? "");
  if (bucket) {
    const endpoint = env("AUDIT_EXPORT_S3_ENDPOINT");
    if (!endpoint) throw new Error("AUDIT_EXPORT_S3_ENDPOINT is not set");
    return new S3Sink({
      endpoint,
      region: env("AUDIT_EXPORT_S3_REGION") ?? "",
      bucket,
      prefix: env("AUDIT_EXPORT_S3_PREFIX") ?? "",
      credentials: {
        accessKeyId: env("AUDIT_EXPORT_S3_ACCESS_KEY_ID") ?? "",
        secretAccessKey: env("AUDIT_EXPORT_S3_SECRET_ACCESS_KEY") ?? "",
        sessionToken: env("AUDIT_EXPORT_S3_SESSION_TOKEN"),
      },
    });
  }
  return null;
}
