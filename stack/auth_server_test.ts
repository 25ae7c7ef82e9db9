// The Auth stand-in in-process on a scratch database, where each test may shape the users,
// the hook and the [auth] settings (tests/user_tokens_test.ts drives the stack's own one
// through supabase-js).
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { type AuthConfig, readAuthConfig, startAuthServer } from "./auth_server.ts";
import { anonKey, jwtSecret } from "./keys.ts";
import { loadSigningKey } from "./signing_key.ts";
import { connect, scratchDatabase } from "../tests/testing.ts";

const db = await scratchDatabase();
const admin = connect(db.adminUrl, { max: 2 });
const keyDir = await Deno.makeTempDir({ prefix: "auth-server-" });
const signingKey = await loadSigningKey(keyDir);
const password = "correct horse";

const defaults: AuthConfig = {
  jwtExpiry: 3600,
  refreshTokenReuseInterval: 10,
  refreshTokenRotation: true,
  accessTokenHook: null,
};

async function server(config: Partial<AuthConfig> = {}) {
  return await startAuthServer({
    dbUrl: db.adminUrl,
    apiUrl: "http://127.0.0.1:1",
    signingKey,
    legacySecret: jwtSecret,
    apiKeys: [anonKey],
    config: { ...defaults, ...config },
    log: () => {},
  });
}

const hook = (name: string) => ({
  uri: `pg-functions://postgres/public/${name}`,
  schema: "public",
  name,
});

async function user(fields: Record<string, unknown> = {}): Promise<string> {
  const id = crypto.randomUUID();
  const row = {
    id,
    aud: "authenticated",
    role: "authenticated",
    email: `${id}@example.com`,
    email_confirmed_at: new Date(),
    raw_app_meta_data: { provider: "email" },
    raw_user_meta_data: {},
    ...fields,
  };
  await admin`insert into auth.users ${admin(row)}`;
  if (!("encrypted_password" in fields)) {
    await admin`
      update auth.users set encrypted_password = extensions.crypt(${password}, extensions.gen_salt('bf', 4))
       where id = ${id}`;
  }
  return id;
}

type Handle = (req: Request) => Promise<Response>;

