// Who is calling. Jobs (pg_cron through pg_net, operators) present a service key; users
// (dashboards, search) present a JWT verified here — never trusted unverified.
import { createJwtVerifier, type JwtKeys, type JwtVerifier, parseJwks } from "./jwt_verify.ts";
import { optionalEnv } from "./env.ts";
import type { Claims } from "./db.ts";
import { unauthorized } from "./errors.ts";

const enc = new TextEncoder();

/** Constant-time equality: compares SHA-256 digests, so neither content nor length leaks. */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  const x = new Uint8Array(da), y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** SUPABASE_SERVICE_ROLE_KEY (legacy JWT) and every value of SUPABASE_SECRET_KEYS (new keys). */
export function serviceKeys(): string[] {
  const keys: string[] = [];
  const legacy = optionalEnv("SUPABASE_SERVICE_ROLE_KEY");
  if (legacy) keys.push(legacy);
  const secret = optionalEnv("SUPABASE_SECRET_KEYS");
  if (secret) {
    try {
      for (const v of Object.values(JSON.parse(secret) as Record<string, unknown>)) {
        if (typeof v === "string" && v) keys.push(v);
      }
    } catch {
      // A malformed variable grants nothing.
    }
  }
  return keys;
}

export function bearerToken(req: Request): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "");
  return m ? m[1] : null;
}

/** Throws 401 unless the bearer equals a service key. */
export async function requireServiceCaller(req: Request): Promise<void> {
  const token = bearerToken(req);
  if (!token) throw unauthorized("a service key is required (Authorization: Bearer …)");
  let ok = false;
  // Compare against every key, without stopping early.
  for (const key of serviceKeys()) ok = (await constantTimeEqual(token, key)) || ok;
  if (!ok) throw unauthorized("the bearer token is not a service key of this project");
}

let verifier: JwtVerifier | null = null;

/**
 * Keys from SUPABASE_JWKS (what hosted injects), else the auth server's JWKS endpoint under
 * SUPABASE_URL; plus the legacy HS256 secret SUPABASE_JWT_SECRET when set (the local stack
 * sets it; legacy tokens and `stack/keys.ts` test tokens are HS256).
 */
function jwtVerifier(): JwtVerifier {
  if (verifier) return verifier;
  const jwks = optionalEnv("SUPABASE_JWKS");
  const secret = optionalEnv("SUPABASE_JWT_SECRET");
  const base = optionalEnv("SUPABASE_URL");
  const keys: JwtKeys = { secret };
  if (jwks) {
    try {
      keys.jwks = parseJwks(jwks);
    } catch (err) {
      throw new Error(`SUPABASE_JWKS: ${(err as Error).message}`);
    }
  } else if (base) keys.jwksUrl = new URL("/auth/v1/.well-known/jwks.json", base);
  else if (!secret) throw new Error("no way to verify JWTs: set SUPABASE_JWKS or SUPABASE_URL");
  verifier = createJwtVerifier(keys);
  return verifier;
}

/**
 * Verifies a user JWT (signature with the key its header names, `exp` and `sub` present and
 * unexpired, audience `authenticated`) and returns its claims.
 */
export async function verifyUserJwt(token: string): Promise<Claims> {
  try {
    const payload = await jwtVerifier()(token, {
      audience: "authenticated",
      requiredClaims: ["exp", "sub"],
    });
    return payload as Claims;
  } catch (err) {
    throw unauthorized(`invalid JWT: ${(err as Error).message}`);
  }
}

/** Any 8-4-4-4-12 hex id, as Postgres reads a uuid. */
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The verified claims of a user caller that belongs to a tenant. */
export async function requireTenantUser(req: Request): Promise<Claims & { tenant_id: string }> {
  const token = bearerToken(req);
  if (!token) throw unauthorized("a user JWT is required (Authorization: Bearer …)");
  const claims = await verifyUserJwt(token);
  if (claims.tenant_id === undefined || claims.tenant_id === null) {
    throw unauthorized("the JWT carries no tenant_id claim (is the access-token hook enabled?)");
  }
  // Signed is not the same as well-formed: the claim reaches SQL as a uuid.
  if (typeof claims.tenant_id !== "string" || !uuidPattern.test(claims.tenant_id)) {
    throw unauthorized("the JWT's tenant_id claim is not a uuid");
  }
  return claims as Claims & { tenant_id: string };
}

/** Tests switch keys and secrets between cases. */
export function resetAuthCache(): void {
  verifier = null;
}
