// Reconciliation of unknown outcomes, over HTTP against the stack and the Composio sandbox's
// issue tracker: a GITHUB_CREATE_ISSUE whose answer is lost is read back with
// GITHUB_LIST_ISSUES, matched by the envelope's external id in the issue body. Each branch on
// the envelope's row, its audit rows and the sandbox's log and issues: found → succeeded with
// the issue as evidence; absent where authoritative → the write runs exactly once more; not
// visible yet → no retry, then found; not authoritative → left for the operator; undeclared →
// untouched. The schedule and the kick stay paused (only the tests' drains run).
import assert from "node:assert/strict";
import type postgres from "postgres";
import {
  audit,
  connect,
  drain,
  env,
  fault,
  ISSUE,
  makeTenant,
  pauseDrain,
  resetSandbox,
  row,
  sandboxControl,
  sleep,
} from "./testing.ts";

const sql = connect(env.postgresUrl);
const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeResources: false, sanitizeOps: false });

/** GITHUB_CREATE_ISSUE's unknown outcomes read back by listing the repository's issues. */
async function declare(
  db: postgres.Sql,
  tenant: string,
  over: { authoritative?: boolean; settle_delay_ms?: number; max_attempts?: number } = {},
): Promise<void> {
  await db`
    insert into internal.tool_readbacks (tenant_id, tool_slug, read_tool_slug, read_arguments,
                                         match, marker_argument, authoritative, settle_delay_ms,
                                         max_attempts)
    values (${tenant}, 'GITHUB_CREATE_ISSUE', 'GITHUB_LIST_ISSUES',
            ${
    db.json({
      owner: { $ref: "/arguments/owner" },
      repo: { $ref: "/arguments/repo" },
      state: "all",
      per_page: 100,
    })
  },
            ${
    db.json({
      items: "/data/issues",
      field: "/body",
      value: { $ref: "/external_id" },
      mode: "contains",
    })
  },
            '/body', ${over.authoritative ?? true}, ${over.settle_delay_ms ?? 0},
            ${over.max_attempts ?? 5})`;
}

/** An issue envelope whose body carries its external id, as the caller writes it. */
async function enqueueIssue(db: postgres.Sql, tenant: string, slug = "GITHUB_CREATE_ISSUE") {
  const ext = `rc-${crypto.randomUUID()}`;
  const args = slug === "GITHUB_CREATE_ISSUE"
    ? { ...ISSUE, body: `Seen on the dashboard.\n\noutbox-ref: ${ext}` }
    : { ...ISSUE, issue_number: 1, body: `outbox-ref: ${ext}` };
  const [r] = await db`
    select id::text from public.enqueue_envelope(${tenant}::uuid, ${slug},
      ${db.json(args as never)}, ${ext}, ${"ca_" + tenant}, ${
    db.json({ score: 0.99, evidence: [] })
  })`;
  return { id: r.id as string, ext };
}

/** Execute calls of the envelope by tool, from the sandbox's log. */
async function calls(id: string): Promise<Record<string, number>> {
  const { log } = await sandboxControl("GET", "executions") as {
    log: { slug: string; envelope_id: string | null }[];
  };
  const out: Record<string, number> = {};
  for (const e of log) if (e.envelope_id === id) out[e.slug] = (out[e.slug] ?? 0) + 1;
  return out;
}

/** Issues in the sandbox whose body carries the marker. */
async function issuesWith(ext: string): Promise<{ number: number; envelope_id: string }[]> {
  const { issues } = await sandboxControl("GET", "issues") as {
    issues: { number: number; body: string | null; envelope_id: string }[];
  };
  return issues.filter((i) => i.body?.includes(ext));
}

async function drainTenant(t: string) {
  const res = await drain({ tenant_id: t });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.counts as Record<string, number>;
}

test("reconcile: pause the schedule and the kick for these tests", async () => {
  await pauseDrain(true);
});

