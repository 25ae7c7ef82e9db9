// outbox-drain over HTTP against the real stack and the Composio sandbox: every outcome on
// its final row, its audit rows and the sandbox's execution count. The schedule and the
// enqueue kick are paused while these run (so only the drains the tests start touch the
// envelopes) and left paused for the test files that follow.
import assert from "node:assert/strict";
import {
  audit,
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
  stackTest,
  until,
} from "./testing.ts";
import { main as cli } from "../supabase/functions/outbox-drain/cli.ts";
import { runJob } from "../supabase/functions/_shared/job.ts";
import { ExecutorError } from "../supabase/functions/_shared/composio_execute.ts";
import { setLogSink } from "../supabase/functions/_shared/log.ts";
import {
  defaultBudgetMs,
  defaultLimit,
  drainBody,
  runDrain,
} from "../supabase/functions/outbox-drain/drain.ts";

const sql = connect(env.postgresUrl);
// One pool for the file, closed by the last test.

stackTest("outbox-drain: pause the schedule and the kick for these tests", async () => {
  await pauseDrain(true);
  const [r] = await sql`
    select bool_or(active) as active from cron.job where jobname = 'outbox-drain-every-minute'`;
  assert.equal(r.active, false);
});

stackTest(
  "outbox-drain: each outcome on the row, in the audit log and in the sandbox",
  async () => {
    await resetSandbox();
    const t = await makeTenant(sql, { maxAttempts: { low: 2, medium: 3, high: 1 } });
    const ok = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const read = await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST);
    const conflict = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const rejected = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const limited = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const unavailable = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const writeFails = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const readFails = await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST);
    const toolFailed = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const invalid = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", { owner: "acme", title: 7 });
    const risky = await enqueue(sql, t, "GITHUB_DELETE_REPOSITORY", LIST);
    const lowTrust = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE, 0.1);
    await fault({ envelope_id: conflict, status: 409 });
    await fault({ envelope_id: rejected, status: 422 });
    await fault({ envelope_id: limited, status: 429, retry_after: 120 });
    await fault({ envelope_id: unavailable, status: 503, retry_after: 60 });
    await fault({ envelope_id: writeFails, status: 500 });
    await fault({ envelope_id: readFails, status: 500 });
    await fault({ envelope_id: toolFailed, successful_false: true });

    const res = await drain({ tenant_id: t });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const counts = await executions();

    const expect = async (
      id: string,
      status: string,
      attempts: number,
      sent: number,
      categories: string[],
    ) => {
      const r = await row(sql, id);
      assert.equal(r.status, status, `${id}: ${JSON.stringify(r)}`);
      assert.equal(r.attempts, attempts, `${id} attempts`);
      assert.equal(counts[id] ?? 0, sent, `${id} executions`);
      assert.deepEqual(await audit(sql, id), categories, `${id} audit`);
      return r;
    };
    await expect(ok, "succeeded", 1, 1, ["outbox_succeeded"]);
    await expect(read, "succeeded", 1, 1, ["outbox_succeeded"]);
    const [ev] =
      await sql`select count(*)::int as n from public.evidence where envelope_id = ${ok}`;
    assert.equal(ev.n, 1, "the output is written to evidence");
    await expect(conflict, "conflict", 1, 1, ["outbox_conflict"]);
    await expect(rejected, "dlq:non_retryable", 1, 1, ["outbox_dead_lettered"]);
    // A 429 is the rate limit, not a failure: deferred to Retry-After, no attempt spent.
    const l = await expect(limited, "deferred", 0, 1, ["outbox_deferred"]);
    assert.ok(l.next_run_at.getTime() >= Date.now() + 100_000, "429 honours Retry-After");
    const [bucket] = await sql`
      select closed_until from internal.composio_rate_limit`;
    assert.ok(bucket.closed_until.getTime() >= Date.now() + 100_000, "and closes the bucket");
    await expect(unavailable, "retry", 1, 1, ["outbox_retry"]);
    await expect(writeFails, "unknown_outcome", 1, 1, ["outbox_unknown_outcome"]);
    await expect(readFails, "retry", 1, 1, ["outbox_retry"]);
    await expect(toolFailed, "retry", 1, 1, ["outbox_retry"]);
    const inv = await expect(invalid, "dlq:invalid_arguments", 0, 0, ["outbox_dead_lettered"]);
    assert.match(inv.last_error ?? "", /repo|title/);
    await expect(risky, "needs_approval", 0, 0, ["outbox_needs_approval"]);
    await expect(lowTrust, "needs_approval", 0, 0, ["outbox_needs_approval"]);

    // The window has passed (the project's bucket opens again).
    await sql`delete from internal.composio_rate_limit`;
    // The failing read again: its second attempt exhausts max_attempts (low: 2) → DLQ.
    await sql`update public.outbox set next_run_at = now() where id = ${readFails}`;
    // An approved risky write runs.
    await sql`select public.approve_envelope(${risky}::uuid, 'ok')`;
    await drain({ tenant_id: t });
    const after = await executions();
    assert.equal((await row(sql, readFails)).status, "dlq:max_attempts");
    assert.equal(after[readFails], 2);
    assert.equal((await row(sql, risky)).status, "succeeded");
    assert.equal(after[risky], 1);
    assert.equal((await row(sql, limited)).status, "deferred", "not due yet: untouched");
    assert.equal(after[limited], 1);
  },
);

