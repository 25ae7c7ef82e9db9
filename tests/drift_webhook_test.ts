// deno-lint-ignore-file no-explicit-any -- job summaries and webhook bodies are wire JSON
// The breaking-drift webhook against the stack (the SSRF finding in docs/security.md): an
// owner stored http://127.0.0.1:<port>/… (the sandbox's /_sandbox/reset among them) and on
// breaking drift the server POSTed there. Now the URL is refused on write; a URL that got
// past that check anyway (simulated by storing it with the check set aside, as only the
// database owner could) is refused again at delivery, so nothing reaches a local listener;
// and only a functions server given the test allow-list delivers to the test's receiver, once,
// with the webhook body. The sandbox is never reachable, allow-list or not.
import assert from "node:assert/strict";
import postgres from "postgres";
import { callFunction, connect, env, need, sandboxControl, startFunctions } from "./testing.ts";
import { functionsDenoEnv } from "../stack/functions_deno.ts";
import { projectRoot } from "../stack/paths.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sandboxHostPort = () => new URL(need("COMPOSIO_BASE_URL")).host;
const marker = "SSRF_MARKER_NEVER_EXECUTED";

/** A loopback receiver that records every request. */
function receiver() {
  const seen: { path: string; headers: Headers; body: any }[] = [];
  const state = { status: 200 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const u = new URL(req.url);
    seen.push({ path: u.pathname + u.search, headers: req.headers, body: await req.json() });
    return new Response("ok", { status: state.status });
  });
  return { seen, state, port: server.addr.port, stop: () => server.shutdown() };
}

/**
 * A tenant whose catalog has drifted in a breaking way: every drift-monitor run for it
 * records breaking drift (one tool removed upstream), so every run queues a webhook.
 */
async function breakingTenant(sql: postgres.Sql): Promise<{ tenant: string; removed: string }> {
  const kit = `wh${crypto.randomUUID().slice(0, 8)}`;
  const K = kit.toUpperCase();
  const tool = (slug: string) => ({
    slug,
    tags: ["readOnlyHint"],
    input_parameters: { type: "object", properties: {}, required: [] },
  });
  await sandboxControl("PUT", `catalog/${kit}`, [tool(`${K}_LIST_A`), tool(`${K}_GET_B`)]);
  const [{ id: tenant }] = await sql`
    insert into public.tenants (name) values ('webhook test') returning id::text`;
  await sql`
    insert into public.connected_accounts (tenant_id, toolkit, status)
    values (${tenant}, ${kit}, 'active')`;
  const synced = await callFunction("catalog-sync", { tenant_id: tenant });
  assert.equal(synced.counts.added, 2, JSON.stringify(synced));
  await sandboxControl("PUT", `catalog/${kit}`, [tool(`${K}_LIST_A`)]);
  return { tenant, removed: `${K}_GET_B` };
}

/**
 * Stores a URL the way no API role can: with the column's check set aside, as a row written
 * before the check (or a name that resolved publicly when it was stored) would be. The
 * check comes back NOT VALID until restoreCheck.
 */
async function storeUnchecked(sql: postgres.Sql, tenant: string, url: string) {
  await sql.begin(async (tx) => {
    const [{ def }] = await tx`
      select pg_get_constraintdef(oid) as def from pg_constraint
       where conname = 'guardrails_drift_webhook_url_check'`;
    await tx`alter table public.guardrails drop constraint guardrails_drift_webhook_url_check`;
    await tx`update public.guardrails set drift_webhook_url = ${url} where tenant_id = ${tenant}`;
    await tx.unsafe(
      `alter table public.guardrails add constraint guardrails_drift_webhook_url_check ${def} not valid`,
    );
  });
}

async function restoreCheck(sql: postgres.Sql, tenant: string) {
  await sql`update public.guardrails set drift_webhook_url = null where tenant_id = ${tenant}`;
  await sql`alter table public.guardrails validate constraint guardrails_drift_webhook_url_check`;
}

/** The sandbox still holds the marker fault: nothing reset it. */
async function sandboxUntouched(): Promise<boolean> {
  const { faults } = await sandboxControl("GET", "faults");
  return faults.some((f: any) => f.slug === marker);
}

async function latestDelivery(sql: postgres.Sql, tenant: string) {
  const [row] = await sql`
    select id::text, url, status, attempts, last_error, attempt_log, body
      from public.webhook_deliveries where tenant_id = ${tenant} order by id desc limit 1`;
  return row;
}

function withStack(fn: (sql: postgres.Sql) => Promise<void>): () => Promise<void> {
  return async () => {
    const sql = connect(env.postgresUrl, { max: 2 });
    await sandboxControl("POST", "reset");
    await sandboxControl("POST", "faults", { route: "execute", slug: marker, status: 500 });
    try {
      await fn(sql);
    } finally {
      await sandboxControl("DELETE", "faults");
      await sql.end();
    }
  };
}

