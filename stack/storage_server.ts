// A stand-in for Supabase Storage at /storage/v1: the object routes @supabase/storage-js 2.x
// calls (upload POST/PUT, download, info, list and list-v2, remove, sign one and many, the
// signed download, signed upload URLs and the upload to one), in hosted's wire shapes and
// error bodies ({statusCode, error, code, message}, HTTP 400 for most of them, as hosted).
// Each request's SQL runs as its caller (storage_store.ts), so the project's policies on
// storage.objects decide and service_role bypasses them; bytes live in files under the stack
// folder. Signed URLs are JWTs signed with the project's JWT secret carrying `url`
// (bucket/name), `scope` and `exp`, verified on use. Not served: see docs/local-stack.md
// "Storage stand-in".
import { jwtVerify, SignJWT } from "jose";
import { createJwtVerifier, type JwtVerifier } from "../supabase/functions/_shared/jwt_verify.ts";
import {
  type Bucket,
  type Caller,
  objectMetadata,
  type ObjectRow,
  StorageStore,
} from "./storage_store.ts";
import type { JWK } from "jose";

export interface StorageServerOptions {
  /** supabase_storage_admin on the project database, as hosted's Storage connects. */
  dbUrl: string;
  /** Where the bytes go (the stack folder's storage/). */
  root: string;
  /** The legacy JWT secret: verifies HS256 tokens (the anon and service keys), signs URLs. */
  jwtSecret: string;
  /** The public keys user tokens are signed with. */
  jwks: { keys: JWK[] };
  /** Opaque keys the API gateway turns into a role (sb_secret_… → service_role, …). */
  secretKeys: string[];
  publishableKeys: string[];
  /** Hosted's global upload limit (50 MB on the free plan); a bucket's own may be lower. */
  maxFileSize?: number;
  log?: (line: string) => void;
}

export interface StorageServer {
  /** Answers a request for /storage/v1/… */
  handle(req: Request): Promise<Response>;
  /** Where the bytes are. */
  root: string;
  stop(): Promise<void>;
}

/** A Storage error: `statusCode` is the body's (hosted answers HTTP 400 for all but 500s). */
export class StorageError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly error: string,
    message: string,
    readonly httpStatus = statusCode >= 500 ? 500 : 400,
  ) {
    super(message);
  }
}

const errors = {
  noSuchBucket: () => new StorageError(404, "NoSuchBucket", "Bucket not found", "Bucket not found"),
  noSuchKey: () => new StorageError(404, "NoSuchKey", "not_found", "Object not found"),
  invalidKey: (key: string) =>
    new StorageError(400, "InvalidKey", "InvalidKey", `Invalid key: ${key}`),
  invalidBucketName: (name: string) =>
    new StorageError(400, "InvalidBucketName", "Invalid Input", `Bucket name invalid: ${name}`),
  invalidRequest: (message: string) =>
    new StorageError(400, "InvalidRequest", "Bad Request", message),
  accessDenied: (message: string, httpStatus?: number) =>
    new StorageError(403, "AccessDenied", "Unauthorized", message, httpStatus),
  duplicate: () =>
    new StorageError(409, "ResourceAlreadyExists", "Duplicate", "The resource already exists"),
  tooLarge: (limit: number) =>
    new StorageError(
      413,
      "EntityTooLarge",
      "Payload too large",
      `The object exceeded the maximum allowed size (${limit} bytes)`,
    ),
  invalidMime: (mime: string) =>
    new StorageError(
      415,
      "InvalidMimeType",
      "invalid_mime_type",
      `mime type ${mime} is not supported`,
    ),
  invalidJwt: (message: string) => new StorageError(400, "InvalidJWT", "InvalidJWT", message),
  invalidSignature: (message: string) =>
    new StorageError(400, "InvalidSignature", "InvalidSignature", message),
};

function render(err: StorageError): Response {
  return Response.json({
    statusCode: String(err.statusCode),
    code: err.code,
    error: err.error,
    message: err.message,
  }, { status: err.httpStatus });
}

