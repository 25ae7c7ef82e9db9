// `verify_jwt` as the hosted relay applies it in front of a function: the bearer must be a
// JWT of this project, unexpired, signed by a key of SUPABASE_JWKS (user tokens the Auth
// stand-in issues) or by the legacy secret SUPABASE_JWT_SECRET (the anon and service_role
// keys, legacy user tokens). Each key verifies only its own algorithm.
import {
  createJwtVerifier,
  type JwtVerifier,
  parseJwks,
} from "../supabase/functions/_shared/jwt_verify.ts";
import { jwtSecret } from "./keys.ts";

const verifiers = new Map<string, JwtVerifier>();

/**
 * The verifier for a function environment's keys (cached per key material). The legacy
 * secret defaults to the stack's well-known one, which signs the anon and service keys.
 */
export function projectJwtVerifier(env: Record<string, string | undefined>): JwtVerifier {
  const jwks = env.SUPABASE_JWKS ?? "";
  const secret = env.SUPABASE_JWT_SECRET || jwtSecret;
  const id = `${jwks}\n${secret}`;
  let v = verifiers.get(id);
  if (!v) {
    v = createJwtVerifier({
      jwks: jwks ? parseJwks(jwks) : undefined,
      secret,
    });
    verifiers.set(id, v);
  }
  return v;
}

function jsonError(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

/** Null when the request may pass; else the 401 to answer. */
export async function checkJwt(
  req: Request,
  env: Record<string, string | undefined>,
): Promise<Response | null> {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "");
  if (!m) return jsonError(401, "missing_authorization", "Missing authorization header");
  try {
    await projectJwtVerifier(env)(m[1]);
    return null;
  } catch (err) {
    return jsonError(401, "invalid_jwt", `Invalid JWT: ${(err as Error).message}`);
  }
}
