// User tokens as hosted issues them, end to end on the test stack: supabase-js signs in
// against the Auth stand-in, the token is ES256 with the stack's kid and carries the hook's
// tenant claims, a function's user routes accept it, refresh tokens rotate, and tokens
// from any other key are refused.
import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from "jose";
import { seedUserPassword } from "../stack/keys.ts";
import { connect, env, supabaseClient } from "./testing.ts";

const ownerA = { id: "00000000-0000-0000-0000-0000000000a1", email: "owner.a@example.com" };
const tenantA = "00000000-0000-0000-0000-00000000000a";
const tenantB = "00000000-0000-0000-0000-00000000000b";

async function signIn(email: string, password = seedUserPassword) {
  const client = supabaseClient();
  const { data, error } = await client.auth.signInWithPassword({ email, password });
  assert.equal(error, null, `sign-in of ${email}: ${error?.message}`);
  assert.ok(data.session);
  return { client, session: data.session, user: data.user };
}

/** GET /functions/v1/drift-monitor: a user route answering the caller's tenant. */
function driftLatest(token: string) {
  return fetch(`${env.apiUrl}/functions/v1/drift-monitor`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

Deno.test("signInWithPassword: an ES256 token with the stack's kid, GoTrue's claims and the hook's tenant", async () => {
  const { client, session, user } = await signIn(ownerA.email);
  assert.equal(user.id, ownerA.id);
  assert.equal(user.email, ownerA.email);
  assert.equal(session.token_type, "bearer");
  assert.ok(session.expires_in > 3500 && session.expires_in <= 3600, String(session.expires_in));
  assert.match(session.refresh_token, /^[a-z2-7]{12}$/);

  const header = decodeProtectedHeader(session.access_token);
  assert.equal(header.alg, "ES256");
  assert.equal(header.kid, env.jwks.keys[0].kid);
  const claims = decodeJwt(session.access_token);
  assert.equal(claims.iss, `${env.apiUrl}/auth/v1`);
  assert.equal(claims.sub, ownerA.id);
  assert.equal(claims.aud, "authenticated");
  assert.equal(claims.role, "authenticated");
  assert.equal(claims.email, ownerA.email);
  assert.equal(claims.phone, "");
  assert.equal(claims.aal, "aal1");
  assert.equal(claims.is_anonymous, false);
  assert.equal(claims.exp, session.expires_at);
  assert.deepEqual((claims.amr as Array<{ method: string }>).map((a) => a.method), ["password"]);
  assert.match(String(claims.session_id), /^[0-9a-f-]{36}$/);
  assert.deepEqual(claims.user_metadata, { name: "Ada Owner" });
  assert.equal(claims.tenant_id, tenantA);
  assert.equal(claims.tenant_role, "owner");

  // supabase-js checks the signature itself against the JWKS endpoint.
  const verified = await client.auth.getClaims();
  assert.equal(verified.error, null, verified.error?.message);
  assert.equal(verified.data?.claims.tenant_id, tenantA);
  const got = await client.auth.getUser();
  assert.equal(got.error, null, got.error?.message);
  assert.equal(got.data.user?.id, ownerA.id);
  assert.ok(got.data.user?.last_sign_in_at);
});

Deno.test("the hook's tenant choice: none for a user without tenant, app_metadata's for a user in two", async () => {
  const loner = decodeJwt((await signIn("no.tenant@example.com")).session.access_token);
  assert.equal(loner.tenant_id, undefined);
  assert.equal(loner.tenant_role, undefined);
  const both = decodeJwt((await signIn("both@example.com")).session.access_token);
  assert.equal(both.tenant_id, tenantB);
  assert.equal(both.tenant_role, "member");
});

Deno.test("a function's user routes accept the signed-in user's token", async () => {
  const { session } = await signIn(ownerA.email);
  const res = await driftLatest(session.access_token);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.tenant_id, tenantA);

  const search = await fetch(`${env.apiUrl}/functions/v1/embedding-reindexer/search`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${session.access_token}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ query: "refund request", k: 1 }),
  });
  const found = await search.json();
  assert.equal(search.status, 200, JSON.stringify(found));
  assert.ok(Array.isArray(found.results));
});