stackTest(
  "outbox-drain: guardrail denials go to the DLQ unsent; quiet hours defer, then run",
  async () => {
    await resetSandbox();
    const t = await makeTenant(sql, {
      allowedToolkits: ["slack"],
      quietHours: { timezone: "UTC", windows: [{ start: "00:00", end: "00:00" }] },
    });
    const denied = await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST);
    const t2 = await makeTenant(sql, {
      quietHours: { timezone: "UTC", windows: [{ start: "00:00", end: "00:00" }] },
    });
    const quiet = await enqueue(sql, t2, "GITHUB_CREATE_ISSUE", ISSUE);
    await drain({ tenant_id: t });
    await drain({ tenant_id: t2 });
    const d = await row(sql, denied);
    assert.equal(d.status, "dlq:toolkit_not_allowed");
    assert.equal(d.attempts, 0);
    const q = await row(sql, quiet);
    assert.equal(q.status, "deferred");
    assert.equal(q.attempts, 0, "a deferral consumes no attempt");
    assert.ok(q.next_run_at.getTime() > Date.now(), "deferred until the quiet hours end");
    assert.deepEqual(await audit(sql, quiet), ["outbox_deferred"]);
    const counts = await executions();
    assert.equal(counts[denied] ?? 0, 0);
    assert.equal(counts[quiet] ?? 0, 0);

    // Later: the quiet hours are over (the window removed, the deferral due).
    await sql`update public.guardrails set quiet_hours = '{"timezone": "UTC", "windows": []}'
            where tenant_id = ${t2}`;
    await sql`update public.outbox set next_run_at = now() where id = ${quiet}`;
    await drain({ tenant_id: t2 });
    assert.equal((await row(sql, quiet)).status, "succeeded");
    assert.equal((await executions())[quiet], 1);
    assert.deepEqual(await audit(sql, quiet), ["outbox_deferred", "outbox_succeeded"]);
  },
);

stackTest(
  "outbox-drain: unusable guardrails park the tenant's envelopes with a delay, one alert, no loop",
  async () => {
    await resetSandbox();
    const t = await makeTenant(sql);
    const ids = [
      await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE),
      await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST),
    ];
    // A row saved when the SQL check still let this zone through (before it refused the tz
    // database's non-zones), which Intl refuses: drop the check, write, re-add it unvalidated.
    await sql.begin(async (tx) => {
      await tx`alter table public.guardrails drop constraint guardrails_quiet_hours_check`;
      await tx`update public.guardrails
                set quiet_hours = '{"timezone": "posix/Europe/Berlin", "windows": []}'
              where tenant_id = ${t}`;
      await tx`alter table public.guardrails add constraint guardrails_quiet_hours_check
               check (internal.is_valid_quiet_hours(quiet_hours)) not valid`;
    });
    const logFrom = (await Deno.readTextFile(env.functionsLog)).length;
    const first = await drain({ tenant_id: t });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    const counts = first.json.counts as Record<string, number>;
    assert.equal(counts.guardrails_unusable, 2, JSON.stringify(first.json));
    for (const id of ids) {
      const r = await row(sql, id);
      assert.equal(r.status, "deferred", JSON.stringify(r));
      assert.match(
        r.last_error ?? "",
        /guardrails row is unusable: .*posix\/Europe\/Berlin/,
      );
      assert.deepEqual(await audit(sql, id), ["outbox_deferred"]);
    }
    const [{ wait }] = await sql`
    select min(extract(epoch from next_run_at - now()))::float8 as wait
      from public.outbox where id = any(${ids}::uuid[])`;
    assert.ok(wait > 60, `parked for minutes, not released for the next pass (${wait} s)`);
    // The next pass finds nothing due: no release loop.
    const second = await drain({ tenant_id: t });
    assert.equal(
      (second.json.counts as Record<string, number>).claimed ?? 0,
      0,
      JSON.stringify(second.json),
    );
    assert.deepEqual(await executions(), {}, "nothing was sent");
    // Function logs reach the file a moment after the response.
    const alertsOf = async () =>
      (await Deno.readTextFile(env.functionsLog)).slice(logFrom).split("\n")
        .filter((l) => l.includes('"outbox_guardrails_unusable"') && l.includes(t));
    await until(async () => (await alertsOf()).length > 0, { tries: 50 });
    const alerts = await alertsOf();
    assert.equal(alerts.length, 1, alerts.join("\n"));
    assert.match(alerts[0], /"alert":true/);
    await sql.begin(async (tx) => {
      await tx`update public.guardrails set quiet_hours = '{"timezone": "UTC", "windows": []}'
              where tenant_id = ${t}`;
      await tx`alter table public.guardrails validate constraint guardrails_quiet_hours_check`;
    });
  },
);

