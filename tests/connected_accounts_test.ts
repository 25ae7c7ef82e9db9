// deno-lint-ignore-file no-explicit-any -- wire JSON is asserted field by field
// The connection flow end to end on the test stack: an owner signs in (supabase-js against
// the Auth stand-in), asks connected-accounts to connect a toolkit, follows the redirect
// (the sandbox's consent page), and refresh confirms the account active, checked and
// warm-scanned. A member is refused, bad input is a 400 naming the field, and Composio's
// tokens never reach the database or the logs.
import assert from "node:assert/strict";
import {
  connect,
  env,
  need,
  resetSandbox,
  sandboxControl,
  stackTest,
  supabaseClient,
  until,
} from "./testing.ts";

const sql = connect(env.postgresUrl);
const base = () => `${env.apiUrl}/functions/v1/connected-accounts`;
const password = "local-dev-password";

/** A tenant of its own with an owner and a member who sign in with the local password. */
async function tenantWithUsers() {
  const tenant = crypto.randomUUID();
  const owner = crypto.randomUUID();
  const member = crypto.randomUUID();
  await sql`insert into public.tenants (id, name) values (${tenant}, 'connection flow test')`;
  for (const id of [owner, member]) {
    // bf 4: a fast hash for a throwaway user; the stand-in checks any bcrypt cost.
    await sql`
      insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                              email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
      values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated',
              ${`${id}@example.com`}, extensions.crypt(${password}, extensions.gen_salt('bf', 4)),
              now(), '{"provider":"email"}', '{}')`;
  }
  await sql`
    insert into public.tenant_members (tenant_id, user_id, role, accepted_at)
    values (${tenant}, ${owner}, 'owner', now()), (${tenant}, ${member}, 'member', now())`;
  const token = async (id: string) => {
    const { data, error } = await supabaseClient().auth.signInWithPassword({
      email: `${id}@example.com`,
      password,
    });
    assert.equal(error, null, error?.message);
    return data.session!.access_token;
  };
  return { tenant, ownerToken: await token(owner), memberToken: await token(member) };
}

