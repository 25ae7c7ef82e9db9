// Supabase's well-known local demo keys (what `supabase start` prints) and test JWTs
// signed with the local JWT secret.
import { SignJWT } from "jose";
import type postgres from "postgres";

export const jwtSecret = "super-secret-jwt-token-with-at-least-32-characters-long";
export const anonKey =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
export const serviceRoleKey =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";
// New-style API keys are opaque strings, not JWTs.
export const publishableKey = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";
export const secretKey = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";

// The local stack's audit export sink (stack/audit_sink.ts): the bearer token of its HTTPS
// sink protocol and the key of its S3 face. Well-known like the keys above, not secrets.
export const auditSinkToken = "local-audit-sink-token";
export const auditSinkS3 = {
  accessKeyId: "local-audit-sink",
  secretAccessKey: "local-audit-sink-secret",
  region: "local",
  bucket: "audit-exports",
};

// The password of every seed user (supabase/seed.sql), for signing in to the Auth stand-in.
export const seedUserPassword = "local-dev-password";

const secret = new TextEncoder().encode(jwtSecret);

/** Signs claims with the legacy JWT secret (HS256), as projects on that secret get tokens. */
export function signJwt(
  claims: Record<string, unknown>,
  opts: { expiresIn?: string | number; secret?: Uint8Array } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setIssuer(String(claims.iss ?? "http://127.0.0.1:54321/auth/v1"))
    .setExpirationTime(opts.expiresIn ?? "1h")
    .sign(opts.secret ?? secret);
}

/**
 * A legacy-style user JWT without signing in: base claims passed through the project's
 * Custom Access Token Hook (public.custom_access_token_hook), which adds tenant_id and
 * tenant_role from tenant_members, then signed HS256 with the legacy secret. For users
 * without a password (test users); the Auth stand-in issues ES256 tokens at sign-in.
 * `sql` must be allowed to execute the hook (the superuser, or supabase_auth_admin).
 */
export async function mintUserToken(
  sql: postgres.Sql,
  userId: string,
  opts: { expiresIn?: string | number } = {},
): Promise<string> {
  const base = {
    sub: userId,
    aud: "authenticated",
    role: "authenticated",
    aal: "aal1",
    is_anonymous: false,
  };
  const [row] = await sql.unsafe(
    "select public.custom_access_token_hook(jsonb_build_object('user_id', $1::text, 'claims', $2::text::jsonb)) as out",
    [userId, JSON.stringify(base)],
  );
  const out = row.out as { claims: Record<string, unknown> };
  return signJwt(out.claims, opts);
}