stackTest(
  "outbox-drain: executions run at the catalog's version; an unpinned row is never sent",
  async () => {
    await resetSandbox();
    const t = await makeTenant(sql);
    // An older version than the toolkit's latest: at v3.1, a call without it would run the latest.
    await sql`update public.tool_catalog set version = '20250827_00'
             where tenant_id = ${t} and tool_slug = 'GITHUB_CREATE_ISSUE' and is_current`;
    await sql`update public.tool_catalog set version = 'latest'
             where tenant_id = ${t} and tool_slug = 'GITHUB_LIST_ISSUES' and is_current`;
    const pinned = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const unpinned = await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST);
    await drain({ tenant_id: t });
    assert.equal((await row(sql, pinned)).status, "succeeded");
    const u = await row(sql, unpinned);
    assert.equal(u.status, "dlq:version_unpinned");
    assert.equal(u.attempts, 0);
    assert.match(u.last_error ?? "", /pins no version of GITHUB_LIST_ISSUES/);
    const { log } = await sandboxControl("GET", "executions");
    assert.deepEqual(
      log.map((e: Record<string, unknown>) => [
        e.envelope_id,
        e.api_version,
        e.version,
        e.executed_version,
      ]),
      [[pinned, "v3.1", "20250827_00", "20250827_00"]],
    );
  },
);

stackTest(
  "outbox-drain: our own exception fails the run loudly; never-sent envelopes are released",
  async () => {
    const t = await makeTenant(sql);
    const read = await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST);
    const write = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const sentWrite = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    // Our code fails: before sending for two, after the request left for the third.
    const execute = (_config: unknown, req: { slug: string; envelopeId: string }) =>
      Promise.reject(
        new ExecutorError(req.slug, new TypeError("a bug of ours"), req.envelopeId === sentWrite),
      );
    const lines: string[] = [];
    const prev = setLogSink((l) => lines.push(l));
    let summary;
    try {
      summary = await runJob(
        {
          slug: "outbox-drain",
          schema: drainBody,
          defaultBudgetMs,
          run: (ctx) => runDrain(ctx, { execute }),
        },
        { tenant_id: t, chain: false },
        { sql },
      );
    } finally {
      setLogSink(prev);
    }
    assert.equal(summary.status, "failed", JSON.stringify(summary));
    assert.match(summary.error ?? "", /failed in our own code/);
    const failed = lines.map((l) => JSON.parse(l)).find((l) => l.event === "job_failed");
    assert.match(failed?.error?.stack ?? "", /ExecutorError/, "the log keeps the stack");
    assert.equal(failed?.error?.cause?.message, "a bug of ours", "… and the cause");
    // Never sent: released, no attempt used, run again later. Sent (the request had left):
    // the write may have happened, so it is not run again.
    for (const id of [read, write]) {
      const r = await row(sql, id);
      assert.equal(r.status, "pending", `${id}: ${JSON.stringify(r)}`);
      assert.equal(r.attempts, 0);
    }
    const s = await row(sql, sentWrite);
    assert.equal(s.status, "unknown_outcome", JSON.stringify(s));
    assert.match(s.last_error ?? "", /our own code failed/);
  },
);

