// AWS Signature Version 4 for S3-compatible object stores (header-based, signed payload):
// what the audit export's S3 sink signs its PutObject / GetObject / ListObjectsV2 requests
// with, and what the local stack's sink checks them with. WebCrypto only and no imports, so
// it runs on the Edge Runtime's Deno and in the stack's sink process alike. Checked against
// the examples in AWS's "Signature Calculations for the Authorization Header" (sigv4_test.ts).

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials' session token (sent and signed as x-amz-security-token). */
  sessionToken?: string;
}

export interface SigV4Request {
  method: string;
  url: URL;
  /** Headers to send and sign besides host and the x-amz-* ones this adds. */
  headers?: Record<string, string>;
  /** Lowercase hex SHA-256 of the body (sha256Hex("") for none). */
  payloadHash: string;
  region: string;
  service?: string;
  now?: Date;
}

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer | Uint8Array): string {
  let out = "";
  for (const b of new Uint8Array(bytes)) out += b.toString(16).padStart(2, "0");
  return out;
}

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  // A copy: WebCrypto's typings want an ArrayBuffer-backed view, whatever backs `data`.
  const bytes = typeof data === "string" ? encoder.encode(data) : new Uint8Array(data);
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

async function hmac(key: ArrayBuffer | string, data: string): Promise<ArrayBuffer> {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const k = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return await crypto.subtle.sign("HMAC", k, encoder.encode(data));
}

/**
 * AWS's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper case), "/" kept unless
 * `encodeSlash`. encodeURIComponent lets ! ' ( ) * through, which AWS escapes.
 */
export function uriEncode(value: string, encodeSlash: boolean): string {
  let out = "";
  for (const byte of encoder.encode(value)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (c === "/" && !encodeSlash)) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The canonical query string: names and values UriEncoded, sorted by name, then value. */
export function canonicalQuery(params: URLSearchParams): string {
  const pairs = [...params].map(([k, v]) => [uriEncode(k, true), uriEncode(v, true)]);
  pairs.sort((
    a,
    b,
  ) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** The path as S3 signs it: each segment UriEncoded once (the URL's own escapes undone first). */
export function canonicalPath(pathname: string): string {
  return pathname.split("/").map((s) => uriEncode(decodeURIComponent(s), true)).join("/") || "/";
}

/** 20130524T000000Z */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function canonicalHeaders(headers: Record<string, string>): { text: string; names: string } {
  const entries = Object.entries(headers)
    .map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, " ")] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    text: entries.map(([k, v]) => `${k}:${v}\n`).join(""),
    names: entries.map(([k]) => k).join(";"),
  };
}

async function signatureOf(
  parts: {
    method: string;
    path: string;
    query: string;
    headers: Record<string, string>;
    payloadHash: string;
    date: string;
    region: string;
    service: string;
  },
  secretAccessKey: string,
): Promise<{ signature: string; signedHeaders: string; scope: string; canonicalRequest: string }> {
  const { text, names } = canonicalHeaders(parts.headers);
  const canonicalRequest = [
    parts.method.toUpperCase(),
    parts.path,
    parts.query,
    text,
    names,
    parts.payloadHash,
  ].join("\n");
  const day = parts.date.slice(0, 8);
  const scope = `${day}/${parts.region}/${parts.service}/aws4_request`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    parts.date,
    scope,
    await sha256Hex(canonicalRequest),
  ].join("\n");
  let key = await hmac(`AWS4${secretAccessKey}`, day);
  key = await hmac(key, parts.region);
  key = await hmac(key, parts.service);
  key = await hmac(key, "aws4_request");
  return {
    signature: hex(await hmac(key, stringToSign)),
    signedHeaders: names,
    scope,
    canonicalRequest,
  };
}

/**
 * The headers to send: the caller's, host, x-amz-date, x-amz-content-sha256, the session
 * token if any, and authorization. Every one of them is signed.
 */
export async function signRequest(
  req: SigV4Request,
  creds: SigV4Credentials,
): Promise<Record<string, string>> {
  const date = amzDate(req.now ?? new Date());
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  headers["host"] = req.url.host;
  headers["x-amz-date"] = date;
  headers["x-amz-content-sha256"] = req.payloadHash;
  if (creds.sessionToken) headers["x-amz-security-token"] = creds.sessionToken;
  const s = await signatureOf({
    method: req.method,
    path: canonicalPath(req.url.pathname),
    query: canonicalQuery(req.url.searchParams),
    headers,
    payloadHash: req.payloadHash,
    date,
    region: req.region,
    service: req.service ?? "s3",
  }, creds.secretAccessKey);
  headers["authorization"] =
    `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${s.scope}, SignedHeaders=${s.signedHeaders}, Signature=${s.signature}`;
  return headers;
}

/** Constant-time comparison of two hex strings of equal length. */
function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type SigV4Check =
  | { ok: true; accessKeyId: string }
  | { ok: false; code: string; message: string };

/**
 * Checks a received request's signature (the server side, for the local sink): the
 * credential's key and scope, the signed headers including host and x-amz-date, the date
 * within 15 minutes, the payload hash against the body, and the signature itself.
 */
export async function verifyRequest(
  req: {
    method: string;
    url: URL;
    headers: Headers;
    body: Uint8Array;
  },
  opts: { region: string; secretFor(accessKeyId: string): string | undefined; now?: Date },
): Promise<SigV4Check> {
  const fail = (code: string, message: string): SigV4Check => ({ ok: false, code, message });
  const auth = req.headers.get("authorization") ?? "";
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/
      .exec(auth);
  if (!m) return fail("AccessDenied", "missing or malformed AWS4-HMAC-SHA256 authorization");
  const [, keyId, day, region, service, signedHeaders, signature] = m;
  const secret = opts.secretFor(keyId);
  if (secret === undefined) return fail("InvalidAccessKeyId", "unknown access key id");
  if (region !== opts.region || service !== "s3") {
    return fail("AuthorizationHeaderMalformed", `scope must be ${opts.region}/s3`);
  }
  const date = req.headers.get("x-amz-date") ?? "";
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!when || date.slice(0, 8) !== day) return fail("AccessDenied", "bad x-amz-date");
  const at = Date.UTC(+when[1], +when[2] - 1, +when[3], +when[4], +when[5], +when[6]);
  if (Math.abs((opts.now ?? new Date()).getTime() - at) > 15 * 60_000) {
    return fail("RequestTimeTooSkewed", "x-amz-date is more than 15 minutes off");
  }
  const names = signedHeaders.split(";");
  for (const required of ["host", "x-amz-content-sha256", "x-amz-date"]) {
    if (!names.includes(required)) return fail("AccessDenied", `${required} is not signed`);
  }
  const payloadHash = req.headers.get("x-amz-content-sha256") ?? "";
  if (payloadHash !== await sha256Hex(req.body)) {
    return fail("XAmzContentSHA256Mismatch", "x-amz-content-sha256 does not match the body");
  }
  const headers: Record<string, string> = {};
  for (const n of names) {
    const v = req.headers.get(n);
    if (v === null) return fail("AccessDenied", `signed header ${n} is missing`);
    headers[n] = v;
  }
  const s = await signatureOf({
    method: req.method,
    path: canonicalPath(req.url.pathname),
    query: canonicalQuery(req.url.searchParams),
    headers,
    payloadHash,
    date,
    region,
    service,
  }, secret);
  if (!sameHex(s.signature, signature)) {
    return fail("SignatureDoesNotMatch", "the request signature does not match");
  }
  return { ok: true, accessKeyId: keyId };
}

/** Exposed for tests: the canonical request and signature for fixed parts. */
export const _internal = { signatureOf };
