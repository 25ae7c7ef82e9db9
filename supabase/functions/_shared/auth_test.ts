import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import {
  constantTimeEqual,
  requireServiceCaller,
  requireTenantUser,
  resetAuthCache,
  verifyUserJwt,
} from "./auth.ts";
import { ApiError } from "./errors.ts";

const secret = Deno.env.get("SUPABASE_JWT_SECRET")!;

function sign(claims: Record<string, unknown>, opts: { key?: string; exp?: number } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(opts.key ?? secret));
}

const req = (token?: string) =>
  new Request("http://x/", { headers: token ? { authorization: `Bearer ${token}` } : {} });

async function rejects(p: Promise<unknown>, status: number, pattern: RegExp) {
  const err = await p.then(() => null, (e) => e);
  assert.ok(err instanceof ApiError, `expected an ApiError, got ${err}`);
  assert.equal(err.status, status);
  assert.match(err.message, pattern);
}

Deno.test("constantTimeEqual compares whole values", async () => {
  assert.equal(await constantTimeEqual("abc", "abc"), true);
  assert.equal(await constantTimeEqual("abc", "abd"), false);
  assert.equal(await constantTimeEqual("abc", "abcd"), false);
  assert.equal(await constantTimeEqual("", ""), true);
});

Deno.test("job callers: the service role key and new-style secret keys pass, anything else is 401", async () => {
  await requireServiceCaller(req(Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!));
  const secretKeys = JSON.parse(Deno.env.get("SUPABASE_SECRET_KEYS")!);
  await requireServiceCaller(req(Object.values(secretKeys)[0] as string));
  await rejects(requireServiceCaller(req()), 401, /service key is required/);
  await rejects(
    requireServiceCaller(req(Deno.env.get("SUPABASE_ANON_KEY")!)),
    401,
    /not a service key/,
  );
  await rejects(requireServiceCaller(req("sb_secret_wrong")), 401, /not a service key/);
});

Deno.test("user JWTs: valid passes; forged, expired and wrong-audience tokens are rejected", async () => {
  resetAuthCache();
  const claims = {
    sub: crypto.randomUUID(),
    aud: "authenticated",
    role: "authenticated",
    tenant_id: crypto.randomUUID(),
  };
  const ok = await verifyUserJwt(await sign(claims));
  assert.equal(ok.sub, claims.sub);
  await rejects(verifyUserJwt(await sign(claims, { key: "x".repeat(40) })), 401, /signature/);
  await rejects(
    verifyUserJwt(await sign(claims, { exp: Math.floor(Date.now() / 1000) - 10 })),
    401,
    /"exp" claim timestamp check failed/,
  );
  await rejects(verifyUserJwt(await sign({ ...claims, aud: "other" })), 401, /"aud" claim/);
  // The anon key is a valid project JWT but not a user: wrong audience.
  await rejects(verifyUserJwt(Deno.env.get("SUPABASE_ANON_KEY")!), 401, /aud/);
});

Deno.test("tenant users need a tenant_id claim", async () => {
  resetAuthCache();
  const base = { sub: crypto.randomUUID(), aud: "authenticated", role: "authenticated" };
  await rejects(requireTenantUser(req(await sign(base))), 401, /no tenant_id claim/);
  await rejects(requireTenantUser(req()), 401, /user JWT is required/);
  const tenant = crypto.randomUUID();
  assert.equal(
    (await requireTenantUser(req(await sign({ ...base, tenant_id: tenant })))).tenant_id,
    tenant,
  );
});

/** Runs `fn` with SUPABASE_JWKS set to `keys`, then puts the stack's value back. */
async function withJwks(keys: JWK[], fn: () => Promise<void>) {
  const saved = Deno.env.get("SUPABASE_JWKS");
  Deno.env.set("SUPABASE_JWKS", JSON.stringify({ keys }));
  resetAuthCache();
  try {
    await fn();
  } finally {
    if (saved === undefined) Deno.env.delete("SUPABASE_JWKS");
    else Deno.env.set("SUPABASE_JWKS", saved);
    resetAuthCache();
  }
}

async function asymmetricKey(alg: "ES256" | "RS256") {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const kid = crypto.randomUUID();
  return { kid, privateKey, jwk: { ...await exportJWK(publicKey), kid } };
}

function signWith(
  key: CryptoKey | Uint8Array,
  header: { alg: string; kid?: string },
  claims: Record<string, unknown>,
  exp: number | null = Math.floor(Date.now() / 1000) + 600,
) {
  const jwt = new SignJWT(claims).setProtectedHeader(header).setIssuedAt();
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(key);
}

Deno.test("user JWTs from SUPABASE_JWKS: ES256 and RS256 by kid pass; another key, alg none, HS512, no exp, no sub do not", async () => {
  const es = await asymmetricKey("ES256");
  const rs = await asymmetricKey("RS256");
  const claims = { sub: crypto.randomUUID(), aud: "authenticated", role: "authenticated" };
  await withJwks([es.jwk, rs.jwk], async () => {
    const esToken = await signWith(es.privateKey, { alg: "ES256", kid: es.kid }, claims);
    assert.equal((await verifyUserJwt(esToken)).sub, claims.sub);
    const rsToken = await signWith(rs.privateKey, { alg: "RS256", kid: rs.kid }, claims);
    assert.equal((await verifyUserJwt(rsToken)).sub, claims.sub);
    // The legacy HS256 path keeps working beside the key set.
    assert.equal((await verifyUserJwt(await sign(claims))).sub, claims.sub);

    const other = await asymmetricKey("ES256");
    await rejects(
      verifyUserJwt(await signWith(other.privateKey, { alg: "ES256", kid: es.kid }, claims)),
      401,
      /signature verification failed/,
    );
    await rejects(
      verifyUserJwt(await signWith(other.privateKey, { alg: "ES256", kid: other.kid }, claims)),
      401,
      /no signing key with kid/,
    );
    const [, body] = esToken.split(".");
    const none = btoa(JSON.stringify({ alg: "none", kid: es.kid })).replace(/=+$/, "");
    await rejects(verifyUserJwt(`${none}.${body}.`), 401, /alg "none" is not accepted/);
    await rejects(
      verifyUserJwt(await signWith(new TextEncoder().encode(secret), { alg: "HS512" }, claims)),
      401,
      /alg HS512/,
    );
    await rejects(
      verifyUserJwt(await signWith(es.privateKey, { alg: "ES256", kid: es.kid }, claims, null)),
      401,
      /missing required "exp" claim/,
    );
    const { sub: _, ...noSub } = claims;
    await rejects(
      verifyUserJwt(await signWith(es.privateKey, { alg: "ES256", kid: es.kid }, noSub)),
      401,
      /missing required "sub" claim/,
    );
  });
});

Deno.test("a malformed SUPABASE_JWKS is named in the 401, not taken as no keys", async () => {
  const saved = Deno.env.get("SUPABASE_JWKS");
  Deno.env.set("SUPABASE_JWKS", "{not json");
  resetAuthCache();
  try {
    await rejects(
      verifyUserJwt(await sign({ sub: "x", aud: "authenticated" })),
      401,
      /SUPABASE_JWKS/,
    );
  } finally {
    if (saved === undefined) Deno.env.delete("SUPABASE_JWKS");
    else Deno.env.set("SUPABASE_JWKS", saved);
    resetAuthCache();
  }
});