stackTest("outbox-drain: a dry run decides, sends nothing and changes nothing", async () => {
  await resetSandbox();
  const t = await makeTenant(sql);
  const ok = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
  const invalid = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", { owner: "acme" });
  const res = await drain({ tenant_id: t, dry_run: true });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const counts = res.json.counts as Record<string, number>;
  assert.equal(counts.would_execute, 1);
  assert.equal(counts.would_dead_lettered, 1);
  for (const id of [ok, invalid]) {
    const r = await row(sql, id);
    assert.deepEqual([r.status, r.attempts], ["pending", 0]);
    assert.equal((await executions())[id] ?? 0, 0);
  }
});

stackTest("outbox-drain: 401 on our key halts the drain and gives the rest back", async () => {
  await resetSandbox();
  const t = await makeTenant(sql);
  const first = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
  const rest = [
    await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE),
    await enqueue(sql, t, "GITHUB_LIST_ISSUES", LIST),
  ];
  await fault({ envelope_id: first, status: 401, times: 1 });
  const res = await drain({ tenant_id: t, concurrency: 1 });
  assert.equal(res.status, 500);
  assert.equal(res.json.status, "failed");
  assert.match(String(res.json.error), /API key/);
  const counts = await executions();
  assert.equal(counts[first], 1);
  for (const id of [first, ...rest]) {
    const r = await row(sql, id);
    assert.equal(r.status, "pending", "given back, not dead-lettered");
    assert.equal(r.attempts, 0);
    if (id !== first) assert.equal(counts[id] ?? 0, 0, "nothing sent after the halt");
  }
  const [run] = await sql`
    select status from public.job_runs where id = ${String(res.json.run_id)}::bigint`;
  assert.equal(run.status, "failed");
  // The key works again: everything runs.
  await drain({ tenant_id: t });
  for (const id of [first, ...rest]) assert.equal((await row(sql, id)).status, "succeeded");
});

stackTest(
  "outbox-drain: an invocation stops at its default limit and says more remains",
  async () => {
    // The default keeps one invocation inside the hosted CPU limit; the rest is chained.
    await resetSandbox();
    const t = await makeTenant(sql, { cap: 1_000 });
    await sql`
    insert into public.outbox (tenant_id, tool_slug, toolkit, arguments, connected_account_id,
                               risk, read_only, trust_context)
    select ${t}, 'GITHUB_LIST_ISSUES', 'github', ${sql.json(LIST)}, ${"ca_" + t}, 'low', true,
           '{"score": 0.99}'
    from generate_series(1, ${defaultLimit + 1})`;
    const r = await drain({ tenant_id: t, batch_size: 1_000, concurrency: 32 });
    assert.equal(r.status, 200);
    const counts = r.json.counts as Record<string, number>;
    assert.equal(counts.claimed, defaultLimit);
    assert.equal(counts.succeeded, defaultLimit);
    assert.equal(r.json.status, "partial");
    assert.equal(r.json.remaining, true);
    const [left] = await sql`
    select count(*)::int as n from public.outbox where tenant_id = ${t} and status = 'pending'`;
    assert.equal(left.n, 1);
  },
);