test("reconcile: a write whose answer was lost is found and settled succeeded, with the issue as evidence", async () => {
  await resetSandbox();
  await sandboxControl("PUT", "issues", { enabled: true });
  const t = await makeTenant(sql);
  await declare(sql, t);
  const { id, ext } = await enqueueIssue(sql, t);
  await fault({ envelope_id: id, status: 500, after_apply: true, times: 1 });

  await drainTenant(t);
  assert.equal((await row(sql, id)).status, "unknown_outcome", "the 500 came after the issue");
  const counts = await drainTenant(t);
  assert.equal(counts.reconciled, 1, JSON.stringify(counts));

  const r = await row(sql, id);
  assert.equal(r.status, "succeeded");
  assert.equal(r.outcome, "reconciled");
  assert.equal(r.attempts, 1, "nothing ran again");
  assert.deepEqual(await audit(sql, id), ["outbox_unknown_outcome", "outbox_reconciled"]);
  const made = await issuesWith(ext);
  assert.equal(made.length, 1);
  const [ev] = await sql`select content from public.evidence where envelope_id = ${id}`;
  assert.equal(ev.content.number, made[0].number, "the matched issue is the evidence");
  const [a] = await sql`
    select payload from public.audit_log where envelope_id = ${id} and category = 'outbox_reconciled'`;
  assert.equal(a.payload.read_tool, "GITHUB_LIST_ISSUES");
  assert.equal(a.payload.verdict, "found");
  assert.ok(!("arguments" in a.payload));
  assert.deepEqual(await calls(id), { GITHUB_CREATE_ISSUE: 1, GITHUB_LIST_ISSUES: 1 });
});

test("reconcile: absent where the read is authoritative: the write runs exactly once more", async () => {
  await resetSandbox();
  await sandboxControl("PUT", "issues", { enabled: true });
  const t = await makeTenant(sql);
  await declare(sql, t, { settle_delay_ms: 300 });
  const { id, ext } = await enqueueIssue(sql, t);
  // Refused before the tool ran: nothing was created, but a write's 500 is unknown.
  await fault({ envelope_id: id, status: 500, times: 1 });

  await drainTenant(t);
  assert.equal((await row(sql, id)).status, "unknown_outcome");
  await sleep(400);
  // One invocation: the read finds nothing after the delay, the loop then runs the write.
  const counts = await drainTenant(t);
  assert.equal(counts.reconcile_retried, 1, JSON.stringify(counts));
  assert.equal(counts.succeeded, 1, JSON.stringify(counts));
  const r = await row(sql, id);
  assert.equal(r.status, "succeeded");
  assert.equal(r.attempts, 2);
  assert.deepEqual(await audit(sql, id), [
    "outbox_unknown_outcome",
    "outbox_reconcile_retry",
    "outbox_succeeded",
  ]);
  assert.deepEqual(await calls(id), { GITHUB_CREATE_ISSUE: 2, GITHUB_LIST_ISSUES: 1 });
  assert.equal((await issuesWith(ext)).length, 1, "one issue: no duplicate");

  await drainTenant(t);
  assert.deepEqual(await calls(id), { GITHUB_CREATE_ISSUE: 2, GITHUB_LIST_ISSUES: 1 }, "done");
});