/** Hosted's rule for object names (S3-safe characters), plus: no empty, `.` or `..` segment. */
const validKey = /^[A-Za-z0-9_/!.*'() &$=@;:+,?-]+$/;
const validBucket = /^[A-Za-z0-9_!.*'() &$=@;:+,?-]+$/;
const maxKeyBytes = 1024;

export function checkKey(name: string): string {
  const segments = name.split("/");
  if (
    !validKey.test(name) || new TextEncoder().encode(name).byteLength > maxKeyBytes ||
    segments.some((s) => s === "" || s === "." || s === "..")
  ) {
    throw errors.invalidKey(name);
  }
  return name;
}

function checkBucketName(name: string): string {
  if (!validBucket.test(name) || name.length > 100) throw errors.invalidBucketName(name);
  return name;
}

const jsonBodyLimit = 1024 * 1024;
const signedUploadSeconds = 2 * 60 * 60;
const maxSignSeconds = 10 * 365 * 24 * 3600;

/** The body, or a StorageError past `limit` bytes (read no further than that). */
async function readLimited(req: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await req.body?.cancel().catch(() => {});
    throw errors.tooLarge(limit);
  }
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw errors.tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) out.set(c, at), at += c.byteLength;
  return out;
}

async function jsonBody(req: Request): Promise<Record<string, unknown>> {
  const bytes = await readLimited(req, jsonBodyLimit).catch(() => {
    throw errors.invalidRequest(`the body exceeds ${jsonBodyLimit} bytes`);
  });
  let body: unknown = {};
  if (bytes.byteLength > 0) {
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch (err) {
      throw errors.invalidRequest(`body is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw errors.invalidRequest("body must be object");
  }
  return body as Record<string, unknown>;
}

function positiveInt(body: Record<string, unknown>, field: string, max: number): number {
  const v = body[field];
  if (v === undefined) throw errors.invalidRequest(`body must have required property '${field}'`);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
    throw errors.invalidRequest(`body/${field} must be an integer from 1 to ${max}`);
  }
  return v;
}

/** Whether `mime` is allowed by a bucket's list (`image/*` wildcards as hosted). */
function mimeAllowed(mime: string, allowed: string[] | null): boolean {
  if (!allowed || allowed.length === 0) return true;
  const [type, sub] = mime.split(";")[0].trim().toLowerCase().split("/");
  if (!type || !sub) return false;
  return allowed.some((a) => {
    const [t, s] = a.toLowerCase().split("/");
    return t === type && (s === "*" || s === sub);
  });
}

/** `max-age=3600` from a cache-control header or the form field `3600`. */
function cacheControlOf(v: string | null): string {
  if (!v) return "no-cache";
  return /^\d+$/.test(v.trim()) ? `max-age=${v.trim()}` : v;
}

function decodeMetadata(text: string | null, base64: boolean): Record<string, unknown> | null {
  if (!text) return null;
  try {
    const json = base64
      ? new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)))
      : text;
    const v = JSON.parse(json);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (err) {
    throw errors.invalidRequest(`metadata is not a JSON object: ${(err as Error).message}`);
  }
}

interface Part {
  name: string;
  filename: string | null;
  contentType: string | null;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * The parts of a multipart/form-data body. Written here because storage-js names the file
 * part "" (`form.append('', file)`), which Deno's FormData parser drops and hosted's
 * parser (busboy) keeps.
 */
export function parseMultipart(raw: Uint8Array<ArrayBuffer>, contentType: string): Part[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) throw errors.invalidRequest("multipart body without a boundary");
  const enc = new TextEncoder();
  const delimiter = enc.encode(`--${boundary[1] ?? boundary[2].trim()}`);
  const find = (from: number, what: Uint8Array) => {
    outer: for (let i = from; i <= raw.length - what.length; i++) {
      for (let j = 0; j < what.length; j++) if (raw[i + j] !== what[j]) continue outer;
      return i;
    }
    return -1;
  };
  const crlf2 = enc.encode("\r\n\r\n");
  const parts: Part[] = [];
  let at = find(0, delimiter);
  if (at < 0) throw errors.invalidRequest("multipart body without its boundary");
  for (;;) {
    const start = at + delimiter.length;
    // "--" after a delimiter ends the body.
    if (raw[start] === 0x2d && raw[start + 1] === 0x2d) break;
    const headersEnd = find(start, crlf2);
    const next = find(start, delimiter);
    if (headersEnd < 0 || next < 0 || headersEnd > next) {
      throw errors.invalidRequest("the multipart body is cut short");
    }
    const headers = new TextDecoder().decode(raw.subarray(start, headersEnd));
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? "";
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1] ?? null;
    const ct = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim() ?? null;
    // The part's body ends before the CRLF that precedes the next delimiter.
    parts.push({ name, filename, contentType: ct, body: raw.slice(headersEnd + 4, next - 2) });
    at = next;
  }
  return parts;
}

/** The Postgres errors of scoped statements as hosted's Storage renders them. */
function fromPg(err: unknown): StorageError | null {
  const e = err as { code?: string; message?: string };
  if (e?.code === "42501") {
    return errors.accessDenied(
      e.message?.includes("row-level security")
        ? "new row violates row-level security policy"
        : e.message ?? "Access denied",
    );
  }
  if (e?.code === "23505") return errors.duplicate();
  return null;
}

interface Upload {
  bytes: Uint8Array<ArrayBuffer>;
  mimetype: string;
  cacheControl: string;
  userMetadata: Record<string, unknown> | null;
}

type Route = {
  method: string;
  /** Matched against the path below /storage/v1/object. */
  pattern: RegExp;
  handler: (req: Request, url: URL, m: RegExpExecArray) => Promise<Response>;
};

/** The stack's Postgres URL as supabase_storage_admin (same password as the others). */
export function storageDbUrl(postgresUrl: string): string {
  const u = new URL(postgresUrl);
  u.username = "supabase_storage_admin";
  return u.toString();
}

export async function startStorageServer(opts: StorageServerOptions): Promise<StorageServer> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const store = new StorageStore(opts.dbUrl, opts.root);
  await Deno.mkdir(store.root, { recursive: true });
  const maxFileSize = opts.maxFileSize ?? 50 * 1024 * 1024;
  const secret = new TextEncoder().encode(opts.jwtSecret);
  const verify: JwtVerifier = createJwtVerifier({ jwks: opts.jwks, secret: opts.jwtSecret });

  /** The caller, from the bearer JWT (or the opaque key the gateway would turn into one). */
  async function caller(req: Request): Promise<Caller> {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "");
    const token = m?.[1] ?? req.headers.get("apikey") ?? "";
    if (opts.secretKeys.includes(token)) {
      return { role: "service_role", claims: { role: "service_role" }, jwt: "" };
    }
    if (opts.publishableKeys.includes(token)) {
      return { role: "anon", claims: { role: "anon" }, jwt: "" };
    }
    if (!token) throw errors.accessDenied("invalid JWT: no token (Authorization: Bearer …)");
    let claims: Record<string, unknown>;
    try {
      claims = await verify(token, { requiredClaims: ["exp"] });
    } catch (err) {
      throw errors.accessDenied(`invalid JWT: ${(err as Error).message}`);
    }
    const role = claims.role;
    if (role !== "anon" && role !== "authenticated" && role !== "service_role") {
      throw errors.accessDenied("Access denied: Invalid role", 403);
    }
    return { role, claims, jwt: token };
  }

  async function bucketOf(id: string): Promise<Bucket> {
    const b = await store.bucket(checkBucketName(id));
    if (!b) throw errors.noSuchBucket();
    return b;
  }

  /** The bytes and their metadata of an upload (raw body or multipart form), within limits. */
  async function readUpload(req: Request, bucket: Bucket): Promise<Upload> {
    const limit = Math.min(maxFileSize, bucket.file_size_limit ?? Infinity);
    const type = req.headers.get("content-type") ?? "";
    let up: Upload;
    if (/^multipart\/form-data/i.test(type)) {
      // Room for the form's own framing; the file itself is checked below.
      const parts = parseMultipart(await readLimited(req, limit + 64 * 1024), type);
      const file = parts.find((p) => p.filename !== null);
      if (!file) throw errors.invalidRequest("the form holds no file");
      if (file.body.byteLength > limit) throw errors.tooLarge(limit);
      const field = (k: string) => {
        const p = parts.find((p) => p.filename === null && p.name === k);
        return p ? new TextDecoder().decode(p.body) : null;
      };
      up = {
        bytes: file.body,
        mimetype: file.contentType || "text/plain;charset=UTF-8",
        cacheControl: cacheControlOf(field("cacheControl")),
        userMetadata: decodeMetadata(field("metadata"), false),
      };
    } else {
      up = {
        bytes: await readLimited(req, limit),
        mimetype: type || "text/plain;charset=UTF-8",
        cacheControl: cacheControlOf(req.headers.get("cache-control")),
        userMetadata: decodeMetadata(req.headers.get("x-metadata"), true),
      };
    }
    if (!mimeAllowed(up.mimetype, bucket.allowed_mime_types)) throw errors.invalidMime(up.mimetype);
    return up;
  }

  /**
   * An upload as hosted runs it: the caller's right to the row checked first (unless a
   * signed upload token already grants it), the bytes written as a new version, the row
   * recorded under a lock on the name, the replaced version's bytes removed. A failure
   * leaves no row and no bytes of this upload.
   */
  async function storeObject(
    req: Request,
    who: Caller | null,
    o: { bucket: string; name: string; upsert: boolean; owner: string | null; operation: string },
  ): Promise<ObjectRow> {
    const bucket = await bucketOf(o.bucket);
    const name = checkKey(o.name);
    const up = await readUpload(req, bucket);
    if (who) await store.testUpload(who, o.operation, { ...o, name });
    const version = crypto.randomUUID();
    await store.writeFile(bucket.id, name, version, up.bytes);
    try {
      const { row, replaced } = await store.completeUpload(o.operation, {
        bucket: bucket.id,
        name,
        owner: o.owner,
        version,
        metadata: objectMetadata(up.bytes, up.mimetype, up.cacheControl),
        userMetadata: up.userMetadata,
        upsert: o.upsert,
      });
      if (replaced && replaced !== version) await store.removeFile(bucket.id, name, replaced);
      return row;
    } catch (err) {
      await store.removeFile(bucket.id, name, version);
      throw err;
    }
  }

  async function serveBytes(
    req: Request,
    url: URL,
    row: ObjectRow,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const file = row.version ? await store.openFile(row.bucket_id, row.name, row.version) : null;
    if (!file) throw errors.noSuchKey();
    const md = row.metadata;
    const headers = new Headers({
      "content-type": md?.mimetype ?? "application/octet-stream",
      "content-length": String(md?.size ?? (await file.stat()).size),
      "cache-control": md?.cacheControl ?? "no-cache",
      "last-modified": new Date(row.updated_at).toUTCString(),
      ...extra,
    });
    if (md?.eTag) headers.set("etag", md.eTag);
    const download = url.searchParams.get("download");
    if (download !== null) {
      const fileName = download || row.name.split("/").pop()!;
      headers.set("content-disposition", `attachment; filename=${encodeURIComponent(fileName)};`);
    }
    if (req.method === "HEAD") {
      file.close();
      return new Response(null, { headers });
    }
    return new Response(file.readable, { headers });
  }

  function ownerOf(who: Caller): string | null {
    return typeof who.claims.sub === "string" ? who.claims.sub : null;
  }

  async function signToken(claims: Record<string, unknown>, seconds: number): Promise<string> {
    return await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
      .sign(secret);
  }

  /** A signed URL's token, checked for its scope and for naming this very object. */
  async function verifySigned(url: URL, bucket: string, name: string, scope: string) {
    const token = url.searchParams.get("token");
    if (!token) throw errors.invalidRequest("querystring must have required property 'token'");
    let payload: Record<string, unknown>;
    try {
      payload = (await jwtVerify(token, secret, { algorithms: ["HS256"] })).payload;
    } catch (err) {
      throw errors.invalidJwt((err as Error).message);
    }
    if (payload.scope !== scope) throw errors.invalidSignature(`Token is not scoped for ${scope}`);
    if (payload.url !== `${bucket}/${name}`) {
      throw errors.invalidSignature("The url do not match the signature");
    }
    return payload;
  }

  const objectPath = String.raw`([^/]+)/(.+)`;
  const routes: Route[] = [
    {
      method: "POST",
      pattern: /^\/list\/([^/]+)$/,
      handler: async (req, _url, m) => {
        const who = await caller(req);
        const bucket = (await bucketOf(decode(m[1]))).id;
        const b = await jsonBody(req);
        if (typeof b.prefix !== "string") {
          throw errors.invalidRequest("body must have required property 'prefix'");
        }
        const limit = b.limit === undefined ? 100 : positiveInt(b, "limit", 10_000);
        const offset = b.offset === undefined ? 0 : Number(b.offset);
        if (!Number.isInteger(offset) || offset < 0) {
          throw errors.invalidRequest("body/offset must be an integer >= 0");
        }
        const sort = (b.sortBy ?? {}) as { column?: unknown; order?: unknown };
        if (
          !["name", "updated_at", "created_at", "last_accessed_at"].includes(
            String(sort.column ?? "name"),
          )
        ) {
          throw errors.invalidRequest(
            "body/sortBy/column must be name, updated_at, created_at or last_accessed_at",
          );
        }
        if (!["asc", "desc"].includes(String(sort.order ?? "asc"))) {
          throw errors.invalidRequest("body/sortBy/order must be asc or desc");
        }
        const search = typeof b.search === "string" ? b.search : "";
        let prefix = b.prefix;
        if (prefix.length > 0 && !prefix.endsWith("/")) prefix += "/";
        const rows = await store.asCaller(who, "storage.object.list", (tx) =>
          tx`
            select * from storage.search(${prefix}::text, ${bucket}::text, ${limit}::int,
                                         ${(prefix + search).split("/").length}::int,
                                         ${offset}::int, ${search}::text,
                                         ${String(sort.column ?? "name")}::text,
                                         ${String(sort.order ?? "asc")}::text)`);
        return Response.json(rows);
      },
    },
    {
      method: "POST",
      pattern: /^\/list-v2\/([^/]+)$/,
      handler: async (req, _url, m) => {
        const who = await caller(req);
        const bucket = (await bucketOf(decode(m[1]))).id;
        const b = await jsonBody(req);
        const limit = Math.min(
          b.limit === undefined ? 1000 : positiveInt(b, "limit", 10_000),
          1000,
        );
        const prefix = typeof b.prefix === "string" ? b.prefix : "";
        let after = "";
        if (typeof b.cursor === "string" && b.cursor) {
          try {
            after = new TextDecoder().decode(
              Uint8Array.from(atob(b.cursor), (c) => c.charCodeAt(0)),
            );
          } catch {
            throw errors.invalidRequest("body/cursor is not a cursor this server gave");
          }
        }
        const delimited = b.with_delimiter === true;
        // Objects under the prefix, in name order; with the delimiter, everything below the
        // next "/" is one folder entry.
        const rows = await store.asCaller(who, "storage.object.list_v2", (tx) =>
          tx`
            with m as (
              select o.*, substr(o.name, length(${prefix}::text) + 1) as rest
                from storage.objects o
               where o.bucket_id = ${bucket}::text and starts_with(o.name, ${prefix}::text)
            ),
            e as (
              select case when ${delimited}::boolean and strpos(m.rest, '/') > 0
                          then ${prefix}::text || split_part(m.rest, '/', 1) || '/'
                          else m.name end as key,
                     m.*, ${delimited}::boolean and strpos(m.rest, '/') > 0 as folder
                from m
            )
            select distinct on (e.key collate "C") e.key, e.folder, e.id, e.name, e.version,
                   e.updated_at, e.created_at, e.last_accessed_at, e.metadata
              from e
             where e.key collate "C" > ${after}::text
             order by e.key collate "C"
             limit ${limit + 1}`);
        const page = rows.slice(0, limit);
        const hasNext = rows.length > limit;
        const last = page.at(-1)?.key as string | undefined;
        return Response.json({
          hasNext,
          ...(hasNext && last
            ? {
              nextCursor: btoa(String.fromCharCode(...new TextEncoder().encode(last))),
              nextCursorKey: last,
            }
            : {}),
          folders: page.filter((r) => r.folder).map((r) => ({ name: r.key, key: r.key })),
          objects: page.filter((r) => !r.folder).map((r) => ({
            id: r.id,
            name: r.name,
            key: r.name,
            version: r.version,
            updated_at: r.updated_at,
            created_at: r.created_at,
            last_accessed_at: r.last_accessed_at,
            metadata: r.metadata,
          })),
        });
      },
    },
    {
      method: "POST",
      pattern: /^\/sign\/([^/]+)$/,
      handler: async (req, _url, m) => {
        const who = await caller(req);
        const bucket = (await bucketOf(decode(m[1]))).id;
        const b = await jsonBody(req);
        const expiresIn = positiveInt(b, "expiresIn", maxSignSeconds);
        if (!Array.isArray(b.paths) || b.paths.some((p) => typeof p !== "string")) {
          throw errors.invalidRequest("body/paths must be an array of strings");
        }
        const paths = b.paths as string[];
        const visible = await store.asCaller(
          who,
          "storage.object.sign_many",
          (tx) => store.visibleNames(tx, bucket, paths),
        );
        return Response.json(
          await Promise.all(paths.map(async (path) =>
            visible.has(path)
              ? {
                error: null,
                path,
                signedURL: `/object/sign/${bucket}/${path}?token=${await signToken({
                  url: `${bucket}/${path}`,
                  scope: "download",
                }, expiresIn)}`,
              }
              : {
                error: "Either the object does not exist or you do not have access to it",
                path,
                signedURL: null,
              }
          )),
        );
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/sign/${objectPath}$`),
      handler: async (req, _url, m) => {
        const who = await caller(req);
        const bucket = (await bucketOf(decode(m[1]))).id;
        const name = checkKey(decode(m[2]));
        const expiresIn = positiveInt(await jsonBody(req), "expiresIn", maxSignSeconds);
        const row = await store.asCaller(
          who,
          "storage.object.sign",
          (tx) => store.findObject(tx, bucket, name),
        );
        if (!row) throw errors.noSuchKey();
        const token = await signToken({ url: `${bucket}/${name}`, scope: "download" }, expiresIn);
        return Response.json({ signedURL: `/object/sign/${bucket}/${name}?token=${token}` });
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/sign/${objectPath}$`),
      handler: async (req, url, m) => {
        const bucket = decode(m[1]);
        const name = checkKey(decode(m[2]));
        const payload = await verifySigned(url, bucket, name, "download");
        const row = await store.asAdmin(
          "storage.object.get_signed",
          (tx) => store.findObject(tx, bucket, name),
        );
        if (!row) throw errors.noSuchKey();
        return serveBytes(req, url, row, {
          expires: new Date(Number(payload.exp) * 1000).toUTCString(),
        });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^/upload/sign/${objectPath}$`),
      handler: async (req, _url, m) => {
        const who = await caller(req);
        const bucket = (await bucketOf(decode(m[1]))).id;
        const name = checkKey(decode(m[2]));
        const upsert = req.headers.get("x-upsert") === "true";
        await store.testUpload(who, "storage.object.sign_upload_url", {
          bucket,
          name,
          owner: ownerOf(who),
          upsert,
        });
        const token = await signToken(
          { owner: ownerOf(who) ?? undefined, url: `${bucket}/${name}`, upsert, scope: "upload" },
          signedUploadSeconds,
        );
        return Response.json({
          url: `/object/upload/sign/${bucket}/${name}?token=${token}`,
          token,
        });
      },
    },
    {
      method: "PUT",
      pattern: new RegExp(`^/upload/sign/${objectPath}$`),
      handler: async (req, url, m) => {
        const bucket = decode(m[1]);
        const name = checkKey(decode(m[2]));
        const payload = await verifySigned(url, bucket, name, "upload");
        const row = await storeObject(req, null, {
          bucket,
          name,
          upsert: payload.upsert === true,
          owner: typeof payload.owner === "string" ? payload.owner : null,
          operation: "storage.object.upload_signed",
        });
        return Response.json({ Key: `${row.bucket_id}/${row.name}`, Id: row.id });
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^/info/(?:authenticated/)?${objectPath}$`),
      handler: async (req, _url, m) => {
        const who = await caller(req);
        const bucket = (await bucketOf(decode(m[1]))).id;
        const name = checkKey(decode(m[2]));
        const row = await store.asCaller(
          who,
          "storage.object.info_authenticated",
          (tx) => store.findObject(tx, bucket, name),
        );
        if (!row) throw errors.noSuchKey();
        return Response.json({
          id: row.id,
          name: row.name,
          version: row.version,
          bucket_id: row.bucket_id,
          size: row.metadata?.size ?? null,
          content_type: row.metadata?.mimetype ?? null,
          cache_control: row.metadata?.cacheControl ?? null,
          etag: row.metadata?.eTag ?? null,
          metadata: row.user_metadata,
          last_modified: row.updated_at,
          created_at: row.created_at,
        });
      },
    },
    ...["GET", "HEAD"].map((method): Route => ({
      method,
      pattern: new RegExp(`^/(?:authenticated/)?${objectPath}$`),
      handler: async (req, url, m) => {
        const who = await caller(req);
        const bucket = (await bucketOf(decode(m[1]))).id;
        const name = checkKey(decode(m[2]));
        const row = await store.asCaller(
          who,
          "storage.object.get_authenticated",
          (tx) => store.findObject(tx, bucket, name),
        );
        if (!row) throw errors.noSuchKey();
        return serveBytes(req, url, row);
      },
    })),
    ...["POST", "PUT"].map((method): Route => ({
      method,
      pattern: new RegExp(`^/${objectPath}$`),
      handler: async (req, _url, m) => {
        const who = await caller(req);
        const row = await storeObject(req, who, {
          bucket: decode(m[1]),
          name: decode(m[2]),
          // PUT is update: it replaces, as hosted's upsert.
          upsert: method === "PUT" || req.headers.get("x-upsert") === "true",
          owner: ownerOf(who),
          operation: method === "PUT" ? "storage.object.upload_update" : "storage.object.upload",
        });
        return Response.json({ Id: row.id, Key: `${row.bucket_id}/${row.name}` });
      },
    })),
    {
      method: "DELETE",
      pattern: /^\/([^/]+)$/,
      handler: async (req, _url, m) => {
        const who = await caller(req);
        const bucket = (await bucketOf(decode(m[1]))).id;
        const b = await jsonBody(req);
        const prefixes = b.prefixes;
        if (
          !Array.isArray(prefixes) || prefixes.length === 0 || prefixes.length > 1000 ||
          prefixes.some((p) => typeof p !== "string")
        ) {
          throw errors.invalidRequest("body/prefixes must be 1 to 1000 object names");
        }
        const deleted = await store.asCaller(
          who,
          "storage.object.delete_many",
          (tx) => store.deleteObjects(tx, bucket, prefixes as string[]),
        );
        for (const row of deleted) await store.removeFile(bucket, row.name, row.version);
        return Response.json(deleted);
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`^/${objectPath}$`),
      handler: async (req, _url, m) => {
        const who = await caller(req);
        const bucket = (await bucketOf(decode(m[1]))).id;
        const name = checkKey(decode(m[2]));
        const [row] = await store.asCaller(
          who,
          "storage.object.delete",
          (tx) => store.deleteObjects(tx, bucket, [name]),
        );
        if (!row) throw errors.noSuchKey();
        await store.removeFile(bucket, row.name, row.version);
        return Response.json({ message: "Successfully deleted" });
      },
    },
  ];

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/storage\/v1/, "");
    try {
      if (path === "/status" && req.method === "GET") return new Response(null, { status: 200 });
      const below = path.startsWith("/object/") ? path.slice("/object".length) : null;
      if (below !== null) {
        for (const r of routes) {
          if (r.method !== req.method) continue;
          const m = r.pattern.exec(below);
          if (m) return await r.handler(req, url, m);
        }
      }
      return Response.json({
        statusCode: "404",
        code: "InvalidRequest",
        error: "Not Found",
        message: `Route ${req.method}:${url.pathname} not found`,
      }, { status: 404 });
    } catch (err) {
      const known = err instanceof StorageError ? err : fromPg(err);
      if (known) return render(known);
      log(
        JSON.stringify({ level: "error", service: "storage", path, error: (err as Error).message }),
      );
      return render(new StorageError(500, "InternalError", "Internal", "Internal server error"));
    }
  }

  return { handle, root: store.root, stop: () => store.end() };
}

/** A path segment or the object name after it, percent-decoded as Storage's router does. */
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw errors.invalidKey(s);
  }
}
