import assert from "node:assert/strict";
import { join } from "node:path";
import { importJWK, jwtVerify, SignJWT } from "jose";
import { loadSigningKey, publicJwks, signingKeyFile } from "./signing_key.ts";

Deno.test("the signing key is made once per folder, kept private, and loads the same after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "signing-key-" });
  try {
    const first = await loadSigningKey(join(dir, "auth"));
    assert.equal(first.alg, "ES256");
    assert.match(first.kid, /^[0-9a-f-]{36}$/);
    const stat = await Deno.stat(join(dir, "auth", signingKeyFile));
    assert.equal((stat.mode ?? 0) & 0o777, 0o600);

    const token = await new SignJWT({ sub: "u" })
      .setProtectedHeader({ alg: "ES256", kid: first.kid })
      .sign(first.privateKey);
    const again = await loadSigningKey(join(dir, "auth"));
    assert.equal(again.kid, first.kid);
    assert.deepEqual(again.publicJwk, first.publicJwk);
    // A token signed before the "restart" verifies with the reloaded public key.
    await jwtVerify(token, await importJWK(again.publicJwk, "ES256"));

    const [jwk] = publicJwks(again).keys;
    assert.equal(jwk.d, undefined);
    assert.deepEqual(
      { kty: jwk.kty, crv: jwk.crv, alg: jwk.alg, use: jwk.use, kid: jwk.kid },
      { kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid: first.kid },
    );
    const elsewhere = await loadSigningKey(join(dir, "other"));
    assert.notEqual(elsewhere.kid, first.kid);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a key file that is not an ES256 private JWK is refused by name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "signing-key-" });
  try {
    await Deno.writeTextFile(join(dir, signingKeyFile), JSON.stringify({ kty: "oct", k: "eA" }));
    await assert.rejects(loadSigningKey(dir), /not an ES256 private JWK/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
