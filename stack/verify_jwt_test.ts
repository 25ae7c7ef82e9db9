import assert from "node:assert/strict";
import { generateKeyPair, SignJWT } from "jose";
import { anonKey, jwtSecret, serviceRoleKey, signJwt } from "./keys.ts";
import { loadSigningKey, publicJwks } from "./signing_key.ts";
import { checkJwt } from "./verify_jwt.ts";

const dir = await Deno.makeTempDir({ prefix: "verify-jwt-" });
const key = await loadSigningKey(dir);
await Deno.remove(dir, { recursive: true });
const env = { SUPABASE_JWKS: JSON.stringify(publicJwks(key)), SUPABASE_JWT_SECRET: jwtSecret };
const claims = { sub: crypto.randomUUID(), aud: "authenticated", role: "authenticated" };

const req = (token?: string) =>
  new Request("http://x/functions/v1/f", {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

async function refused(token: string | undefined, code: string, pattern: RegExp) {
  const res = await checkJwt(req(token), env);
  assert.ok(res, "expected a refusal");
  assert.equal(res.status, 401);
  const body = await res.json();
  assert.equal(body.error.code, code);
  assert.match(body.error.message, pattern);
}

Deno.test("verify_jwt passes the stack's ES256 user tokens and the HS256 anon and service keys", async () => {
  const userToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
    .setIssuedAt().setExpirationTime("1h").sign(key.privateKey);
  assert.equal(await checkJwt(req(userToken), env), null);
  assert.equal(await checkJwt(req(anonKey), env), null);
  assert.equal(await checkJwt(req(serviceRoleKey), env), null);
  // Without SUPABASE_JWT_SECRET the stack's well-known secret still signs the API keys.
  assert.equal(await checkJwt(req(anonKey), { SUPABASE_JWKS: env.SUPABASE_JWKS }), null);
});

Deno.test("verify_jwt refuses no token, another key, alg none, HS512 and an expired token", async () => {
  await refused(undefined, "missing_authorization", /Missing authorization header/);
  const { privateKey } = await generateKeyPair("ES256");
  const forged = await new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: key.kid })
    .setExpirationTime("1h").sign(privateKey);
  await refused(forged, "invalid_jwt", /signature verification failed/);
  const [, body] = forged.split(".");
  await refused(`${btoa('{"alg":"none"}').replace(/=+$/, "")}.${body}.`, "invalid_jwt", /none/);
  const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: "HS512" })
    .setExpirationTime("1h").sign(new TextEncoder().encode(jwtSecret));
  await refused(hs512, "invalid_jwt", /HS512/);
  await refused(await signJwt({ role: "anon" }, { expiresIn: -10 }), "invalid_jwt", /"exp"/);
});
