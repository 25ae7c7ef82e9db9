// The tenant channels end to end, with the real supabase-js client and its defaults (protocol
// 2.0.0) against the stack's Realtime stand-in: users sign in for ES256 tokens, join private
// channels, and receive what the database publishes after commit. Who may join is the
// policy on realtime.messages, run as the joining user; nobody may send.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient, type RealtimeChannel, type SupabaseClient } from "@supabase/supabase-js";
import { decodeJwt, SignJWT } from "jose";
import { seedUserPassword } from "../stack/keys.ts";
import { loadSigningKey } from "../stack/signing_key.ts";
import {
  drain,
  enqueue,
  env,
  LIST,
  makeTenant,
  makeUser,
  need,
  sleep,
  supabaseClient,
  testDb,
} from "./testing.ts";

const sql = testDb();

interface Received {
  event: string;
  payload: Record<string, unknown>;
  meta?: { id?: string };
}

interface Listening {
  channel: RealtimeChannel;
  messages: Received[];
  system: Array<{ status: string; message: string }>;
  statuses: string[];
  /** The first status: SUBSCRIBED, CHANNEL_ERROR (with its error) or TIMED_OUT. */
  joined: Promise<{ status: string; error?: Error }>;
}

const clients: SupabaseClient[] = [];

async function signIn(email: string): Promise<SupabaseClient> {
  const client = supabaseClient();
  clients.push(client);
  const { error } = await client.auth.signInWithPassword({ email, password: seedUserPassword });
  assert.equal(error, null, `sign-in of ${email}: ${error?.message}`);
  return client;
}

function listen(
  client: SupabaseClient,
  topic: string,
  config: { private?: boolean; broadcast?: { ack?: boolean; self?: boolean } } = {
    private: true,
  },
): Listening {
  const messages: Received[] = [];
  const system: Listening["system"] = [];
  const statuses: string[] = [];
  const channel = client.channel(topic, { config });
  channel.on("broadcast", { event: "*" }, (m) => messages.push(m as unknown as Received));
  channel.on("system", {}, (p) => system.push(p));
  const joined = new Promise<{ status: string; error?: Error }>((resolve) => {
    channel.subscribe((status, error) => {
      statuses.push(status);
      resolve({ status, error });
    }, 20_000);
  });
  return { channel, messages, system, statuses, joined };
}

async function subscribed(l: Listening) {
  const r = await l.joined;
  assert.equal(r.status, "SUBSCRIBED", `join: ${r.status} ${r.error?.message ?? ""}`);
}

/** Waits (generously) for a message matching `pred`. */
async function waitFor(
  l: Listening,
  pred: (m: Received) => boolean,
  what: string,
  ms = 15_000,
): Promise<Received> {
  const until = Date.now() + ms;
  for (;;) {
    const m = l.messages.find(pred);
    if (m) return m;
    if (Date.now() > until) {
      throw new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(l.messages)}`);
    }
    await sleep(50);
  }
}

async function until(check: () => boolean, what: string, ms = 15_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not ${what} within ${ms} ms`);
    await sleep(50);
  }
}

type Envelope = { id: string; status: string; previous_status: string | null };
const envelopes = (m: Received) => (m.payload.envelopes ?? []) as Envelope[];
const hasEnvelope = (id: string, status: string) => (m: Received) =>
  m.event === "envelopes" && envelopes(m).some((e) => e.id === id && e.status === status);

async function closeAll() {
  for (const c of clients.splice(0)) {
    await c.removeAllChannels();
    await c.realtime.disconnect();
  }
}