stackTest(
  "outbox-drain: malformed, oversized and wrong-type requests are 4xx and write nothing",
  async () => {
    const [before] = await sql`
    select (select count(*) from public.job_runs where job = 'outbox-drain')::int as runs`;
    const post = (path: string, body: string, auth = true) =>
      fetch(`${fnUrl()}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(auth ? { authorization: `Bearer ${serviceKey()}` } : {}),
        },
        body,
        signal: AbortSignal.timeout(60_000),
      });
    const cases: [string, string, boolean, number][] = [
      ["", "{not json", true, 400],
      ["", JSON.stringify({ limit: "ten" }), true, 400],
      ["", JSON.stringify({ batch_size: 0 }), true, 400],
      ["", JSON.stringify({ unknown: 1 }), true, 400],
      ["", JSON.stringify({ pad: "x".repeat(70_000) }), true, 413],
      ["", "{}", false, 401],
      ["/resolve", JSON.stringify({ id: "nope", resolution: "done" }), true, 400],
      ["/resolve", JSON.stringify({ id: crypto.randomUUID(), resolution: "maybe" }), true, 400],
      ["/resolve", JSON.stringify({ id: crypto.randomUUID(), resolution: "done" }), true, 404],
      ["/retry-dlq", JSON.stringify({ id: crypto.randomUUID() }), true, 404],
      ["/requeue-dlq", JSON.stringify({ limit: -1 }), true, 400],
    ];
    for (const [path, body, auth, status] of cases) {
      const res = await post(path, body, auth);
      const json = await res.json();
      assert.equal(res.status, status, `${path} ${body.slice(0, 40)}: ${JSON.stringify(json)}`);
      assert.equal(typeof json.error?.code, "string");
    }
    const [after] = await sql`
    select (select count(*) from public.job_runs where job = 'outbox-drain')::int as runs`;
    assert.equal(after.runs, before.runs, "no job run was recorded");
  },
);

stackTest(
  "outbox-drain: operator routes requeue dead letters and resolve unknown outcomes",
  async () => {
    await resetSandbox();
    const t = await makeTenant(sql);
    const dead = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const dead2 = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    const unknown = await enqueue(sql, t, "GITHUB_CREATE_ISSUE", ISSUE);
    await fault({ envelope_id: dead, status: 404, times: 1 });
    await fault({ envelope_id: dead2, status: 404, times: 1 });
    await fault({ envelope_id: unknown, status: 502, times: 1 });
    await drain({ tenant_id: t });
    assert.equal((await row(sql, dead)).status, "dlq:non_retryable");
    assert.equal((await row(sql, unknown)).status, "unknown_outcome");

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${fnUrl()}${path}`, {
        method,
        headers: { authorization: `Bearer ${serviceKey()}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
      return { status: res.status, json: await res.json() };
    };
    const st = await call("GET", `/status?tenant_id=${t}&dlq_threshold=1`);
    assert.equal(st.status, 503, "DLQ over the threshold");
    assert.equal(st.json.dlq_total, 2);
    const ok = await call("GET", `/status?tenant_id=${t}&dlq_threshold=5`);
    assert.equal(ok.status, 200);

    const one = await call("POST", "/retry-dlq", { id: dead });
    assert.equal(one.status, 200, JSON.stringify(one.json));
    assert.equal((await row(sql, dead)).status, "pending");
    const all = await call("POST", "/requeue-dlq", { tenant_id: t, limit: 10 });
    assert.equal(all.json.requeued, 1);
    // /drain, the route's first name, is an alias.
    assert.equal((await call("POST", "/drain", { tenant_id: t, limit: 10 })).json.requeued, 0);
    const resolved = await call("POST", "/resolve", {
      id: unknown,
      resolution: "done",
      note: "seen",
    });
    assert.equal(resolved.json.status, "succeeded");
    const again = await call("POST", "/resolve", { id: unknown, resolution: "done" });
    assert.equal(again.status, 409);
    await drain({ tenant_id: t });
    assert.equal((await row(sql, dead)).status, "succeeded");
    assert.equal((await row(sql, dead2)).status, "succeeded");
    assert.equal((await executions())[unknown], 1, "a resolved envelope is not sent again");
    assert.deepEqual(await audit(sql, unknown), ["outbox_unknown_outcome", "outbox_resolved"]);
  },
);

stackTest("outbox-drain: the CLI calls the routes", async () => {
  const env = {
    SUPABASE_URL: Deno.env.get("SUPABASE_URL")!,
    SUPABASE_SERVICE_ROLE_KEY: serviceKey(),
  };
  const status = await cli(["status", "--dlq-threshold", "100000"], env);
  assert.equal(status.code, 0, status.output);
  assert.equal(typeof JSON.parse(status.output).dlq_total, "number");
  const over = await cli(["status", "--dlq-threshold", "0"], env);
  assert.equal(over.code, JSON.parse(over.output).dlq_total > 0 ? 1 : 0);
  const missing = await cli(["retry-dlq", crypto.randomUUID()], env);
  assert.equal(missing.code, 1);
  assert.equal((await cli(["frobnicate"], env)).code, 2);
  assert.equal((await cli(["drain", "--limit", "x"], env)).code, 2);
});

stackTest("outbox-drain: metrics from the database", async () => {
  const res = await fetch(`${fnUrl()}/metrics`, {
    headers: { authorization: `Bearer ${serviceKey()}` },
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  assert.equal(res.status, 200);
  for (
    const name of [
      "outbox_processed_total",
      "outbox_processing_duration_seconds_bucket",
      "outbox_retry_total",
      "outbox_queue_size",
      "outbox_dlq_size",
    ]
  ) assert.match(text, new RegExp(`^${name}`, "m"), name);
});

// The drain stays paused for the test files that follow: a live drain executes, parks or
// dead-letters any envelope other tests enqueue (their fixtures have no Composio accounts).
stackTest("outbox-drain: close the pool (the schedule and the kick stay paused)", async () => {
  await sql.end();
});
