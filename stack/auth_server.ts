// A stand-in for Supabase Auth (GoTrue) at /auth/v1, enough for supabase-js's
// signInWithPassword, refreshSession, getUser, getClaims and signOut: the password and
// refresh_token grants, GET /user, POST /logout, the JWKS. Wire shapes, status codes and
// error codes are GoTrue's (both error shapes, chosen by X-Supabase-Api-Version). Access
// tokens carry GoTrue's claims, pass through the project's Custom Access Token Hook (from
// supabase/config.toml) and are signed ES256 with the stack's key. State lives in hosted's
// auth tables (stack/sql/auth_schema.sql). Not served: see docs/local-stack.md "Auth stand-in".
import postgres from "postgres";
import { SignJWT } from "jose";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { createJwtVerifier, type JwtVerifier } from "../supabase/functions/_shared/jwt_verify.ts";
import {
  type AmrEntry,
  callAccessTokenHook,
  createSession,
  isBanned,
  logout,
  type LogoutScope,
  rotateRefreshToken,
  sessionAmr,
  sessionExists,
  type Tx,
  userByEmailAndPassword,
  userById,
  type UserRow,
} from "./auth_store.ts";
import { projectRoot } from "./paths.ts";
import { publicJwks, type SigningKey } from "./signing_key.ts";

export interface AuthConfig {
  /** Access-token lifetime in seconds (`[auth] jwt_expiry`). */
  jwtExpiry: number;
  /** `[auth] refresh_token_reuse_interval`, seconds. */
  refreshTokenReuseInterval: number;
  /** `[auth] enable_refresh_token_rotation`: reuse past the interval revokes the session. */
  refreshTokenRotation: boolean;
  /** `[auth.hook.custom_access_token]` when enabled: a pg-functions:// hook. */
  accessTokenHook: { uri: string; schema: string; name: string } | null;
}

const identifier = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** The [auth] settings the stand-in honours, with the Supabase CLI's defaults. */
export function readAuthConfig(configFile: string): AuthConfig {
  let text = "";
  try {
    text = Deno.readTextFileSync(configFile);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  type Hook = { enabled?: boolean; uri?: string };
  const auth = (parseToml(text) as {
    auth?: {
      jwt_expiry?: number;
      refresh_token_reuse_interval?: number;
      enable_refresh_token_rotation?: boolean;
      hook?: { custom_access_token?: Hook };
    };
  }).auth ?? {};
  const hook = auth.hook?.custom_access_token;
  let accessTokenHook: AuthConfig["accessTokenHook"] = null;
  if (hook?.enabled) {
    const m = /^pg-functions:\/\/[^/]+\/([^/]+)\/([^/]+)$/.exec(hook.uri ?? "");
    if (!m || !identifier.test(m[1]) || !identifier.test(m[2])) {
      throw new Error(
        `${configFile}: [auth.hook.custom_access_token] uri must be ` +
          `pg-functions://postgres/<schema>/<function> (the stand-in runs Postgres hooks only), ` +
          `got ${JSON.stringify(hook.uri)}`,
      );
    }
    accessTokenHook = { uri: hook.uri!, schema: m[1], name: m[2] };
  }
  return {
    jwtExpiry: auth.jwt_expiry ?? 3600,
    refreshTokenReuseInterval: auth.refresh_token_reuse_interval ?? 10,
    refreshTokenRotation: auth.enable_refresh_token_rotation ?? true,
    accessTokenHook,
  };
}

export interface AuthServerOptions {
  /** A superuser connection to the project database (as GoTrue owns the auth schema). */
  dbUrl: string;
  /** The API URL; tokens' issuer is `<apiUrl>/auth/v1`. */
  apiUrl: string;
  signingKey: SigningKey;
  /** The legacy HS256 secret: tokens signed with it are still accepted by /user, /logout. */
  legacySecret: string;
  /** The project's API keys; every route but the JWKS and health needs one in `apikey`. */
  apiKeys: string[];
  config: AuthConfig;
  log?: (line: string) => void;
}

export interface AuthServer {
  /** Answers a request for /auth/v1/… */
  handle(req: Request): Promise<Response>;
  stop(): Promise<void>;
}

/** GoTrue's HTTP error: status, error code, message; `oauth` for its OAuth-style errors. */
class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly oauth = false,
  ) {
    super(message);
  }
}

