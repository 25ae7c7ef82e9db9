// outbox-drain under concurrency and failure: tenant caps across concurrent drains, a drain
// process killed mid-batch, Postgres restarted mid-drain, and the debounced enqueue kick.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  connect,
  drain,
  enqueue,
  env,
  executions,
  fault,
  fnUrl,
  ISSUE,
  LIST,
  makeTenant,
  pauseDrain,
  resetSandbox,
  row,
  sandboxControl,
  serviceKey,
  sleep,
  stackTest,
  testCluster,
  until,
} from "./testing.ts";
import { startCluster, stopCluster } from "../stack/cluster.ts";

const sql = connect(env.postgresUrl);

/** Polls every function's healthz (and outbox-drain's metrics) until all answer 200. */
async function functionsHealthy(): Promise<boolean> {
  const root = fileURLToPath(new URL("../supabase/functions", import.meta.url));
  const slugs = [...Deno.readDirSync(root)]
    .filter((e) => e.isDirectory && !e.name.startsWith("_")).map((e) => e.name);
  const urls = [
    ...slugs.map((s) => `${fnUrl().replace(/outbox-drain$/, s)}/healthz`),
    `${fnUrl()}/metrics`,
  ];
  return await until(async () => {
    const codes = await Promise.all(urls.map((u) =>
      fetch(u, {
        headers: { authorization: `Bearer ${serviceKey()}` },
        signal: AbortSignal.timeout(5_000),
      }).then(async (r) => (await r.body?.cancel(), r.status), () => 0)
    ));
    // healthz answers 503 while the database is unreachable (a function that does not boot
    // answers 500 and is not this test's business); outbox-drain's metrics must work.
    return codes.slice(0, -1).every((c) => c !== 0 && c !== 503) && codes.at(-1) === 200;
  }, { tries: 60, everyMs: 1_000 });
}

const FINAL = new Set(["succeeded", "conflict", "unknown_outcome", "rejected"]);

stackTest("outbox-drain concurrency: pause the schedule and the kick", async () => {
  await pauseDrain(true);
});

stackTest(
  "outbox-drain concurrency: 3 tenants with cap 1 — in flight 1 per tenant, more than 1 overall",
  async () => {
    await resetSandbox();
    const tenants = [
      await makeTenant(sql, { cap: 1 }),
      await makeTenant(sql, { cap: 1 }),
      await makeTenant(sql, { cap: 1 }),
    ];
    const ids: string[] = [];
    for (const t of tenants) {
      for (let i = 0; i < 4; i++) ids.push(await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE));
    }
    // Every call takes 300 ms, so leases overlap when the drains run in parallel.
    await fault({ slug: "GITHUB_CREATE_ISSUE", delay_ms: 300 });

    let peakTenant = 0, peakAll = 0, polling = true;
    const poll = (async () => {
      while (polling) {
        const rows = await sql`
        select tenant_id, count(*)::int as n from public.outbox
        where status = 'running' and tenant_id = any(${tenants}::uuid[]) group by 1`;
        const all = rows.reduce((s, r) => s + r.n, 0);
        peakAll = Math.max(peakAll, all);
        for (const r of rows) peakTenant = Math.max(peakTenant, r.n);
        await sleep(10);
      }
    })();
    // Two drains per tenant race for the same tenant; the three tenants run side by side.
    const runs = await Promise.all(
      tenants.flatMap((t) => [drain({ tenant_id: t }), drain({ tenant_id: t })]),
    );
    polling = false;
    await poll;
    for (const r of runs) assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(peakTenant, 1, "never more than the cap in flight for a tenant");
    assert.ok(peakAll > 1, `tenants run in parallel (peak ${peakAll})`);
    const counts = await executions();
    for (const id of ids) {
      assert.equal((await row(sql, id)).status, "succeeded");
      assert.equal(counts[id], 1, "exactly one execution per succeeded envelope");
    }
  },
);