/** A tenant of its own with an owner and a member who can sign in. */
async function tenantWithUsers() {
  const tenant = await makeTenant(sql);
  const owner = await makeUser(sql, tenant, "owner");
  const member = await makeUser(sql, tenant, "member");
  return { tenant, owner, member };
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({
    name: `realtime: ${name}`,
    fn: async () => {
      try {
        await fn();
      } finally {
        await closeAll();
      }
    },
  });

test("a member receives the tenant's events after an enqueue, a drain and an approval, with no arguments in them", async () => {
  const { tenant, member } = await tenantWithUsers();
  const client = await signIn(member.email);
  const outbox = listen(client, `outbox:${tenant}`);
  const approvals = listen(client, `approvals:${tenant}`);
  await subscribed(outbox);
  await subscribed(approvals);

  const marker = `s3cr3t-${crypto.randomUUID()}`;
  const write = await enqueue(sql, tenant, "GITHUB_CREATE_ISSUE", {
    owner: "acme",
    repo: "support",
    title: marker,
  });
  const risky = await enqueue(sql, tenant, "GITHUB_DELETE_REPOSITORY", { ...LIST, note: marker });
  const inserted = await waitFor(outbox, hasEnvelope(write, "pending"), "insert event");
  assert.equal(inserted.payload.tenant_id, tenant);
  assert.equal(inserted.payload.op, "insert");
  assert.match(String(inserted.meta?.id), /^[0-9a-f-]{36}$/, "the message id travels as meta");
  const depth = await waitFor(outbox, (m) => m.event === "queue_depth", "queue depth");
  assert.equal(typeof (depth.payload.depth as Record<string, number>).pending, "number");

  const drained = await drain({ tenant_id: tenant });
  assert.equal(drained.status, 200, JSON.stringify(drained.json));
  await waitFor(outbox, hasEnvelope(write, "running"), "claim event");
  const done = await waitFor(outbox, hasEnvelope(write, "succeeded"), "settle event");
  assert.equal(envelopes(done).find((e) => e.id === write)?.previous_status, "running");
  await waitFor(outbox, hasEnvelope(risky, "needs_approval"), "needs_approval event");
  const requested = await waitFor(
    approvals,
    (m) => m.event === "approval_requested" && envelopes(m).some((e) => e.id === risky),
    "approval request",
  );
  assert.deepEqual(Object.keys(envelopes(requested)[0]).sort(), ["id", "tool_slug"]);

  await sql`select public.approve_envelope(${risky}::uuid, ${marker})`;
  const decided = await waitFor(approvals, (m) => m.event === "approval_decided", "decision");
  const [approval] = decided.payload.approvals as Array<Record<string, unknown>>;
  assert.equal(approval.envelope_id, risky);
  assert.equal(approval.decision, "approved");
  await waitFor(outbox, hasEnvelope(risky, "pending"), "approved envelope back to pending");

  // Ids, statuses, counts, tool slugs: never arguments, reasons or results.
  const all = JSON.stringify([outbox.messages, approvals.messages]);
  assert.ok(!all.includes(marker), "a tool argument or a reason reached a payload");
  assert.ok(!all.includes('"arguments"') && !all.includes('"result"'), all);
});

test("a member of another tenant and anon cannot join the tenant's private channels", async () => {
  const { tenant } = await tenantWithUsers();
  const outsider = listen(await signIn("member.b@example.com"), `outbox:${tenant}`);
  const anonClient = supabaseClient();
  clients.push(anonClient);
  const anon = listen(anonClient, `approvals:${tenant}`);
  for (
    const [who, l, topic] of [
      ["member of B", outsider, `outbox:${tenant}`],
      ["anon", anon, `approvals:${tenant}`],
    ] as const
  ) {
    const r = await l.joined;
    assert.equal(r.status, "CHANNEL_ERROR", `${who}: ${r.status}`);
    assert.equal(
      r.error?.message,
      `Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`,
    );
  }
  // A malformed topic (A's id in upper case) names no tenant: refused, not a server error.
  const member = await signIn("member.a@example.com");
  const malformed = listen(member, "outbox:00000000-0000-0000-0000-00000000000A");
  assert.equal((await malformed.joined).status, "CHANNEL_ERROR");

  // The same topic as a public channel is another channel: nothing published reaches it.
  const publicListener = listen(anonClient, `outbox:${tenant}`, { private: false });
  await subscribed(publicListener);
  const id = await enqueue(sql, tenant, "GITHUB_LIST_ISSUES", LIST);
  await sleep(1500);
  assert.ok(
    !JSON.stringify(publicListener.messages).includes(id),
    "a private event reached a public channel",
  );
});

test("a member's send on a tenant channel is refused and reaches nobody", async () => {
  const { tenant, owner, member } = await tenantWithUsers();
  const sender = listen(await signIn(member.email), `outbox:${tenant}`, {
    private: true,
    broadcast: { ack: true, self: true },
  });
  const other = listen(await signIn(owner.email), `outbox:${tenant}`);
  await subscribed(sender);
  await subscribed(other);
  // As hosted: no write policy, so no relay and no acknowledgement.
  const sent = await sender.channel.send(
    { type: "broadcast", event: "envelopes", payload: { forged: true } },
    { timeout: 3000 },
  );
  assert.equal(sent, "timed out");
  await sleep(500);
  assert.deepEqual(other.messages.filter((m) => m.payload.forged), []);
  assert.deepEqual(sender.messages.filter((m) => m.payload.forged), []);
  const [{ n }] = await sql`
    select count(*)::int as n from realtime.messages
     where topic = ${`outbox:${tenant}`} and payload ? 'forged'`;
  assert.equal(n, 0);
});

test("a rolled-back change publishes nothing", async () => {
  const { tenant, member } = await tenantWithUsers();
  const l = listen(await signIn(member.email), `outbox:${tenant}`);
  await subscribed(l);
  let rolledBack = "";
  await sql.begin(async (tx) => {
    rolledBack = await enqueue(tx as unknown as typeof sql, tenant, "GITHUB_LIST_ISSUES", LIST);
    throw new Error("roll back");
  }).catch((err) => assert.equal(err.message, "roll back"));
  const committed = await enqueue(sql, tenant, "GITHUB_LIST_ISSUES", LIST);
  await waitFor(l, hasEnvelope(committed, "pending"), "the committed envelope");
  // Past the safety-net poll, which would find a committed message the NOTIFY missed.
  await sleep(1500);
  assert.ok(rolledBack);
  assert.ok(!JSON.stringify(l.messages).includes(rolledBack), "a rolled-back insert published");
});

test("guardrail and plan changes reach the activity channel, column names only", async () => {
  const { tenant, member } = await tenantWithUsers();
  const l = listen(await signIn(member.email), `activity:${tenant}`);
  await subscribed(l);
  const url = `https://hooks.example.com/${crypto.randomUUID()}`;
  await sql`update public.guardrails set trust_threshold = 0.8, drift_webhook_url = ${url}
             where tenant_id = ${tenant}`;
  const changed = await waitFor(l, (m) => m.event === "guardrails_changed", "guardrails change");
  assert.deepEqual(changed.payload.changed_columns, ["drift_webhook_url", "trust_threshold"]);
  assert.ok(!JSON.stringify(changed).includes(url));
  await sql`update public.tenants set plan = 'pro' where id = ${tenant}`;
  const plan = await waitFor(l, (m) => m.event === "plan_changed", "plan change");
  assert.deepEqual([plan.payload.plan, plan.payload.previous_plan], ["pro", "enterprise"]);
});

/** A member's token re-signed with the stack's key to expire `inSeconds` from now. */
async function tokenExpiringIn(client: SupabaseClient, inSeconds: number): Promise<string> {
  const { data } = await client.auth.getSession();
  const claims = decodeJwt(data.session!.access_token);
  const key = await loadSigningKey(join(need("STACK_DIR"), "auth"));
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ ...claims, iat: now - 60, exp: now + inSeconds })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .sign(key.privateKey);
}