const audience = "authenticated";
const hookTimeoutMs = 2000;
const nilUuid = "00000000-0000-0000-0000-000000000000";
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether the client asked for the 2024-01-01 API (error bodies `{code, message}`). */
function wantsApi20240101(req: Request): boolean {
  const v = req.headers.get("x-supabase-api-version");
  if (!v || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const t = Date.parse(`${v}T00:00:00Z`);
  return Number.isFinite(t) && t >= Date.parse("2024-01-01T00:00:00Z");
}

function errorResponse(req: Request, err: AuthError): Response {
  const v2024 = wantsApi20240101(req);
  const headers = new Headers({ "x-sb-error-code": err.code });
  if (v2024) headers.set("x-supabase-api-version", "2024-01-01");
  const body = err.oauth
    ? { error: err.code, error_description: err.message }
    : v2024
    ? { code: err.code, message: err.message }
    : { code: err.status, error_code: err.code, msg: err.message };
  return Response.json(body, { status: err.status, headers });
}

/** Hosted's API gateway answers a missing or unknown key itself, in its own shape. */
function checkApiKey(req: Request, url: URL, keys: string[]): Response | null {
  const key = req.headers.get("apikey") ?? url.searchParams.get("apikey");
  if (!key) {
    return Response.json({
      message: "No API key found in request",
      hint: "No `apikey` request header or url param was found.",
    }, { status: 401 });
  }
  if (!keys.includes(key)) {
    return Response.json({
      message: "Invalid API key",
      hint: "Double check your Supabase `anon` or `service_role` API key.",
    }, { status: 401 });
  }
  return null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : undefined);

/** A user as GoTrue renders one (empty strings for a missing email or phone). */
function userJson(u: UserRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: u.id,
    aud: u.aud ?? "",
    role: u.role ?? "",
    email: u.email ?? "",
    email_confirmed_at: iso(u.email_confirmed_at),
    phone: u.phone ?? "",
    phone_confirmed_at: iso(u.phone_confirmed_at),
    confirmed_at: iso(u.confirmed_at),
    last_sign_in_at: iso(u.last_sign_in_at),
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    identities: [],
    created_at: iso(u.created_at) ?? new Date(0).toISOString(),
    updated_at: iso(u.updated_at) ?? new Date(0).toISOString(),
    banned_until: iso(u.banned_until),
    is_anonymous: u.is_anonymous,
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** The claims GoTrue's schema check requires of a hook's output, with their JSON types. */
const requiredClaims: Array<[string, (v: unknown) => boolean]> = [
  ["aud", (v) => typeof v === "string" || Array.isArray(v)],
  ["exp", Number.isInteger],
  ["iat", Number.isInteger],
  ["sub", (v) => typeof v === "string"],
  ["email", (v) => typeof v === "string"],
  ["phone", (v) => typeof v === "string"],
  ["role", (v) => typeof v === "string"],
  ["aal", (v) => typeof v === "string"],
  ["session_id", (v) => typeof v === "string"],
  ["is_anonymous", () => true],
];

function hookClaims(out: unknown, uri: string): Record<string, unknown> {
  const o = (typeof out === "object" && out !== null ? out : {}) as Record<string, unknown>;
  const e = o.error as { http_code?: number; message?: string } | undefined;
  if (e && typeof e === "object" && e.message) {
    // GoTrue answers a hook's error with its http_code; only an error status makes sense.
    const code = Number(e.http_code);
    const status = Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500;
    throw new AuthError(status, status === 500 ? "unexpected_failure" : "unknown", e.message);
  }
  const claims = o.claims;
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw new AuthError(500, "unexpected_failure", `${uri}: the hook returned no claims object`);
  }
  const c = claims as Record<string, unknown>;
  const problems = requiredClaims
    .filter(([name, ok]) => !(name in c) || !ok(c[name]))
    .map(([name]) => `- ${name}: missing or of the wrong type`);
  if (problems.length) {
    throw new AuthError(
      500,
      "unexpected_failure",
      `output claims do not conform to the expected schema: \n${problems.join("\n")}`,
    );
  }
  return c;
}

type Handler = (req: Request, url: URL) => Promise<Response>;

export async function startAuthServer(opts: AuthServerOptions): Promise<AuthServer> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const cfg = opts.config;
  const issuer = `${opts.apiUrl}/auth/v1`;
  const sql = postgres(opts.dbUrl, { max: 4, onnotice: () => {} });
  // GoTrue migrates its schema on boot; the same idempotent DDL brings an older cluster up.
  await sql.unsafe(await Deno.readTextFile(join(projectRoot, "stack", "sql", "auth_schema.sql")))
    .catch(async (err) => {
      await sql.end();
      throw new Error(`auth stand-in: applying auth_schema.sql: ${err.message}`);
    });
  const verify: JwtVerifier = createJwtVerifier({
    jwks: publicJwks(opts.signingKey),
    secret: opts.legacySecret,
  });

  /** GoTrue's claims for the user and session, through the hook, signed. */
  async function accessToken(
    tx: Tx,
    user: UserRow,
    sessionId: string,
    method: string,
  ): Promise<{ token: string; expiresAt: number }> {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + cfg.jwtExpiry;
    const amr: AmrEntry[] = await sessionAmr(tx, sessionId);
    let claims: Record<string, unknown> = {
      iss: issuer,
      sub: user.id,
      aud: user.aud ?? "",
      exp,
      iat,
      email: user.email ?? "",
      phone: user.phone ?? "",
      app_metadata: user.raw_app_meta_data ?? {},
      user_metadata: user.raw_user_meta_data ?? {},
      role: user.role ?? "",
      aal: "aal1",
      amr,
      session_id: sessionId,
      is_anonymous: user.is_anonymous,
    };
    const hook = cfg.accessTokenHook;
    if (hook) {
      const event = {
        metadata: {
          uuid: crypto.randomUUID(),
          time: new Date().toISOString(),
          name: "customize-access-token",
        },
        user_id: user.id,
        claims,
        authentication_method: method,
      };
      let out: unknown;
      try {
        out = await callAccessTokenHook(tx, hook, event, hookTimeoutMs);
      } catch (err) {
        log(
          JSON.stringify({
            level: "error",
            service: "auth",
            hook: hook.uri,
            error: (err as Error).message,
          }),
        );
        throw new AuthError(
          500,
          "unexpected_failure",
          `Error running hook URI: ${hook.uri}: ${(err as Error).message}`,
        );
      }
      claims = hookClaims(out, hook.uri);
    }
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: opts.signingKey.alg, kid: opts.signingKey.kid, typ: "JWT" })
      .sign(opts.signingKey.privateKey);
    return { token, expiresAt: typeof claims.exp === "number" ? claims.exp : exp };
  }

  function session(
    token: { token: string; expiresAt: number },
    refreshToken: string,
    user: UserRow,
  ) {
    return Response.json({
      access_token: token.token,
      token_type: "bearer",
      expires_in: token.expiresAt - Math.floor(Date.now() / 1000),
      expires_at: token.expiresAt,
      refresh_token: refreshToken,
      user: userJson(user),
    });
  }

  async function jsonBody(req: Request): Promise<Record<string, unknown>> {
    const text = await req.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch (err) {
      throw new AuthError(
        400,
        "bad_json",
        `Could not parse request body as JSON: ${(err as Error).message}`,
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new AuthError(400, "bad_json", "Could not parse request body as JSON: not an object");
    }
    return body as Record<string, unknown>;
  }

  function stringField(body: Record<string, unknown>, name: string): string {
    const v = body[name];
    if (v === undefined || v === null) return "";
    if (typeof v !== "string") {
      throw new AuthError(
        400,
        "bad_json",
        `Could not parse request body as JSON: ${name} must be a string`,
      );
    }
    return v;
  }

  async function passwordGrant(req: Request): Promise<Response> {
    const body = await jsonBody(req);
    const email = stringField(body, "email").trim();
    const phone = stringField(body, "phone").trim();
    const password = stringField(body, "password");
    if (email && phone) {
      throw new AuthError(
        400,
        "validation_failed",
        "Only an email address or phone number should be provided on login.",
      );
    }
    if (phone) throw new AuthError(422, "phone_provider_disabled", "Phone logins are disabled");
    if (!email) throw new AuthError(400, "validation_failed", "missing email or phone");
    const invalid = () => new AuthError(400, "invalid_credentials", "Invalid login credentials");
    const userAgent = req.headers.get("user-agent");
    const issued = await sql.begin(async (tx) => {
      const found = await userByEmailAndPassword(tx, email, audience, password);
      if (!found) throw invalid();
      // GoTrue's order: a banned user learns so before the password is checked.
      if (isBanned(found.user)) throw new AuthError(400, "user_banned", "User is banned");
      if (!found.passwordOk) throw invalid();
      if (!found.user.email_confirmed_at) {
        throw new AuthError(400, "email_not_confirmed", "Email not confirmed");
      }
      const s = await createSession(tx, found.user, "password", userAgent);
      const token = await accessToken(tx, s.user, s.sessionId, "password");
      return { token, refreshToken: s.refreshToken, user: s.user };
    });
    return session(issued.token, issued.refreshToken, issued.user);
  }

  async function refreshGrant(req: Request): Promise<Response> {
    const body = await jsonBody(req);
    const refreshToken = stringField(body, "refresh_token");
    if (!refreshToken) throw new AuthError(400, "invalid_request", "refresh_token required", true);
    const userAgent = req.headers.get("user-agent");
    const result = await sql.begin(async (tx) => {
      const r = await rotateRefreshToken(tx, refreshToken, {
        reuseIntervalSeconds: cfg.refreshTokenReuseInterval,
        revokeFamilyOnReuse: cfg.refreshTokenRotation,
      }, userAgent);
      // A refusal is returned, not thrown: what it changed (a revoked family) must commit.
      if (!r.ok) return r;
      const user = (await userById(tx, r.userId))!;
      const token = await accessToken(tx, user, r.sessionId, "token_refresh");
      return { ok: true as const, token, refreshToken: r.refreshToken, user };
    });
    if (!result.ok) throw new AuthError(400, result.code, result.message);
    return session(result.token, result.refreshToken, result.user);
  }

  const token: Handler = (req, url) => {
    const grant = url.searchParams.get("grant_type") ?? "";
    if (grant === "password") return passwordGrant(req);
    if (grant === "refresh_token") return refreshGrant(req);
    throw new AuthError(
      400,
      "invalid_credentials",
      `unsupported_grant_type: ${
        JSON.stringify(grant)
      } (this stand-in serves password and refresh_token)`,
    );
  };

  /** GoTrue's requireAuthentication: a bearer JWT of this project, its user and session. */
  async function authenticate(req: Request) {
    const m = /^Bearer (\S+)$/i.exec(req.headers.get("authorization") ?? "");
    if (!m) {
      throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
    }
    let claims;
    try {
      claims = await verify(m[1]);
    } catch (err) {
      throw new AuthError(
        403,
        "bad_jwt",
        `invalid JWT: unable to parse or verify signature, ${(err as Error).message}`,
      );
    }
    if (!claims.sub) throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
    if (!uuidPattern.test(claims.sub)) {
      throw new AuthError(400, "bad_jwt", "invalid claim: sub claim must be a UUID");
    }
    const user = await userById(sql, claims.sub);
    if (!user) {
      throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    }
    const sid = typeof claims.session_id === "string" && claims.session_id !== nilUuid
      ? claims.session_id
      : null;
    if (sid && !uuidPattern.test(sid)) {
      throw new AuthError(403, "bad_jwt", "invalid claim: session_id claim must be a UUID");
    }
    if (sid && !(await sessionExists(sql, sid))) {
      throw new AuthError(
        403,
        "session_not_found",
        "Session from session_id claim in JWT does not exist",
      );
    }
    if (isBanned(user)) throw new AuthError(403, "user_banned", "User is banned");
    return { claims, user, sessionId: sid };
  }

  const getUser: Handler = async (req) => {
    const { claims, user } = await authenticate(req);
    const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
    if (aud !== audience) {
      throw new AuthError(
        400,
        "validation_failed",
        "Token audience doesn't match request audience",
      );
    }
    return Response.json(userJson(user));
  };

  const postLogout: Handler = async (req, url) => {
    const raw = url.searchParams.get("scope") ?? "";
    const scope: LogoutScope | null = raw === "" || raw === "global"
      ? "global"
      : raw === "local" || raw === "others"
      ? raw
      : null;
    if (!scope) {
      throw new AuthError(
        400,
        "validation_failed",
        `Unsupported logout scope ${JSON.stringify(raw)}`,
      );
    }
    const { user, sessionId } = await authenticate(req);
    await sql.begin((tx) => logout(tx, user.id, sessionId, scope));
    return new Response(null, { status: 204 });
  };

  const jwks: Handler = () =>
    Promise.resolve(
      Response.json(publicJwks(opts.signingKey), {
        headers: { "cache-control": "public, max-age=600" },
      }),
    );

  const health: Handler = () =>
    Promise.resolve(Response.json({
      version: "stack",
      name: "GoTrue",
      description: "the local stack's stand-in for Supabase Auth",
    }));

  // Path (below /auth/v1) → method → handler; `open` routes need no API key.
  const routes: Record<string, { open?: boolean; methods: Record<string, Handler> }> = {
    "/health": { open: true, methods: { GET: health } },
    "/.well-known/jwks.json": { open: true, methods: { GET: jwks } },
    "/token": { methods: { POST: token } },
    "/user": { methods: { GET: getUser } },
    "/logout": { methods: { POST: postLogout } },
  };

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/auth\/v1/, "").replace(/\/+$/, "") || "/";
    const route = routes[path];
    try {
      if (!route?.open) {
        const denied = checkApiKey(req, url, opts.apiKeys);
        if (denied) return denied;
      }
      if (!route) {
        throw new AuthError(
          404,
          "not_found",
          `no route for ${url.pathname}; the stand-in serves ${Object.keys(routes).join(", ")}`,
        );
      }
      const handler = route.methods[req.method];
      if (!handler) {
        const allowed = Object.keys(route.methods).join(", ");
        const res = errorResponse(
          req,
          new AuthError(405, "method_not_allowed", `${req.method} ${path}: use ${allowed}`),
        );
        res.headers.set("allow", allowed);
        return res;
      }
      return await handler(req, url);
    } catch (err) {
      if (err instanceof AuthError) return errorResponse(req, err);
      log(JSON.stringify({ level: "error", service: "auth", path, error: (err as Error).message }));
      return errorResponse(
        req,
        new AuthError(
          500,
          "unexpected_failure",
          "Unexpected failure, please check server logs for more information",
        ),
      );
    }
  }

  return { handle, stop: () => sql.end({ timeout: 5 }) };
}
