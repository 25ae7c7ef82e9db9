// The drain's ownership check over HTTP against the real stack and the Composio sandbox:
// before an account's first execution (and after its external id changes) the drain asks
// Composio whose account it is. Another user's account denies the envelope
// (account_not_owned, audited, never sent); a failed check parks it for later, unsent; the
// answer is kept, so an account is checked once, not per envelope.
import assert from "node:assert/strict";
import postgres from "postgres";
import { composioConfig } from "../supabase/functions/_shared/composio.ts";
import { getConnectedAccount } from "../supabase/functions/_shared/composio_accounts.ts";
import {
  audit,
  connect,
  drain,
  env,
  executions,
  fault,
  ISSUE,
  LIST,
  makeTenant,
  pauseDrain,
  resetSandbox,
  row,
  sandboxControl,
  stackTest,
} from "./testing.ts";

const sql = connect(env.postgresUrl);

/** Points the tenant's github account at `externalId`, not yet checked (as the service may). */
async function pointAccountAt(db: postgres.Sql, tenant: string, externalId: string) {
  await db`
    update public.connected_accounts
       set external_account_id = ${externalId}, verified_external_account_id = null,
           verified_owned = null, verified_at = null
     where tenant_id = ${tenant} and toolkit = 'github'`;
}

/** An envelope naming the account by `account` (its external id), or the toolkit's account. */
async function enqueueWith(
  db: postgres.Sql,
  tenant: string,
  slug: string,
  args: Record<string, unknown>,
  account: string | null,
): Promise<string> {
  const [r] = await db`
    select id::text from public.enqueue_envelope(${tenant}::uuid, ${slug}, ${
    db.json(args as never)
  },
      null, ${account}, ${db.json({ score: 0.99, evidence: [] })})`;
  return r.id;
}

/** How many times the sandbox was asked for the account. */
async function accountGets(id: string): Promise<number> {
  const { requests } = await sandboxControl("GET", "requests");
  return requests[`GET /api/v3.1/connected_accounts/${id}`] ?? 0;
}

stackTest("ownership: pause the drain for these tests", async () => {
  await pauseDrain(true);
});

stackTest(
  "ownership: another tenant's Composio account is denied account_not_owned, audited, never executed",
  async () => {
    await resetSandbox();
    const victim = await makeTenant(sql);
    const attacker = await makeTenant(sql);
    // The victim's account at Composio, under the victim's Composio user.
    const theirs = await sandboxControl("POST", "connected_accounts", {
      user_id: victim,
      toolkit: "github",
    });
    await pointAccountAt(sql, attacker, theirs.id);
    const read = await enqueueWith(sql, attacker, "GITHUB_LIST_ISSUES", LIST, null);
    const write = await enqueueWith(sql, attacker, "GITHUB_CREATE_ISSUE", ISSUE, theirs.id);

    const res = await drain({ tenant_id: attacker });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const sent = await executions();
    for (const id of [read, write]) {
      const r = await row(sql, id);
      assert.equal(r.status, "dlq:account_not_owned", `${id}: ${JSON.stringify(r)}`);
      assert.equal(r.attempts, 0);
      assert.match(r.last_error ?? "", /another Composio user/);
      assert.ok(!(r.last_error ?? "").includes(victim), "the other tenant's id is not revealed");
      assert.equal(sent[id] ?? 0, 0, "never executed");
      assert.deepEqual(await audit(sql, id), ["outbox_dead_lettered"]);
    }
    const [acct] = await sql`
    select verified_external_account_id, verified_owned from public.connected_accounts
     where tenant_id = ${attacker} and toolkit = 'github'`;
    assert.deepEqual({ ...acct }, {
      verified_external_account_id: theirs.id,
      verified_owned: false,
    });
    const rows = await sql`
    select payload from public.audit_log
     where tenant_id = ${attacker} and category = 'connected_account_not_owned'`;
    assert.equal(rows.length, 1, "one audit row for the account");
    assert.equal(rows[0].payload.external_account_id, theirs.id);
    assert.ok(!JSON.stringify(rows[0].payload).includes(victim));
    assert.equal(await accountGets(theirs.id), 1, "asked once for the batch");

    // The answer is kept: the next envelope is denied without asking again.
    const later = await enqueueWith(sql, attacker, "GITHUB_LIST_ISSUES", LIST, null);
    await drain({ tenant_id: attacker });
    assert.equal((await row(sql, later)).status, "dlq:account_not_owned");
    assert.equal(await accountGets(theirs.id), 1);
    assert.equal((await executions())[later] ?? 0, 0);
  },
);