/** A client handing Realtime `token` (supabase-js' accessToken option, as with third-party auth). */
function clientWithToken(token: string): SupabaseClient {
  const client = createClient(env.apiUrl, env.anonKey, {
    accessToken: () => Promise.resolve(token),
  });
  clients.push(client);
  return client;
}

test("tokens are re-checked: an expired token is dropped, a token of a non-member ends the channel", async () => {
  const { tenant, member } = await tenantWithUsers();
  const signedIn = await signIn(member.email);

  const expired = clientWithToken(await tokenExpiringIn(signedIn, -5));
  await expired.realtime.setAuth();
  const refused = await listen(expired, `outbox:${tenant}`).joined;
  assert.equal(refused.status, "CHANNEL_ERROR");
  assert.match(
    refused.error?.message ?? "",
    /^InvalidJWTToken: Token has expired \d+ seconds ago$/,
  );

  const shortLived = clientWithToken(await tokenExpiringIn(signedIn, 3));
  await shortLived.realtime.setAuth();
  const dropped = listen(shortLived, `outbox:${tenant}`);
  await subscribed(dropped);
  await until(() => dropped.statuses.includes("CLOSED"), "closed at expiry", 20_000);
  assert.match(dropped.system[0]?.message ?? "", /^Token has expired \d+ seconds ago$/);
  assert.equal(dropped.system[0]?.status, "error");

  // Re-authentication re-runs the join check: a member of B's token cannot keep it.
  const kept = listen(signedIn, `outbox:${tenant}`);
  await subscribed(kept);
  const otherClient = await signIn("member.b@example.com");
  const { data } = await otherClient.auth.getSession();
  await signedIn.realtime.setAuth(data.session!.access_token);
  await until(() => kept.statuses.includes("CLOSED"), "closed after re-auth");
  assert.equal(
    kept.system[0]?.message,
    `You no longer have permission to read from this Channel topic: outbox:${tenant}`,
  );
});

Deno.test("realtime: close the test database pool", async () => {
  await sql.end();
});