test("reconcile: not visible yet within the settle delay: no retry, then found once visible", async () => {
  await resetSandbox();
  await sandboxControl("PUT", "issues", { enabled: true, visibility_delay_ms: 1_200 });
  const t = await makeTenant(sql);
  await declare(sql, t, { settle_delay_ms: 2_000 });
  const { id, ext } = await enqueueIssue(sql, t);
  await fault({ envelope_id: id, status: 500, after_apply: true, times: 1 });

  await drainTenant(t);
  const first = await drainTenant(t);
  assert.equal(first.reconcile_inconclusive, 1, JSON.stringify(first));
  assert.equal((await row(sql, id)).status, "unknown_outcome", "sees nothing yet: no retry");
  const [s] = await sql`
    select r.attempts, r.last_error,
           -- The function's clock and the database's may differ by a few milliseconds.
           r.next_attempt_at <= o.completed_at + interval '2.1 seconds' as by_deadline
      from internal.outbox_reconcile r join public.outbox o on o.id = r.envelope_id
     where r.envelope_id = ${id}`;
  assert.equal(s.attempts, 1);
  assert.match(s.last_error, /not visible yet/);
  assert.ok(s.by_deadline, "the next read comes no later than the settle delay's end");

  let status = "unknown_outcome";
  for (let i = 0; i < 40 && status === "unknown_outcome"; i++) {
    await sleep(250);
    await drainTenant(t);
    status = (await row(sql, id)).status;
  }
  assert.equal(status, "succeeded");
  const cats = await audit(sql, id);
  assert.equal(cats[0], "outbox_unknown_outcome");
  assert.equal(cats.at(-1), "outbox_reconciled");
  assert.ok(cats.slice(1, -1).every((c) => c === "outbox_reconcile_inconclusive"), cats.join());
  assert.equal((await calls(id)).GITHUB_CREATE_ISSUE, 1, "the write never ran again");
  assert.equal((await issuesWith(ext)).length, 1);
});

test("reconcile: absent where the read is not authoritative: left for the operator", async () => {
  await resetSandbox();
  await sandboxControl("PUT", "issues", { enabled: true });
  const t = await makeTenant(sql);
  await declare(sql, t, { authoritative: false, max_attempts: 1 });
  const { id, ext } = await enqueueIssue(sql, t);
  await fault({ envelope_id: id, status: 500, times: 1 });

  await drainTenant(t);
  const counts = await drainTenant(t);
  assert.equal(counts.reconcile_given_up, 1, JSON.stringify(counts));
  await drainTenant(t);
  const r = await row(sql, id);
  assert.equal(r.status, "unknown_outcome");
  assert.deepEqual(await audit(sql, id), ["outbox_unknown_outcome", "outbox_reconcile_given_up"]);
  const [s] = await sql`
    select gave_up_at is not null as gave_up, last_error from internal.outbox_reconcile
     where envelope_id = ${id}`;
  assert.ok(s.gave_up);
  assert.match(s.last_error, /not authoritative/);
  assert.deepEqual(await calls(id), { GITHUB_CREATE_ISSUE: 1, GITHUB_LIST_ISSUES: 1 });
  assert.equal((await issuesWith(ext)).length, 0);
});

test("reconcile: an undeclared tool, or a tenant without declarations, is left untouched", async () => {
  await resetSandbox();
  await sandboxControl("PUT", "issues", { enabled: true });
  const t = await makeTenant(sql);
  await declare(sql, t);
  const other = await makeTenant(sql);
  const comment = await enqueueIssue(sql, t, "GITHUB_CREATE_ISSUE_COMMENT");
  const issue = await enqueueIssue(sql, other);
  await fault({ envelope_id: comment.id, status: 500, times: 1 });
  await fault({ envelope_id: issue.id, status: 500, times: 1 });

  for (const tenant of [t, other, t, other]) await drainTenant(tenant);
  for (const e of [comment, issue]) {
    assert.equal((await row(sql, e.id)).status, "unknown_outcome");
    assert.deepEqual(await audit(sql, e.id), ["outbox_unknown_outcome"]);
    assert.equal((await calls(e.id)).GITHUB_LIST_ISSUES, undefined, "never read back");
  }
  const [n] = await sql`
    select count(*)::int as n from internal.outbox_reconcile
     where envelope_id = any(${[comment.id, issue.id]}::uuid[])`;
  assert.equal(n.n, 0);
});

test("reconcile: close the pool; the sandbox's tracker off again", async () => {
  await resetSandbox();
  await sql.end();
});
