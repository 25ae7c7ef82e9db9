// JWT verification against the keys Supabase Auth signs with: asymmetric keys from a JWKS,
// chosen by the token's `kid`, and the legacy HS256 secret for HS256 tokens. Each key
// verifies exactly one algorithm, fixed by the key (its JWK `alg`, else its type), never by
// the token: `alg: none`, HS512, or HS256 "signed" with a public key get nowhere.
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from "jose";

export interface JwtKeys {
  /** A key set (SUPABASE_JWKS): public keys only. */
  jwks?: { keys: JWK[] };
  /** Where to fetch the key set instead (the auth server's /.well-known/jwks.json). */
  jwksUrl?: URL;
  /** The legacy symmetric secret (SUPABASE_JWT_SECRET); verifies HS256 tokens only. */
  secret?: string;
}

export interface VerifyOptions {
  audience?: string;
  /** Claims that must be present, e.g. ["exp", "sub"]. */
  requiredClaims?: string[];
}

export type JwtVerifier = (token: string, opts?: VerifyOptions) => Promise<JWTPayload>;

const asymmetric = new Set([
  "ES256",
  "ES384",
  "ES512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "EdDSA",
  "Ed25519",
]);

/**
 * The one algorithm a JWK verifies: its `alg` when set, else by type (EC P-256 → ES256,
 * RSA → RS256, what Supabase Auth issues). Null for keys that must not verify anything
 * here: symmetric (`oct`) keys, encryption keys, unknown types.
 */
export function keyAlgorithm(jwk: JWK): string | null {
  if (jwk.kty === "oct") return null;
  if (jwk.use !== undefined && jwk.use !== "sig") return null;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes("verify")) return null;
  if (jwk.alg !== undefined) return asymmetric.has(jwk.alg) ? jwk.alg : null;
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  if (jwk.kty === "RSA") return "RS256";
  return null;
}

/** Reads a key set from JSON (SUPABASE_JWKS); throws naming what is wrong. */
export function parseJwks(text: string): { keys: JWK[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error("the key set is not JSON");
  }
  const keys = (value as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== "object" || k === null)) {
    throw new Error('the key set is not {"keys": [JWK, …]}');
  }
  for (const k of keys as JWK[]) {
    if ("d" in k || k.kty === "oct") {
      throw new Error(`the key set holds a private or symmetric key (kid ${k.kid ?? "none"})`);
    }
  }
  return { keys: keys as JWK[] };
}

export function createJwtVerifier(keys: JwtKeys): JwtVerifier {
  const secret = keys.secret ? new TextEncoder().encode(keys.secret) : null;
  const remote = keys.jwksUrl ? createRemoteJWKSet(keys.jwksUrl) : null;
  const imported = new Map<string, Promise<CryptoKey>>();

  async function findJwk(kid: string): Promise<JWK | undefined> {
    const local = keys.jwks?.keys.find((k) => k.kid === kid);
    if (local || !remote) return local;
    if (!remote.fresh) await remote.reload();
    let jwk = remote.jwks()?.keys.find((k) => k.kid === kid);
    // A kid not seen yet may be a rotated-in key: fetch again, at most once per cooldown.
    if (!jwk && !remote.coolingDown) {
      await remote.reload();
      jwk = remote.jwks()?.keys.find((k) => k.kid === kid);
    }
    return jwk;
  }

  function importKey(jwk: JWK, alg: string): Promise<CryptoKey> {
    const id = `${jwk.kid}\n${alg}\n${jwk.x ?? jwk.n}`;
    let key = imported.get(id);
    if (!key) {
      key = importJWK(jwk, alg) as Promise<CryptoKey>;
      imported.set(id, key);
    }
    return key;
  }

  return async (token, opts = {}) => {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new Error("the token is not a JWT");
    }
    const alg = header.alg;
    if (!alg || alg === "none") throw new Error(`alg "${alg ?? ""}" is not accepted`);
    const kid = typeof header.kid === "string" ? header.kid : undefined;
    const jwk = kid ? await findJwk(kid) : undefined;
    let key: CryptoKey | Uint8Array;
    let pinned: string;
    if (jwk) {
      const keyAlg = keyAlgorithm(jwk);
      if (!keyAlg) throw new Error(`the key with kid ${kid} does not verify signatures`);
      if (alg !== keyAlg) {
        throw new Error(`the key with kid ${kid} verifies ${keyAlg}, the token says ${alg}`);
      }
      key = await importKey(jwk, keyAlg);
      pinned = keyAlg;
    } else if (alg === "HS256" && secret) {
      // Legacy tokens may carry a kid of the secret, which no public key set lists.
      key = secret;
      pinned = "HS256";
    } else if (kid) {
      throw new Error(`no signing key with kid ${kid}`);
    } else {
      throw new Error(
        secret
          ? `alg ${alg} without a kid: only HS256 (the legacy secret) is accepted without one`
          : `alg ${alg} without a kid, and no legacy secret is configured`,
      );
    }
    const { payload } = await jwtVerify(token, key, {
      algorithms: [pinned],
      audience: opts.audience,
      requiredClaims: opts.requiredClaims,
    });
    return payload;
  };
}
