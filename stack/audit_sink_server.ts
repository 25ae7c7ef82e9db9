// The local stack's audit export sink: a process of its own, run as the OS user audit-sink
// (stack/audit_sink.ts), writing into a folder that user owns. Neither the postgres OS user
// (whom the database superuser can act as) nor the functions can remove or change what it
// stored: it creates files and never replaces or deletes one. It speaks two protocols:
//
// * the HTTPS sink protocol of supabase/functions/audit-export/sink.ts under /exports/
//   (bearer token), and
// * the S3 subset the S3 sink uses under /s3/<bucket>/<key>: PutObject (refused with 412
//   when the key exists, Content-MD5 checked), GetObject, ListObjectsV2, SigV4 checked; a
//   DeleteObject is refused as an Object Lock bucket would.
//
// Only Deno's built-ins and ../supabase/functions/_shared/sigv4.ts, so that it can run from
// a copy where audit-sink can read it. Configured by environment (see `config` below).
import { verifyRequest } from "../supabase/functions/_shared/sigv4.ts";

const config = {
  port: Number(Deno.env.get("AUDIT_SINK_PORT") ?? 54331),
  dir: Deno.env.get("AUDIT_SINK_DIR") ?? "",
  token: Deno.env.get("AUDIT_SINK_TOKEN") ?? "",
  s3: {
    accessKeyId: Deno.env.get("AUDIT_SINK_S3_ACCESS_KEY_ID") ?? "",
    secretAccessKey: Deno.env.get("AUDIT_SINK_S3_SECRET_ACCESS_KEY") ?? "",
    region: Deno.env.get("AUDIT_SINK_S3_REGION") ?? "local",
    buckets: (Deno.env.get("AUDIT_SINK_S3_BUCKETS") ?? "audit-exports").split(","),
  },
};
if (!config.dir || !config.token) {
  console.error("AUDIT_SINK_DIR and AUDIT_SINK_TOKEN must be set");
  Deno.exit(2);
}

const maxBytes = 64 * 1024 * 1024;
const namePattern = /^[A-Za-z0-9._-]{1,200}$/;
const httpDir = `${config.dir}/exports`;
const s3Dir = `${config.dir}/s3`;

async function readBody(req: Request): Promise<Uint8Array | null> {
  const buf = new Uint8Array(await req.arrayBuffer());
  return buf.length > maxBytes ? null : buf;
}

/**
 * Creates `path` with `data` unless it exists. The data goes to a temporary file first and
 * is then hard-linked to its name, which fails when the name exists: no reader ever sees a
 * half-written export, and two writers of one name cannot both win.
 */