stackTest(
  "ownership: a failed check parks the envelope unsent; once Composio answers it runs, checked once",
  async () => {
    await resetSandbox();
    const t = await makeTenant(sql);
    const own = await sandboxControl("POST", "connected_accounts", {
      user_id: t,
      toolkit: "github",
    });
    await pointAccountAt(sql, t, own.id);
    await fault({ route: "account_get", slug: own.id, status: 503, times: 1 });
    const id = await enqueueWith(sql, t, "GITHUB_LIST_ISSUES", LIST, null);

    await drain({ tenant_id: t });
    const parked = await row(sql, id);
    assert.equal(parked.status, "deferred", JSON.stringify(parked));
    assert.equal(parked.attempts, 0, "a check is no execution");
    assert.ok(parked.next_run_at.getTime() > Date.now(), "due again later, not in a loop");
    assert.equal((await executions())[id] ?? 0, 0, "never executed unverified");

    await sql`update public.outbox set next_run_at = now() where id = ${id}`;
    await drain({ tenant_id: t });
    assert.equal((await row(sql, id)).status, "succeeded");
    assert.equal((await executions())[id], 1);
    const [acct] = await sql`
    select verified_owned from public.connected_accounts
     where tenant_id = ${t} and toolkit = 'github'`;
    assert.equal(acct.verified_owned, true);

    const next = await enqueueWith(sql, t, "GITHUB_LIST_ISSUES", LIST, own.id);
    await drain({ tenant_id: t });
    assert.equal((await row(sql, next)).status, "succeeded");
    assert.equal(await accountGets(own.id), 2, "the failed check and the one answer; none after");
  },
);

stackTest(
  "ownership: our key refused on the check halts the drain; nothing is sent or spent",
  async () => {
    await resetSandbox();
    const t = await makeTenant(sql);
    const own = await sandboxControl("POST", "connected_accounts", {
      user_id: t,
      toolkit: "github",
    });
    await pointAccountAt(sql, t, own.id);
    await fault({ route: "account_get", slug: own.id, status: 401, times: 1 });
    const id = await enqueueWith(sql, t, "GITHUB_LIST_ISSUES", LIST, null);
    const res = await drain({ tenant_id: t });
    assert.equal(res.status, 500, JSON.stringify(res.json));
    assert.equal((res.json.counts as Record<string, number>).halted, 1);
    const r = await row(sql, id);
    assert.equal(r.status, "pending", JSON.stringify(r));
    assert.equal(r.attempts, 0);
    assert.equal((await executions())[id] ?? 0, 0);
    const [acct] = await sql`
    select verified_owned from public.connected_accounts
     where tenant_id = ${t} and toolkit = 'github'`;
    assert.equal(acct.verified_owned, null, "no answer, nothing recorded");
  },
);

stackTest(
  "ownership: every seeded account the drain may run with is the sandbox's, under its tenant",
  async () => {
    await resetSandbox();
    const seeded = await sql`
    select tenant_id::text, external_account_id from public.connected_accounts
     where external_account_id ~ '^ca_(acme|beta)_'`;
    assert.equal(seeded.length, 6);
    for (const a of seeded) {
      const account = await getConnectedAccount(composioConfig(), a.external_account_id);
      assert.equal(account.userId, a.tenant_id, a.external_account_id);
    }
  },
);

stackTest("ownership: close the pool", async () => {
  await sql.end();
});