stackTest(
  "outbox-drain concurrency: a drain process killed mid-batch — reads run again, writes never",
  async () => {
    await resetSandbox();
    const t = await makeTenant(sql);
    const reads = [
      await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST),
      await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST),
    ];
    const writes = [
      await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE),
      await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE),
    ];
    // The first call of each envelope hangs; the worker is killed while they hang.
    for (const id of [...reads, ...writes]) {
      await fault({ envelope_id: id, delay_ms: 20_000, times: 1 });
    }
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        fileURLToPath(
          new URL("../supabase/functions/outbox-drain/drain_worker.ts", import.meta.url),
        ),
        JSON.stringify({ tenant_id: t, lease_ms: 4_000, concurrency: 8, chain: false }),
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const inFlight = await until(async () => {
      const counts = await executions();
      return [...reads, ...writes].every((id) => counts[id] === 1);
    }, { tries: 300, everyMs: 50 });
    child.kill("SIGKILL");
    await child.status;
    assert.ok(inFlight, "all four calls were in flight when the worker died");
    for (const id of [...reads, ...writes]) assert.equal((await row(sql, id)).status, "running");

    // Once the leases expire, the next drain reclaims them.
    await until(async () => {
      const [r] = await sql`
      select count(*)::int as n from public.outbox
      where tenant_id = ${t} and status = 'running' and lease_expires_at > now()`;
      return r.n === 0;
    }, { tries: 100, everyMs: 100 });
    const res = await drain({ tenant_id: t });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const counts = await executions();
    for (const id of reads) {
      assert.equal((await row(sql, id)).status, "succeeded");
      assert.equal(counts[id], 2, "a read is executed again");
    }
    for (const id of writes) {
      const r = await row(sql, id);
      assert.equal(
        r.status,
        "unknown_outcome",
        "a write that may have happened waits for an operator",
      );
      assert.equal(counts[id], 1, "a write is never executed twice");
    }
  },
);

stackTest(
  "outbox-drain concurrency: enqueue kicks one drain per burst, which runs the envelopes",
  async () => {
    await resetSandbox();
    await pauseDrain(false);
    const t = await makeTenant(sql);
    const admin = connect(env.adminUrl, { max: 1 });
    try {
      await admin`update internal.outbox_kick set last_kick_at = '-infinity', debounce_ms = 30000`;
      const [{ before }] = await admin`
      select coalesce(max(request_id), 0)::bigint as before from jobs.invocations`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST));
      const kicks = await admin`
      select count(*)::int as n from jobs.invocations
      where slug = 'outbox-drain' and request_id > ${before}`;
      assert.equal(kicks[0].n, 1, "five enqueues in a burst make one call");
      const done = await until(async () => {
        const rows = await sql`select status from public.outbox where id = any(${ids}::uuid[])`;
        return rows.every((r) => r.status === "succeeded");
      }, { tries: 150, everyMs: 100 });
      assert.ok(done, "the kicked drain ran the envelopes");
    } finally {
      await admin`update internal.outbox_kick set debounce_ms = 2000`;
      await admin.end();
      await sandboxControl("POST", "reset");
      await pauseDrain(true);
    }
  },
);

stackTest("outbox-drain concurrency: Postgres restarted mid-drain loses nothing", async () => {
  await resetSandbox();
  const t = await makeTenant(sql);
  const reads = [
    await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST),
    await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST),
  ];
  const write = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
  await fault({ slug: "GITHUB_LIST_ISSUES", delay_ms: 1_500, times: 2 });
  await fault({ slug: "GITHUB_CREATE_ISSUE", delay_ms: 1_500, times: 1 });
  const running = drain({ tenant_id: t, lease_ms: 3_000 }).catch((err) => ({
    status: 0,
    json: { error: String(err) },
  }));
  assert.ok(
    await until(async () => Object.keys(await executions()).length === 3, { everyMs: 20 }),
    "the calls are in flight",
  );
  const cluster = testCluster();
  await stopCluster(cluster, "fast");
  await startCluster(cluster);
  await running; // it may fail: its database went away mid-run
  const back = await until(async () => {
    try {
      const r = await drain({ tenant_id: t, limit: 1, dry_run: true });
      return r.status === 200;
    } catch {
      return false;
    }
  }, { tries: 100, everyMs: 200 });
  assert.ok(back, "the function reaches the database again through the pooler");
  // Settle whatever the interrupted drain left under lease, then check every envelope.
  await until(async () => {
    await drain({ tenant_id: t });
    const rows = await sql`select status from public.outbox where tenant_id = ${t}`;
    return rows.length === 3 && rows.every((r) => FINAL.has(r.status));
  }, { tries: 30, everyMs: 300 });
  const counts = await executions();
  for (const id of reads) assert.equal((await row(sql, id)).status, "succeeded");
  const w = await row(sql, write);
  assert.ok(["succeeded", "unknown_outcome"].includes(w.status), w.status);
  assert.equal(counts[write], 1, "the write ran once");
  // Leave the stack healthy for whatever runs next: after a restart pgbouncer and the
  // functions' pools need a while before every pooled connection works again.
  assert.ok(await functionsHealthy(), "every function reaches the database again");
  await sql.end();
});