async function post(path: string, token: string | null, body: unknown) {
  const res = await fetch(`${base()}${path}`, {
    method: "POST",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      "content-type": "application/json",
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as any };
}

const accountRow = async (id: string) => {
  const [r] = await sql`
    select tenant_id::text, toolkit, status, external_account_id, scopes, linked_at, metadata,
           verified_external_account_id, verified_owned
      from public.connected_accounts where id = ${id}`;
  return r;
};

let flow: Awaited<ReturnType<typeof tenantWithUsers>>;

stackTest(
  "connected-accounts: an owner connects a toolkit; refresh confirms it active once the user consents",
  async () => {
    await resetSandbox();
    flow = await tenantWithUsers();
    const { tenant, ownerToken } = flow;

    const made = await post("/initiate", ownerToken, {
      toolkit: "github",
      callback_url: "https://app.example/connected?tab=tools",
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.status, "initiated");
    assert.equal(made.body.toolkit, "github");
    const row = await accountRow(made.body.id);
    assert.equal(row.tenant_id, tenant);
    assert.equal(row.status, "initiated");
    assert.match(row.external_account_id, /^ca_/);
    assert.equal(row.metadata.auth_config_id, "ac_sandbox_github");
    // Composio was asked for the tenant's Composio user, with the owner's callback.
    const { items } = await sandboxControl("GET", "connected_accounts");
    const there = items.find((a: any) => a.id === row.external_account_id);
    assert.equal(there.user_id, tenant);
    assert.equal(there.callback_url, "https://app.example/connected?tab=tools");

    const early = await post("/refresh", ownerToken, {});
    assert.equal(early.status, 200, JSON.stringify(early.body));
    assert.deepEqual(early.body.changed, []);
    assert.equal((await accountRow(made.body.id)).status, "initiated");

    // The user finishes the consent on the page Composio redirected them to.
    const consent = await fetch(made.body.redirect_url);
    assert.equal(consent.status, 200);
    await consent.body?.cancel();

    // The test runner pauses every job, and a paused catalog-sync gets no warm scan.
    await sql`select jobs.resume('catalog-sync')`;
    const done = await post("/refresh", ownerToken, { id: made.body.id }).finally(() =>
      sql`select jobs.pause('catalog-sync')`
    );
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body.changed, [made.body.id]);
    assert.equal(done.body.accounts[0].status, "active");
    const active = await accountRow(made.body.id);
    assert.equal(active.status, "active");
    assert.ok(active.linked_at instanceof Date);
    assert.deepEqual(active.scopes, ["public_repo", "repo"]);
    assert.equal(active.verified_external_account_id, active.external_account_id);
    assert.equal(active.verified_owned, true, "checked: the drain need not ask again");

    // The warm scan fires as for any account becoming active.
    assert.ok(
      await until(async () => {
        const [r] = await sql`
        select count(*)::int as n from public.job_runs
         where job = 'catalog-sync' and tenant_id = ${tenant}`;
        return r.n > 0;
      }, { tries: 100, everyMs: 100 }),
      "catalog-sync ran for the tenant",
    );
  },
);

stackTest(
  "connected-accounts: the schedule's job confirms an account whose app never asked",
  async () => {
    const made = await post("/initiate", flow.ownerToken, { toolkit: "slack" });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await (await fetch(made.body.redirect_url)).body?.cancel();
    const res = await fetch(base(), {
      method: "POST",
      headers: {
        authorization: `Bearer ${need("SUPABASE_SERVICE_ROLE_KEY")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ tenant_id: flow.tenant, chain: false }),
    });
    const summary = await res.json();
    assert.equal(res.status, 200, JSON.stringify(summary));
    assert.equal(summary.job, "connected-accounts");
    assert.equal(summary.counts.active, 1, JSON.stringify(summary));
    assert.equal((await accountRow(made.body.id)).status, "active");
  },
);

stackTest("connected-accounts: a member is refused (403) and nothing is made", async () => {
  const before = await sql`select count(*)::int as n from public.connected_accounts
                            where tenant_id = ${flow.tenant}`;
  const initiate = await post("/initiate", flow.memberToken, { toolkit: "gmail" });
  assert.equal(initiate.status, 403, JSON.stringify(initiate.body));
  assert.equal(initiate.body.error.code, "forbidden");
  assert.match(initiate.body.error.message, /only an owner/);
  const refresh = await post("/refresh", flow.memberToken, {});
  assert.equal(refresh.status, 403);
  const after = await sql`select count(*)::int as n from public.connected_accounts
                           where tenant_id = ${flow.tenant}`;
  assert.equal(after[0].n, before[0].n);
});

stackTest(
  "connected-accounts: bad input is a 400 naming the problem; no token is a 401",
  async () => {
    const t = flow.ownerToken;
    const cases: [unknown, string, RegExp][] = [
      [{ toolkit: "GitHub" }, "invalid_body", /body\.toolkit: a toolkit slug/],
      [
        { toolkit: "github", callback_url: "http://app.example/" },
        "invalid_body",
        /callback URL must use https/,
      ],
      [
        { toolkit: "github", callback_url: "https://u:p@app.example/" },
        "invalid_body",
        /credentials/,
      ],
      [{ toolkit: "github", user_id: flow.tenant }, "invalid_body", /unknown field user_id/],
      [{}, "invalid_body", /body\.toolkit/],
      [{ toolkit: "notion" }, "toolkit_not_offered", /notion cannot be connected/],
      ["{not json", "invalid_json", /not valid JSON/],
    ];
    for (const [body, code, message] of cases) {
      const r = await post("/initiate", t, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, JSON.stringify(body));
      assert.match(r.body.error.message, message, JSON.stringify(body));
    }
    const badId = await post("/refresh", t, { id: "nope" });
    assert.equal(badId.status, 400);
    assert.match(badId.body.error.message, /body\.id/);
    const otherTenant = await post("/refresh", t, { id: crypto.randomUUID() });
    assert.equal(otherTenant.status, 404);
    assert.equal((await post("/initiate", null, { toolkit: "github" })).status, 401);
  },
);

stackTest("connected-accounts: Composio's tokens reach neither the rows nor the logs", async () => {
  const rows = await sql`
    select to_jsonb(a)::text as row from public.connected_accounts a
     where tenant_id = ${flow.tenant}`;
  for (const r of rows) assert.ok(!r.row.includes("sandbox-token-"), r.row);
  const log = await Deno.readTextFile(env.functionsLog);
  assert.ok(!log.includes("sandbox-token-"));
  assert.ok(!log.includes("app.example/connected"), "the callback URL is not logged");
  await sql.end();
});
