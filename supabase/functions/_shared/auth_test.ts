import assert from "node:assert/strict";
import { SignJWT } from "jose";
import {
  constantTimeEqual,
  requireServiceCaller,
  requireTenantUser,
  resetAuthCache,
  verifyUserJwt,
} from "./auth.ts";
import { HttpError } from "./errors.ts";

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
  assert.ok(err instanceof HttpError, `expected an HttpError, got ${err}`);
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
