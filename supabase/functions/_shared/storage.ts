// Supabase Storage's REST API, the two calls the functions make: an upload with the service
// key (the drain's artifacts) and a signed URL asked for with the caller's own token, so
// Storage's policies decide whether the caller may have it. Plain fetch: the functions'
// import map holds no supabase-js, and these two need none of it.
import { serviceKeys } from "./auth.ts";
import { optionalEnv, requireEnv } from "./env.ts";

/**
 * Bytes as TextEncoder makes them: an ArrayBuffer-backed Uint8Array under the tooling's
 * TypeScript (whose fetch takes only those) and a plain Uint8Array under the Edge Runtime's
 * older one (which has no generic Uint8Array). Written this way, both accept it.
 */
export type Bytes = ReturnType<TextEncoder["encode"]>;

export interface StorageConfig {
  /** `${SUPABASE_URL}/storage/v1` */
  url: string;
  /** The service key uploads go with (bypasses RLS, as the service writes artifacts). */
  serviceKey: string;
  /** A project key for `apikey` with a user's token (the anon or a publishable key). */
  apiKey: string;
  timeoutMs: number;
}

export function storageConfig(): StorageConfig {
  const [serviceKey] = serviceKeys();
  if (!serviceKey) throw new Error("no service key: set SUPABASE_SERVICE_ROLE_KEY");
  let apiKey = optionalEnv("SUPABASE_ANON_KEY");
  if (!apiKey) {
    try {
      apiKey = Object.values(JSON.parse(optionalEnv("SUPABASE_PUBLISHABLE_KEYS") ?? "{}"))
        .find((v): v is string => typeof v === "string");
    } catch {
      // A malformed variable gives no key; the service key stands in below.
    }
  }
  return {
    url: `${requireEnv("SUPABASE_URL").replace(/\/+$/, "")}/storage/v1`,
    serviceKey,
    apiKey: apiKey ?? serviceKey,
    timeoutMs: 30_000,
  };
}

/** A failed Storage call: Storage's status code (its body's) and message. */
export class StorageCallError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
    this.name = "StorageCallError";
  }
}

/** An object's URL path: each name segment encoded, the slashes kept. */
export function objectPath(bucket: string, name: string): string {
  return [bucket, ...name.split("/")].map(encodeURIComponent).join("/");
}

async function call(
  cfg: StorageConfig,
  path: string,
  init: {
    method: string;
    bearer: string;
    apiKey: string;
    headers?: Record<string, string>;
    body: BodyInit;
  },
  timeoutMs: number,
): Promise<unknown> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${cfg.url}${path}`, {
      method: init.method,
      headers: { authorization: `Bearer ${init.bearer}`, apikey: init.apiKey, ...init.headers },
      body: init.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const e = err as Error;
    throw new StorageCallError(
      0,
      e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : e.message,
    );
  }
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the status says enough.
  }
  if (!res.ok) {
    // Storage answers most errors HTTP 400 with the real status in the body's statusCode.
    const b = (body ?? {}) as { statusCode?: unknown; message?: unknown };
    const status = Number(b.statusCode ?? res.status);
    throw new StorageCallError(
      Number.isFinite(status) ? status : res.status,
      typeof b.message === "string" ? b.message : `HTTP ${res.status}`,
    );
  }
  return body;
}

/** Uploads (or replaces) an object with the service key; throws StorageCallError. */
export async function uploadObject(
  cfg: StorageConfig,
  o: { bucket: string; name: string; bytes: Bytes; contentType: string },
  timeoutMs = cfg.timeoutMs,
): Promise<void> {
  await call(cfg, `/object/${objectPath(o.bucket, o.name)}`, {
    method: "POST",
    // The key in both places: hosted's gateway turns an opaque secret key in apikey into
    // the service role's JWT.
    bearer: cfg.serviceKey,
    apiKey: cfg.serviceKey,
    headers: { "content-type": o.contentType, "x-upsert": "true", "cache-control": "max-age=3600" },
    body: o.bytes,
  }, timeoutMs);
}

/**
 * A signed download URL for an object, asked for with `bearer` (the caller's own token):
 * Storage signs it only if its policies let the caller read the object.
 */
export async function signObjectUrl(
  cfg: StorageConfig,
  bearer: string,
  o: { bucket: string; name: string; expiresIn: number },
): Promise<string> {
  const body = await call(cfg, `/object/sign/${objectPath(o.bucket, o.name)}`, {
    method: "POST",
    bearer,
    apiKey: cfg.apiKey,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ expiresIn: o.expiresIn }),
  }, cfg.timeoutMs) as { signedURL?: unknown };
  if (typeof body?.signedURL !== "string") {
    throw new StorageCallError(502, "Storage answered no signedURL");
  }
  return `${cfg.url}${encodeURI(body.signedURL)}`;
}
