import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { createJwtVerifier, keyAlgorithm, parseJwks } from "./jwt_verify.ts";

const secret = "a-legacy-secret-of-at-least-thirty-two-characters";
const enc = new TextEncoder();
const claims = { sub: crypto.randomUUID(), aud: "authenticated", role: "authenticated" };

async function keyPair(alg: "ES256" | "RS256", kid: string) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  // As hosted lists them: no `alg` on some keys, so the type decides.
  const jwk: JWK = { ...await exportJWK(publicKey), kid, use: "sig" };
  return { jwk, privateKey };
}

function sign(
  key: CryptoKey | Uint8Array,
  header: { alg: string; kid?: string },
  body: Record<string, unknown> = claims,
  exp: number | null = Math.floor(Date.now() / 1000) + 600,
) {
  const jwt = new SignJWT(body).setProtectedHeader({ ...header, typ: "JWT" }).setIssuedAt();
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(key);
}

function b64url(s: string | Uint8Array) {
  const bytes = typeof s === "string" ? enc.encode(s) : s;
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

async function rejects(p: Promise<unknown>, pattern: RegExp) {
  const err = await p.then(() => null, (e) => e);
  assert.ok(err instanceof Error, "expected a rejection");
  assert.match(err.message, pattern);
}

const es = await keyPair("ES256", "es-key");
const rs = await keyPair("RS256", "rs-key");
const verify = createJwtVerifier({ jwks: { keys: [es.jwk, rs.jwk] }, secret });

Deno.test("keyAlgorithm: a JWK's alg, else EC P-256 → ES256 and RSA → RS256; never symmetric", () => {
  assert.equal(keyAlgorithm(es.jwk), "ES256");
  assert.equal(keyAlgorithm(rs.jwk), "RS256");
  assert.equal(keyAlgorithm({ ...rs.jwk, alg: "PS256" }), "PS256");
  assert.equal(keyAlgorithm({ kty: "oct", k: "c2VjcmV0" }), null);
  assert.equal(keyAlgorithm({ ...rs.jwk, alg: "HS256" }), null);
  assert.equal(keyAlgorithm({ ...es.jwk, use: "enc" }), null);
  assert.equal(keyAlgorithm({ ...es.jwk, key_ops: ["encrypt"] }), null);
  assert.equal(keyAlgorithm({ kty: "EC", crv: "secp256k1", x: "", y: "" }), null);
});

Deno.test("ES256 and RS256 tokens verify with the key their kid names", async () => {
  assert.equal(
    (await verify(await sign(es.privateKey, { alg: "ES256", kid: "es-key" }))).sub,
    claims.sub,
  );
  assert.equal(
    (await verify(await sign(rs.privateKey, { alg: "RS256", kid: "rs-key" }))).sub,
    claims.sub,
  );
});

Deno.test("HS256 tokens verify with the legacy secret, with or without a kid the set lacks", async () => {
  const key = enc.encode(secret);
  assert.equal((await verify(await sign(key, { alg: "HS256" }))).sub, claims.sub);
  assert.equal((await verify(await sign(key, { alg: "HS256", kid: "legacy" }))).sub, claims.sub);
  const noSecret = createJwtVerifier({ jwks: { keys: [es.jwk] } });
  await rejects(noSecret(await sign(key, { alg: "HS256" })), /no legacy secret/);
});

Deno.test("another key is refused: same kid, unknown kid, another secret", async () => {
  const other = await keyPair("ES256", "es-key");
  await rejects(verify(await sign(other.privateKey, { alg: "ES256", kid: "es-key" })), /signature/);
  await rejects(
    verify(await sign(other.privateKey, { alg: "ES256", kid: "unknown" })),
    /no signing key with kid unknown/,
  );
  await rejects(verify(await sign(other.privateKey, { alg: "ES256" })), /without a kid/);
  await rejects(verify(await sign(enc.encode("x".repeat(40)), { alg: "HS256" })), /signature/);
});

Deno.test("the token cannot choose the algorithm: alg none, HS512, another key's alg, HS256 with a public key", async () => {
  const body = b64url(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }));
  await rejects(
    verify(`${b64url('{"alg":"none","typ":"JWT"}')}.${body}.`),
    /alg "none" is not accepted/,
  );
  await rejects(
    verify(`${b64url('{"alg":"none","kid":"es-key"}')}.${body}.`),
    /alg "none" is not accepted/,
  );
  await rejects(
    verify(await sign(enc.encode(secret), { alg: "HS512" })),
    /alg HS512 without a kid/,
  );
  await rejects(
    verify(await sign(es.privateKey, { alg: "ES256", kid: "rs-key" })),
    /verifies RS256, the token says ES256/,
  );
  // The classic confusion: HS256 "signed" with the public key's bytes, naming that key.
  const pub = enc.encode(JSON.stringify(rs.jwk));
  await rejects(verify(await sign(pub, { alg: "HS256", kid: "rs-key" })), /verifies RS256/);
  await rejects(verify("not.a.jwt"), /not a JWT/);
});

Deno.test("required claims and audience are enforced when asked for", async () => {
  const opts = { audience: "authenticated", requiredClaims: ["exp", "sub"] };
  const noExp = await sign(es.privateKey, { alg: "ES256", kid: "es-key" }, claims, null);
  assert.equal((await verify(noExp)).sub, claims.sub);
  await rejects(verify(noExp, opts), /missing required "exp" claim/);
  const { sub: _, ...noSub } = claims;
  await rejects(
    verify(await sign(es.privateKey, { alg: "ES256", kid: "es-key" }, noSub), opts),
    /missing required "sub" claim/,
  );
  await rejects(
    verify(
      await sign(es.privateKey, { alg: "ES256", kid: "es-key" }, { ...claims, aud: "x" }),
      opts,
    ),
    /"aud" claim/,
  );
});

Deno.test("a remote key set is fetched once, then cached; an unknown kid within the cooldown fetches nothing", async () => {
  let fetches = 0;
  let keys = [es.jwk];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    fetches++;
    return Response.json({ keys });
  });
  try {
    const url = new URL(`http://127.0.0.1:${server.addr.port}/auth/v1/.well-known/jwks.json`);
    const remote = createJwtVerifier({ jwksUrl: url });
    await remote(await sign(es.privateKey, { alg: "ES256", kid: "es-key" }));
    await remote(await sign(es.privateKey, { alg: "ES256", kid: "es-key" }));
    assert.equal(fetches, 1);
    keys = [es.jwk, rs.jwk];
    // Within jose's cooldown after a fetch, an unknown kid does not fetch again.
    await rejects(
      remote(await sign(rs.privateKey, { alg: "RS256", kid: "rs-key" })),
      /no signing key/,
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("parseJwks refuses what is not a public key set", () => {
  assert.deepEqual(parseJwks(JSON.stringify({ keys: [es.jwk] })).keys[0].kid, "es-key");
  assert.throws(() => parseJwks("{"), /not JSON/);
  assert.throws(() => parseJwks('{"keys": 1}'), /not \{"keys"/);
  assert.throws(() => parseJwks(JSON.stringify({ keys: [{ kty: "oct", k: "eA" }] })), /symmetric/);
  assert.throws(() => parseJwks(JSON.stringify({ keys: [{ ...es.jwk, d: "x" }] })), /private/);
});