Deno.test("refreshSession rotates; a replaced token past the reuse interval is refused and ends the session", async () => {
  const { client, session } = await signIn(ownerA.email);
  const first = session.refresh_token;
  const r1 = await client.auth.refreshSession();
  assert.equal(r1.error, null, r1.error?.message);
  const second = r1.data.session!.refresh_token;
  assert.notEqual(second, first);
  assert.equal(
    decodeJwt(r1.data.session!.access_token).session_id,
    decodeJwt(session.access_token).session_id,
  );
  assert.equal((await driftLatest(r1.data.session!.access_token)).status, 200);

  // Replaying the replaced token at once hands back the current one, as GoTrue does for a
  // client that lost the refresh answer (no new token is minted).
  const replay = await supabaseClient().auth.refreshSession({ refresh_token: first });
  assert.equal(replay.error, null, replay.error?.message);
  assert.equal(replay.data.session!.refresh_token, second);

  const r2 = await client.auth.refreshSession();
  assert.equal(r2.error, null, r2.error?.message);
  const third = r2.data.session!.refresh_token;
  assert.notEqual(third, second);

  // The first token is no longer the current one's parent; once its reuse interval has
  // passed (moved back here rather than waited for) it is refused, and the session's
  // tokens are revoked with it.
  const admin = connect(env.adminUrl, { max: 1 });
  try {
    await admin`
      update auth.refresh_tokens set updated_at = updated_at - interval '1 hour'
       where token = ${first}`;
    const [row] = await admin`select revoked from auth.refresh_tokens where token = ${third}`;
    assert.equal(row.revoked, false);
  } finally {
    await admin.end();
  }
  const reused = await supabaseClient().auth.refreshSession({ refresh_token: first });
  assert.equal(reused.data.session, null);
  assert.equal(reused.error?.status, 400);
  assert.equal(reused.error?.code, "refresh_token_already_used");
  assert.equal(reused.error?.message, "Invalid Refresh Token: Already Used");
  const admin2 = connect(env.adminUrl, { max: 1 });
  try {
    const rows = await admin2`
      select token, revoked from auth.refresh_tokens
       where session_id = ${String(decodeJwt(session.access_token).session_id)}`;
    assert.ok(rows.length >= 3);
    assert.ok(rows.every((r) => r.revoked), JSON.stringify(rows));
  } finally {
    await admin2.end();
  }
});

Deno.test("a wrong password or an unknown email gets GoTrue's 400 invalid_credentials", async () => {
  const client = supabaseClient();
  for (const [email, password] of [[ownerA.email, "wrong"], ["nobody@example.com", "x"]]) {
    const { data, error } = await client.auth.signInWithPassword({ email, password });
    assert.equal(data.session, null);
    assert.equal(error?.status, 400);
    assert.equal(error?.code, "invalid_credentials");
    assert.equal(error?.message, "Invalid login credentials");
  }
  // On the wire, both of GoTrue's error shapes, chosen by the API version header.
  const post = (headers: Record<string, string>) =>
    fetch(`${env.apiUrl}/auth/v1/token?grant_type=password`, {
      method: "POST",
      headers: { apikey: env.anonKey, "content-type": "application/json", ...headers },
      body: JSON.stringify({ email: ownerA.email, password: "wrong" }),
    });
  const legacy = await post({});
  assert.equal(legacy.status, 400);
  assert.deepEqual(await legacy.json(), {
    code: 400,
    error_code: "invalid_credentials",
    msg: "Invalid login credentials",
  });
  const v2024 = await post({ "x-supabase-api-version": "2024-01-01" });
  assert.equal(v2024.headers.get("x-supabase-api-version"), "2024-01-01");
  assert.deepEqual(await v2024.json(), {
    code: "invalid_credentials",
    message: "Invalid login credentials",
  });
});

