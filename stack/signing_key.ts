// The stack's JWT signing key: an ES256 key pair with a kid, as hosted Auth signs user tokens
// with on new projects. Generated once per stack folder and kept there, so tokens issued
// before a restart still verify after it. Only the public part ever leaves this module's
// callers (the JWKS endpoint, SUPABASE_JWKS).
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { join } from "node:path";

export interface SigningKey {
  kid: string;
  alg: "ES256";
  privateKey: CryptoKey;
  /** The public JWK as a JWKS lists it (kid, alg, use, key_ops). */
  publicJwk: JWK;
}

export const signingKeyFile = "jwt_signing_key.json";

function publicPart(jwk: JWK, kid: string): JWK {
  const { kty, crv, x, y } = jwk;
  return { kty, crv, x, y, kid, alg: "ES256", use: "sig", key_ops: ["verify"], ext: true };
}

async function fromFile(path: string): Promise<SigningKey | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  const jwk = JSON.parse(text) as JWK;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.d || !jwk.kid) {
    throw new Error(`${path} is not an ES256 private JWK with a kid; remove it to get a new key`);
  }
  const privateKey = await importJWK(jwk, "ES256") as CryptoKey;
  return { kid: jwk.kid, alg: "ES256", privateKey, publicJwk: publicPart(jwk, jwk.kid) };
}

/** The key kept in `dir`, created (mode 0600) when there is none yet. */
export async function loadSigningKey(dir: string): Promise<SigningKey> {
  const path = join(dir, signingKeyFile);
  const existing = await fromFile(path);
  if (existing) return existing;
  await Deno.mkdir(dir, { recursive: true });
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = crypto.randomUUID();
  const jwk = { ...await exportJWK(privateKey), kid, alg: "ES256" };
  // Written whole under another name, then renamed: a crash never leaves half a key.
  const tmp = `${path}.${kid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(jwk, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(tmp, path);
  return (await fromFile(path))!;
}

/** The public key set, as `GET /auth/v1/.well-known/jwks.json` and SUPABASE_JWKS carry it. */
export function publicJwks(key: SigningKey): { keys: JWK[] } {
  return { keys: [key.publicJwk] };
}