Deno.test(
  "webhook: URLs into the server's own network are refused on write; breaking drift reaches no local listener",
  withStack(async (sql) => {
    const r = receiver();
    try {
      const { tenant } = await breakingTenant(sql);
      const refused: [string, string][] = [
        [`http://127.0.0.1:${r.port}/drift`, "must use https"],
        [
          `https://127.0.0.1:${r.port}/drift`,
          "names host 127.0.0.1, which is not a public address (loopback, 127.0.0.0/8)",
        ],
        [`http://${sandboxHostPort()}/_sandbox/reset`, "must use https"],
        [
          `https://[::1]:${r.port}/`,
          "names host [::1], which is not a public address (loopback, ::1/128)",
        ],
        [
          "https://169.254.169.254/latest/meta-data/",
          "names host 169.254.169.254, which is not a public address (link-local, 169.254.0.0/16)",
        ],
        [
          `https://2130706433:${r.port}/`,
          "names host 2130706433, which is not a canonical IPv4 address (decimal, octal and hex forms are refused)",
        ],
        [`https://localhost:${r.port}/`, "names host localhost, a loopback name"],
      ];
      for (const [url, problem] of refused) {
        await assert.rejects(
          sql`update public.guardrails set drift_webhook_url = ${url} where tenant_id = ${tenant}`,
          (err: any) =>
            err.code === "23514" && err.message === `guardrails.drift_webhook_url ${problem}`,
          url,
        );
      }
      const res = await callFunction("drift-monitor", { tenant_id: tenant });
      assert.equal(res.counts.breaking, 1, JSON.stringify(res));
      await sleep(500); // room for any request sent after commit (pg_net's, before the fix)
      assert.equal(r.seen.length, 0, "no request reached the local listener");
      assert.ok(await sandboxUntouched(), "the sandbox was not reset");
      assert.equal(await latestDelivery(sql, tenant), undefined, "nothing to deliver");
    } finally {
      await r.stop();
    }
  }),
);

Deno.test(
  "webhook: a stored loopback or sandbox URL is refused at delivery by the stack's drift-monitor (no allow-list)",
  withStack(async (sql) => {
    const r = receiver();
    const { tenant } = await breakingTenant(sql);
    try {
      const cases: [string, string][] = [
        [`http://127.0.0.1:${r.port}/drift`, "the URL must use https"],
        [
          `https://127.0.0.1:${r.port}/drift`,
          "the URL names host 127.0.0.1, which is not a public address (loopback, 127.0.0.0/8)",
        ],
        [`http://${sandboxHostPort()}/_sandbox/reset`, "the URL must use https"],
        [
          `https://[::ffff:127.0.0.1]:${r.port}/`,
          "the URL names host [::ffff:127.0.0.1], which is not a public address (IPv4-mapped loopback, 127.0.0.0/8)",
        ],
      ];
      for (const [url, error] of cases) {
        await storeUnchecked(sql, tenant, url);
        const res = await callFunction("drift-monitor", { tenant_id: tenant });
        assert.equal(res.counts.webhooks_refused, 1, JSON.stringify(res));
        const row = await latestDelivery(sql, tenant);
        assert.deepEqual(
          [row.url, row.status, row.attempts, row.last_error, row.attempt_log.length],
          [url, "refused", 1, error, 1],
        );
      }
      await sleep(500);
      assert.equal(r.seen.length, 0, "no request reached the local listener");
      assert.ok(await sandboxUntouched(), "the sandbox was not reset");
    } finally {
      await restoreCheck(sql, tenant);
      await r.stop();
    }
  }),
);