Deno.test("signOut ends the session: getUser and the refresh token are refused", async () => {
  const { client, session } = await signIn("member.a@example.com");
  const { error } = await client.auth.signOut();
  assert.equal(error, null, error?.message);
  const other = supabaseClient();
  const user = await other.auth.getUser(session.access_token);
  assert.equal(user.data.user, null);
  assert.equal(user.error?.name, "AuthSessionMissingError");
  const refreshed = await other.auth.refreshSession({ refresh_token: session.refresh_token });
  assert.equal(refreshed.error?.code, "refresh_token_not_found");
});

Deno.test("a token signed by another key is refused by a function with 401 JSON", async () => {
  const { session } = await signIn(ownerA.email);
  const claims = decodeJwt(session.access_token);
  const { privateKey } = await generateKeyPair("ES256");
  const kid = env.jwks.keys[0].kid;
  const forgeries = {
    "another key, the stack's kid": await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" }).sign(privateKey),
    "another key, its own kid": await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: crypto.randomUUID(), typ: "JWT" })
      .sign(privateKey),
    "alg none": `${btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "")}.${
      session.access_token.split(".")[1]
    }.`,
  };
  for (const [name, token] of Object.entries(forgeries)) {
    const res = await driftLatest(token);
    assert.equal(res.status, 401, name);
    assert.match(res.headers.get("content-type") ?? "", /json/, name);
    const body = await res.json();
    assert.equal(body.error.code, "unauthorized", name);
    assert.match(body.error.message, /invalid JWT/, name);
  }
});

Deno.test("the Auth stand-in's own refusals: no API key, unknown routes, bad bodies", async () => {
  const auth = `${env.apiUrl}/auth/v1`;
  const noKey = await fetch(`${auth}/token?grant_type=password`, { method: "POST", body: "{}" });
  assert.equal(noKey.status, 401);
  assert.equal((await noKey.json()).message, "No API key found in request");

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${auth}${path}`, {
      ...init,
      headers: {
        apikey: env.anonKey,
        "x-supabase-api-version": "2024-01-01",
        "content-type": "application/json",
        ...init.headers,
      },
    });
  const expect = async (res: Response, status: number, code: string, message: RegExp) => {
    const body = await res.json();
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.code ?? body.error, code, JSON.stringify(body));
    assert.match(body.message ?? body.error_description, message);
  };
  await expect(await call("/signup", { method: "POST", body: "{}" }), 404, "not_found", /\/signup/);
  await expect(await call("/token"), 405, "method_not_allowed", /POST/);
  await expect(
    await call("/token?grant_type=magic", { method: "POST", body: "{}" }),
    400,
    "invalid_credentials",
    /unsupported_grant_type/,
  );
  await expect(
    await call("/token?grant_type=password", { method: "POST", body: "{nope" }),
    400,
    "bad_json",
    /Could not parse request body as JSON/,
  );
  await expect(
    await call("/token?grant_type=password", { method: "POST", body: '{"email": 5}' }),
    400,
    "bad_json",
    /email must be a string/,
  );
  await expect(
    await call("/token?grant_type=refresh_token", { method: "POST", body: "{}" }),
    400,
    "invalid_request",
    /refresh_token required/,
  );
  await expect(await call("/user"), 401, "no_authorization", /Bearer token/);
  await expect(
    await call("/user", { headers: { authorization: `Bearer ${env.anonKey}` } }),
    403,
    "bad_jwt",
    /missing sub claim/,
  );

  const jwks = await fetch(`${auth}/.well-known/jwks.json`);
  assert.equal(jwks.status, 200);
  const set = await jwks.json();
  assert.deepEqual(set, env.jwks);
  assert.equal(set.keys[0].d, undefined);
});