async function createOnce(path: string, data: Uint8Array): Promise<boolean> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = `${dir}/.incoming-${crypto.randomUUID()}`;
  await Deno.writeFile(tmp, data, { mode: 0o444, createNew: true });
  try {
    await Deno.link(tmp, path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    throw err;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(data)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function json(status: number, body: unknown): Response {
  return Response.json(body, { status });
}
const error = (status: number, code: string, message: string) =>
  json(status, { error: { code, message } });

function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

async function httpSink(req: Request, url: URL): Promise<Response> {
  const auth = req.headers.get("authorization") ?? "";
  if (!sameSecret(auth, `Bearer ${config.token}`)) {
    return error(401, "unauthorized", "a bearer token is required");
  }
  const name = decodeURIComponent(url.pathname.slice("/exports/".length));
  if (name === "") {
    if (req.method !== "GET") return error(405, "method_not_allowed", `${req.method} /exports/`);
    const after = url.searchParams.get("after") ?? "";
    const limit = Math.min(
      Math.max(Number(url.searchParams.get("limit") ?? 1000) || 1000, 1),
      1000,
    );
    const all: string[] = [];
    try {
      for await (const e of Deno.readDir(httpDir)) {
        if (e.isFile && namePattern.test(e.name) && !e.name.startsWith(".")) all.push(e.name);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    const names = all.filter((n) => n > after).sort();
    const page = names.slice(0, limit);
    return json(200, { names: page, next: names.length > limit ? page[page.length - 1] : null });
  }
  if (!namePattern.test(name) || name.startsWith(".")) {
    return error(400, "invalid_name", `name must match ${namePattern}`);
  }
  const path = `${httpDir}/${name}`;
  if (req.method === "GET") {
    const data = await readIfExists(path);
    return data === null
      ? error(404, "not_found", `no export ${name}`)
      : new Response(new Uint8Array(data), { headers: { "content-type": "application/json" } });
  }
  if (req.method === "PUT" || req.method === "POST") {
    const data = await readBody(req);
    if (data === null) return error(413, "too_large", `body exceeds ${maxBytes} bytes`);
    if (!(await createOnce(path, data))) {
      return error(409, "exists", `${name} exists and is never replaced`);
    }
    return json(201, { name, bytes: data.length, sha256: await sha256Hex(data) });
  }
  return error(
    405,
    "method_not_allowed",
    `${req.method} is not allowed: exports are never changed or deleted`,
  );
}

function xml(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, {
    status,
    headers: { "content-type": "application/xml", ...extra },
  });
}
const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const s3Error = (status: number, code: string, message: string) =>
  xml(status, `<Error><Code>${code}</Code><Message>${esc(message)}</Message></Error>`);

async function listKeys(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (e.name.startsWith(".")) continue;
      if (e.isDirectory) out.push(...await listKeys(`${root}/${e.name}`, `${prefix}${e.name}/`));
      else if (e.isFile) out.push(`${prefix}${e.name}`);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}

async function s3(req: Request, url: URL): Promise<Response> {
  const body = new Uint8Array(await req.arrayBuffer());
  if (body.length > maxBytes) return s3Error(400, "EntityTooLarge", "too large");
  const check = await verifyRequest({ method: req.method, url, headers: req.headers, body }, {
    region: config.s3.region,
    secretFor: (id) => (id === config.s3.accessKeyId ? config.s3.secretAccessKey : undefined),
  });
  if (!check.ok) return s3Error(403, check.code, check.message);
  const [, , bucket, ...rest] = url.pathname.split("/");
  if (!config.s3.buckets.includes(bucket)) {
    return s3Error(404, "NoSuchBucket", `no bucket ${bucket}`);
  }
  const key = rest.map(decodeURIComponent).join("/");
  const root = `${s3Dir}/${bucket}`;
  if (key === "") {
    if (req.method !== "GET" || url.searchParams.get("list-type") !== "2") {
      return s3Error(501, "NotImplemented", "only ListObjectsV2 on a bucket");
    }
    const prefix = url.searchParams.get("prefix") ?? "";
    const token = url.searchParams.get("continuation-token");
    const after = token ? atob(token) : url.searchParams.get("start-after") ?? "";
    const max = Math.min(Number(url.searchParams.get("max-keys") ?? 1000) || 1000, 1000);
    const keys = (await listKeys(root)).filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = keys.slice(0, max);
    const truncated = keys.length > max;
    return xml(
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${
        esc(bucket)
      }</Name>` +
        `<Prefix>${
          esc(prefix)
        }</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>` +
        `<IsTruncated>${truncated}</IsTruncated>` +
        (truncated
          ? `<NextContinuationToken>${btoa(page[page.length - 1])}</NextContinuationToken>`
          : "") +
        page.map((k) => `<Contents><Key>${esc(k)}</Key></Contents>`).join("") +
        `</ListBucketResult>`,
    );
  }
  if (key.split("/").some((s) => !namePattern.test(s) || s.startsWith("."))) {
    return s3Error(400, "InvalidObjectName", `key segments must match ${namePattern}`);
  }
  const path = `${root}/${key}`;
  if (req.method === "GET") {
    const data = await readIfExists(path);
    return data === null
      ? s3Error(404, "NoSuchKey", `no key ${key}`)
      : new Response(new Uint8Array(data), { headers: { "content-type": "application/json" } });
  }
  if (req.method === "PUT") {
    const md5 = req.headers.get("content-md5");
    if (md5 !== null) {
      // WebCrypto has no MD5: node's, which Deno provides.
      const { createHash } = await import("node:crypto");
      if (createHash("md5").update(body).digest("base64") !== md5) {
        return s3Error(400, "BadDigest", "Content-MD5 does not match the body");
      }
    }
    if (!(await createOnce(path, body))) {
      return s3Error(412, "PreconditionFailed", `${key} exists and is never replaced`);
    }
    return new Response(null, { status: 200, headers: { etag: `"${await sha256Hex(body)}"` } });
  }
  if (req.method === "DELETE") {
    return s3Error(403, "AccessDenied", "objects are locked: never deleted");
  }
  return s3Error(405, "MethodNotAllowed", `${req.method} is not supported`);
}

await Deno.mkdir(httpDir, { recursive: true, mode: 0o755 });
await Deno.mkdir(s3Dir, { recursive: true, mode: 0o755 });
Deno.serve({
  hostname: "127.0.0.1",
  port: config.port,
  onListen: ({ port }) =>
    console.log(JSON.stringify({ event: "ready", port, dir: config.dir, uid: Deno.uid() })),
}, async (req) => {
  const url = new URL(req.url);
  try {
    if (url.pathname === "/healthz") return json(200, { status: "ok" });
    if (url.pathname === "/exports" || url.pathname.startsWith("/exports/")) {
      if (url.pathname === "/exports") url.pathname = "/exports/";
      return await httpSink(req, url);
    }
    if (url.pathname.startsWith("/s3/")) return await s3(req, url);
    return error(404, "not_found", `no route ${req.method} ${url.pathname}`);
  } catch (err) {
    console.error(JSON.stringify({ event: "error", message: (err as Error).message }));
    return error(500, "internal_error", "the sink failed; see its log");
  }
});