function call(handle: Handle, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return handle(
    new Request(`http://127.0.0.1:1/auth/v1${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        apikey: anonKey,
        "x-supabase-api-version": "2024-01-01",
        "content-type": "application/json",
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

async function signIn(handle: Handle, userId: string, pw = password) {
  const res = await call(handle, "/token?grant_type=password", {
    email: `${userId}@example.com`,
    password: pw,
  });
  return { status: res.status, body: await res.json() };
}

async function refresh(handle: Handle, token: string) {
  const res = await call(handle, "/token?grant_type=refresh_token", { refresh_token: token });
  return { status: res.status, body: await res.json() };
}

// Hooks: one only supabase_auth_admin may run (reporting who ran it), one it may not, one
// answering a hook error, one dropping required claims.
await admin.unsafe(`
  create function public.hook_whoami(event jsonb) returns jsonb language sql as $$
    select jsonb_build_object('claims', (event -> 'claims') || jsonb_build_object('ran_as', current_user::text))
  $$;
  revoke execute on function public.hook_whoami(jsonb) from public;
  grant usage on schema public to supabase_auth_admin;
  grant execute on function public.hook_whoami(jsonb) to supabase_auth_admin;
  create function public.hook_not_granted(event jsonb) returns jsonb language sql as $$ select event $$;
  revoke execute on function public.hook_not_granted(jsonb) from public;
  create function public.hook_refuses(event jsonb) returns jsonb language sql as $$
    select '{"error": {"http_code": 403, "message": "not during maintenance"}}'::jsonb
  $$;
  create function public.hook_drops_claims(event jsonb) returns jsonb language sql as $$
    select jsonb_build_object('claims', (event -> 'claims') - 'session_id' - 'email')
  $$;
`);

Deno.test("readAuthConfig: the CLI's defaults, [auth] values, and a hook only as pg-functions://", async () => {
  const dir = await Deno.makeTempDir({ prefix: "auth-config-" });
  try {
    const file = join(dir, "config.toml");
    assert.deepEqual(readAuthConfig(file), defaults);
    await Deno.writeTextFile(
      file,
      `[auth]\njwt_expiry = 600\nrefresh_token_reuse_interval = 0\nenable_refresh_token_rotation = false\n` +
        `[auth.hook.custom_access_token]\nenabled = true\nuri = "pg-functions://postgres/public/h"\n`,
    );
    assert.deepEqual(readAuthConfig(file), {
      jwtExpiry: 600,
      refreshTokenReuseInterval: 0,
      refreshTokenRotation: false,
      accessTokenHook: hook("h"),
    });
    await Deno.writeTextFile(
      file,
      `[auth.hook.custom_access_token]\nenabled = true\nuri = "https://example.com/hook"\n`,
    );
    assert.throws(() => readAuthConfig(file), /pg-functions:\/\/postgres\/<schema>\/<function>/);
    await Deno.writeTextFile(
      file,
      `[auth.hook.custom_access_token]\nenabled = false\nuri = "https://example.com/hook"\n`,
    );
    assert.equal(readAuthConfig(file).accessTokenHook, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the hook runs as supabase_auth_admin: its grant decides, not the server's superuser", async () => {
  const id = await user();
  const ok = await server({ accessTokenHook: hook("hook_whoami") });
  const denied = await server({ accessTokenHook: hook("hook_not_granted") });
  try {
    const good = await signIn(ok.handle, id);
    assert.equal(good.status, 200, JSON.stringify(good.body));
    assert.equal(decodeJwt(good.body.access_token).ran_as, "supabase_auth_admin");
    const bad = await signIn(denied.handle, id);
    assert.equal(bad.status, 500);
    assert.equal(bad.body.code, "unexpected_failure");
    assert.match(bad.body.message, /Error running hook URI: .*hook_not_granted: permission denied/);
    // The failed sign-in left no session behind (the hook runs in the issuing transaction).
    const [{ n }] = await admin`select count(*)::int as n from auth.sessions where user_id = ${id}`;
    assert.equal(n, 1);
  } finally {
    await ok.stop();
    await denied.stop();
  }
});

Deno.test("a hook's error object and claims missing what GoTrue requires fail the sign-in", async () => {
  const id = await user();
  const refuses = await server({ accessTokenHook: hook("hook_refuses") });
  const drops = await server({ accessTokenHook: hook("hook_drops_claims") });
  const none = await server();
  try {
    const r = await signIn(refuses.handle, id);
    assert.equal(r.status, 403);
    assert.equal(r.body.message, "not during maintenance");
    const d = await signIn(drops.handle, id);
    assert.equal(d.status, 500);
    assert.match(d.body.message, /do not conform.*\n- email: .*\n- session_id: /s);
    // No hook configured: GoTrue's claims as they are.
    const n = await signIn(none.handle, id);
    assert.equal(n.status, 200);
    assert.equal(decodeJwt(n.body.access_token).ran_as, undefined);
  } finally {
    await Promise.all([refuses.stop(), drops.stop(), none.stop()]);
  }
});

Deno.test("password grant refusals in GoTrue's order: banned, wrong password, unconfirmed, no bcrypt", async () => {
  const s = await server();
  try {
    const banned = await user({ banned_until: new Date(Date.now() + 3_600_000) });
    assert.deepEqual((await signIn(s.handle, banned, "wrong")).body, {
      code: "user_banned",
      message: "User is banned",
    });
    const unconfirmed = await user({ email_confirmed_at: null });
    assert.equal((await signIn(s.handle, unconfirmed, "wrong")).body.code, "invalid_credentials");
    assert.equal((await signIn(s.handle, unconfirmed)).body.code, "email_not_confirmed");
    const plain = await user({ encrypted_password: password });
    assert.equal((await signIn(s.handle, plain)).body.code, "invalid_credentials");
    // Other tools write bcrypt as $2b$ or $2y$ (same hash for passwords this short).
    for (const variant of ["$2b$", "$2y$"]) {
      const [{ hash }] =
        await admin`select extensions.crypt(${password}, extensions.gen_salt('bf', 4)) as hash`;
      const other = await user({ encrypted_password: hash.replace("$2a$", variant) });
      assert.equal((await signIn(s.handle, other)).status, 200, variant);
    }
    const noPassword = await user({ encrypted_password: null });
    assert.equal((await signIn(s.handle, noPassword, "")).body.code, "invalid_credentials");
    // Email matches case-insensitively, as GoTrue lowercases it.
    const mixed = await user();
    const res = await call(s.handle, "/token?grant_type=password", {
      email: `${mixed.toUpperCase()}@EXAMPLE.COM`,
      password,
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const phone = await call(s.handle, "/token?grant_type=password", { phone: "+1555", password });
    assert.equal(phone.status, 422);
    assert.equal((await phone.json()).code, "phone_provider_disabled");
  } finally {
    await s.stop();
  }
});

Deno.test("reuse interval 0: a replaced token that is not the current one's parent is refused at once", async () => {
  const strict = await server({ refreshTokenReuseInterval: 0 });
  const lenient = await server({ refreshTokenReuseInterval: 0, refreshTokenRotation: false });
  try {
    for (const [s, familyRevoked] of [[strict, true], [lenient, false]] as const) {
      const id = await user();
      const a = (await signIn(s.handle, id)).body.refresh_token;
      const b = (await refresh(s.handle, a)).body.refresh_token;
      // Its parent gets the current token back even with no interval.
      assert.equal((await refresh(s.handle, a)).body.refresh_token, b);
      const c = (await refresh(s.handle, b)).body.refresh_token;
      const reused = await refresh(s.handle, a);
      assert.equal(reused.status, 400);
      assert.equal(reused.body.code, "refresh_token_already_used");
      const [row] = await admin`select revoked from auth.refresh_tokens where token = ${c}`;
      assert.equal(row.revoked, familyRevoked);
    }
  } finally {
    await strict.stop();
    await lenient.stop();
  }
});

Deno.test("concurrent refreshes of one token mint one child; the others get it back", async () => {
  const s = await server();
  try {
    const a = (await signIn(s.handle, await user())).body.refresh_token;
    const results = await Promise.all(Array.from({ length: 4 }, () => refresh(s.handle, a)));
    assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.map((r) => r.body)));
    assert.equal(new Set(results.map((r) => r.body.refresh_token)).size, 1);
    const [{ n }] =
      await admin`select count(*)::int as n from auth.refresh_tokens where parent = ${a}`;
    assert.equal(n, 1);
  } finally {
    await s.stop();
  }
});

Deno.test("logout scopes: local ends this session, others the rest, global all", async () => {
  const s = await server();
  try {
    const id = await user();
    const sessions = async () =>
      (await admin`select id::text from auth.sessions where user_id = ${id} order by created_at`)
        .map((r) => r.id);
    const tokens = [];
    for (let i = 0; i < 3; i++) tokens.push((await signIn(s.handle, id)).body.access_token);
    const sid = (t: string) => String(decodeJwt(t).session_id);
    const out = (t: string, scope: string) =>
      call(s.handle, `/logout?scope=${scope}`, {}, { authorization: `Bearer ${t}` });
    assert.equal((await out(tokens[0], "local")).status, 204);
    assert.deepEqual(await sessions(), [sid(tokens[1]), sid(tokens[2])]);
    assert.equal((await out(tokens[1], "others")).status, 204);
    assert.deepEqual(await sessions(), [sid(tokens[1])]);
    const bad = await out(tokens[1], "everywhere");
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).message, /Unsupported logout scope "everywhere"/);
    assert.equal((await out(tokens[1], "global")).status, 204);
    assert.deepEqual(await sessions(), []);
    // A token of an ended session is refused by /user.
    const me = await call(s.handle, "/user", undefined, { authorization: `Bearer ${tokens[1]}` });
    assert.equal(me.status, 403);
    assert.equal((await me.json()).code, "session_not_found");
  } finally {
    await s.stop();
  }
});

Deno.test("on start the stand-in brings a cluster from before its tables up to date", async () => {
  await admin.unsafe(`
    drop table auth.refresh_tokens, auth.mfa_amr_claims, auth.sessions;
    alter table auth.users drop column confirmed_at, drop column phone, drop column last_sign_in_at;
  `);
  const s = await server();
  try {
    const signed = await signIn(s.handle, await user());
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
  } finally {
    await s.stop();
  }
});

Deno.test({
  name: "auth server tests: drop the scratch database",
  fn: async () => {
    await admin.end();
    await db.drop();
    await Deno.remove(keyDir, { recursive: true });
  },
  sanitizeOps: false,
  sanitizeResources: false,
});