Deno.test(
  "webhook: with the test allow-list, the receiver gets one POST with the drift body; the sandbox stays out of reach",
  withStack(async (sql) => {
    const r = receiver();
    const { tenant, removed } = await breakingTenant(sql);
    const fns = await startFunctions(["drift-monitor"], {
      WEBHOOK_TEST_ALLOW_HOSTS: `127.0.0.1:${r.port},${sandboxHostPort()}`,
    });
    try {
      await storeUnchecked(sql, tenant, `http://127.0.0.1:${r.port}/drift?token=s3cr3t`);
      const res = await callFunction("drift-monitor", { tenant_id: tenant }, fns.url);
      assert.equal(res.status, "succeeded", JSON.stringify(res));
      assert.equal(res.counts.webhooks_delivered, 1, JSON.stringify(res));
      const [snap] = await sql`
        select id::int, breaking_count, non_breaking_count from public.catalog_audit
         where tenant_id = ${tenant} order by id desc limit 1`;
      const row = await latestDelivery(sql, tenant);
      assert.equal(r.seen.length, 1, "exactly one request");
      assert.equal(r.seen[0].path, "/drift?token=s3cr3t");
      assert.equal(r.seen[0].headers.get("x-webhook-delivery"), row.id);
      assert.deepEqual(r.seen[0].body, {
        event: "catalog_drift.breaking",
        tenant_id: tenant,
        catalog_audit_id: snap.id,
        run_id: Number(res.run_id),
        breaking_count: 1,
        non_breaking_count: 0,
        breaking_tools: [removed],
      });
      assert.deepEqual(r.seen[0].body, row.body, "the body queued is the body sent");
      assert.deepEqual(
        [row.status, row.attempts, row.attempt_log.map((a: any) => a.outcome)],
        ["delivered", 1, ["delivered"]],
      );
      // A later run has nothing left to send: the delivery is not repeated.
      const [{ id: idle }] = await sql`
        insert into public.tenants (name) values ('no catalog') returning id::text`;
      const other = await callFunction("drift-monitor", { tenant_id: idle }, fns.url);
      assert.equal(other.status, "succeeded", JSON.stringify(other));
      assert.equal(r.seen.length, 1, "delivered once");

      // A failure is retried by a later run once due, with the same delivery id and body.
      r.state.status = 503;
      const failing = await callFunction("drift-monitor", { tenant_id: tenant }, fns.url);
      assert.equal(failing.counts.webhooks_retry, 1, JSON.stringify(failing));
      const pending = await latestDelivery(sql, tenant);
      assert.deepEqual(
        [pending.status, pending.attempts, pending.last_error],
        ["pending", 1, "127.0.0.1 answered 503"],
      );
      r.state.status = 200;
      await sql`update public.webhook_deliveries set next_attempt_at = now() where id = ${pending.id}`;
      const retried = await callFunction("drift-monitor", { tenant_id: idle }, fns.url);
      assert.equal(retried.counts.webhooks_delivered, 1, JSON.stringify(retried));
      const done = await latestDelivery(sql, tenant);
      assert.deepEqual(
        [done.status, done.attempts, done.attempt_log.map((a: any) => a.outcome)],
        ["delivered", 2, ["retry", "delivered"]],
      );
      assert.deepEqual(r.seen.slice(1).map((s) => s.headers.get("x-webhook-delivery")), [
        pending.id,
        pending.id,
      ]);
      assert.deepEqual(r.seen[2].body, r.seen[1].body);

      // The sandbox's host:port is listed too, and ignored: its reset route stays refused.
      await storeUnchecked(sql, tenant, `http://${sandboxHostPort()}/_sandbox/reset`);
      const reset = await callFunction("drift-monitor", { tenant_id: tenant }, fns.url);
      assert.equal(reset.counts.webhooks_refused, 1, JSON.stringify(reset));
      assert.equal((await latestDelivery(sql, tenant)).last_error, "the URL must use https");
      assert.ok(await sandboxUntouched(), "the sandbox was not reset");
      assert.equal(r.seen.length, 3);

      const logs = fns.logs.join("\n");
      assert.match(logs, /"event":"webhook_test_allow_hosts"/);
      assert.match(logs, /never allowed: the Composio API or sandbox/);
      assert.ok(!logs.includes("s3cr3t"), "the URL (its token) is never logged");
    } finally {
      await fns.stop();
      await restoreCheck(sql, tenant);
      await r.stop();
    }
  }),
);

Deno.test("webhook: `deno task start` never sets the test allow-list", async () => {
  // Nothing the stack runs from names the variable: not the stack's code, not the CLI
  // config, not a functions .env.
  const mentions: string[] = [];
  for (const e of Deno.readDirSync(`${projectRoot}/stack`)) {
    if (!e.isFile || !e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
    const text = await Deno.readTextFile(`${projectRoot}/stack/${e.name}`);
    if (text.includes("WEBHOOK_TEST_ALLOW_HOSTS")) mentions.push(`stack/${e.name}`);
  }
  for (const f of ["supabase/config.toml", "supabase/functions/.env"]) {
    const text = await Deno.readTextFile(`${projectRoot}/${f}`).catch(() => "");
    if (text.includes("WEBHOOK_TEST_ALLOW_HOSTS")) mentions.push(f);
  }
  assert.deepEqual(mentions, []);
  // Nor does it pass through from the shell that runs `start`: the functions' environment
  // is built, not inherited.
  const before = Deno.env.get("WEBHOOK_TEST_ALLOW_HOSTS");
  Deno.env.set("WEBHOOK_TEST_ALLOW_HOSTS", "127.0.0.1:9");
  try {
    assert.equal(functionsDenoEnv().WEBHOOK_TEST_ALLOW_HOSTS, undefined);
  } finally {
    if (before === undefined) Deno.env.delete("WEBHOOK_TEST_ALLOW_HOSTS");
    else Deno.env.set("WEBHOOK_TEST_ALLOW_HOSTS", before);
  }
});
