// catalog-sync against the stack `deno task test` starts: the served function, the pooler,
// pg_net and the shared Composio sandbox. Each test makes its own tenant and toolkit.
import { callFunction, need, sandboxControl, withSql } from "./testing.ts";
import assert from "node:assert/strict";
import postgres from "postgres";
import { generateTools } from "../stack/composio_sandbox.ts";

const callJob = callFunction;

const sandbox = sandboxControl;

function rand(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 8);
}

/** A tenant with an active account for `toolkit` (inserted active: no warm scan). */
async function newTenant(sql: postgres.Sql, toolkit: string): Promise<string> {
  const [{ id }] = await sql`
    insert into public.tenants (name) values (${`catalog test ${rand()}`}) returning id::text`;
  await sql`
    insert into public.connected_accounts (tenant_id, toolkit, external_account_id, status)
    values (${id}, ${toolkit}, ${`ca_${toolkit}`}, 'active')`;
  return id;
}

/** Resumes `slugs` (the test runner pauses every job); the returned function pauses them again. */
async function resumed(sql: postgres.Sql, slugs: string[]): Promise<() => Promise<void>> {
  for (const slug of slugs) await sql`select jobs.resume(${slug})`;
  return async () => {
    for (const slug of slugs) await sql`select jobs.pause(${slug})`;
  };
}

const rowVersions = (sql: postgres.Sql, tenant: string) =>
  sql<{ id: string; v: string }[]>`
    select id::text, xmin::text || '/' || ctid::text as v from public.tool_catalog
     where tenant_id = ${tenant} order by id`;

Deno.test(
  "sync: paging, no-change resync writes no row, change, vanish and return",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const kit = `kit${rand()}`;
    await sandbox("POST", "catalog/generate", { toolkit: kit, count: 250, seed: 3 });
    const tenant = await newTenant(sql, kit);

    // First sync, 40 tools per page: 7 pages.
    const first = await callJob("catalog-sync", { tenant_id: tenant, page_size: 40 });
    assert.equal(first.status, "succeeded", JSON.stringify(first));
    assert.equal(first.counts.fetched, 250);
    assert.equal(first.counts.added, 250);
    assert.equal(first.counts.errors, 0);
    const [{ n, readOnly }] = await sql`
      select count(*)::int as n, count(*) filter (where read_only)::int as "readOnly"
        from public.tool_catalog where tenant_id = ${tenant} and is_current`;
    assert.equal(n, 250);
    assert.ok(readOnly > 0 && readOnly < 250);
    const [run] = await sql`
      select status, counts from public.job_runs where id = ${first.run_id}`;
    assert.equal(run.status, "succeeded");
    assert.equal(run.counts.added, 250);
    const [audit] = await sql`
      select payload from public.audit_log
       where tenant_id = ${tenant} and category = 'catalog_sync' and payload ->> 'run_id' = ${first.run_id}`;
    assert.deepEqual(
      [audit.payload.added, audit.payload.changed, audit.payload.unchanged, audit.payload.errors],
      [250, 0, 0, 0],
    );
    const [schedule] = await sql`
      select interval_seconds from internal.trickle_schedule
       where tenant_id = ${tenant} and toolkit = ${kit}`;
    assert.ok(schedule.interval_seconds >= 1800 && schedule.interval_seconds <= 3600);

    // No change: no row written.
    const before = await rowVersions(sql, tenant);
    const again = await callJob("catalog-sync", { tenant_id: tenant, page_size: 40 });
    assert.equal(again.status, "succeeded");
    assert.deepEqual(
      [again.counts.added, again.counts.changed, again.counts.unchanged, again.counts.deprecated],
      [0, 0, 250, 0],
    );
    assert.deepEqual(await rowVersions(sql, tenant), before, "row versions unchanged");

    // One tool changed, one vanished.
    // The toolkit the sandbox made for the generated catalog (same name, same descriptions).
    const name = kit.charAt(0).toUpperCase() + kit.slice(1);
    const info = { slug: kit, name, logo: `https://logos.composio.dev/api/${kit}` };
    const tools = generateTools(info, 250, 3);
    const edited = structuredClone(tools);
    (edited[0].input_parameters.properties as Record<string, unknown>).extra = { type: "string" };
    const vanished = edited.pop()!;
    await sandbox("PUT", `catalog/${kit}`, edited);
    const third = await callJob("catalog-sync", { tenant_id: tenant });
    assert.deepEqual(
      [third.counts.added, third.counts.changed, third.counts.unchanged, third.counts.deprecated],
      [0, 1, 248, 1],
    );
    const [gone] = await sql`
      select deprecated_at, is_current from public.tool_catalog
       where tenant_id = ${tenant} and tool_slug = ${vanished.slug}`;
    assert.ok(gone.deprecated_at instanceof Date, "vanished tool deprecated");
    assert.equal(gone.is_current, true, "kept, not deleted");
    const after = await rowVersions(sql, tenant);
    assert.equal(after.filter((r, i) => r.v !== before[i].v).length, 2, "two rows written");

    // It comes back: restored.
    await sandbox("PUT", `catalog/${kit}`, tools);
    const fourth = await callJob("catalog-sync", { tenant_id: tenant });
    assert.deepEqual([fourth.counts.restored, fourth.counts.changed], [1, 1]);
  }),
);

Deno.test(
  "sync: a tool Composio lists as deprecated is deprecated like a vanished one, and restored",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const kit = `kit${rand()}`;
    await sandbox("POST", "catalog/generate", { toolkit: kit, count: 20, seed: 9 });
    const tenant = await newTenant(sql, kit);
    assert.equal((await callJob("catalog-sync", { tenant_id: tenant })).counts.added, 20);
    const [{ tool_slug: slug }] = await sql`
      select tool_slug from public.tool_catalog where tenant_id = ${tenant} and is_current
       order by tool_slug limit 1`;
    const state = async () =>
      (await sql`
        select deprecated_at is not null as deprecated, is_current from public.tool_catalog
         where tenant_id = ${tenant} and tool_slug = ${slug}`)[0];

    await sandbox("PATCH", `catalog/${kit}/${slug}`, { is_deprecated: true });
    const before = await rowVersions(sql, tenant);
    const marked = await callJob("catalog-sync", { tenant_id: tenant });
    assert.equal(marked.status, "succeeded", JSON.stringify(marked));
    assert.deepEqual(
      [marked.counts.fetched, marked.counts.unchanged, marked.counts.deprecated],
      [19, 19, 1],
    );
    assert.deepEqual(await state(), { deprecated: true, is_current: true });
    const after = await rowVersions(sql, tenant);
    assert.equal(after.filter((r, i) => r.v !== before[i].v).length, 1, "only its row written");
    // Enqueue refuses it, as for any deprecated tool.
    await assert.rejects(
      sql`select public.enqueue_envelope(${tenant}::uuid, ${slug}, '{}'::jsonb)`,
      (e: { code?: string }) => e.code === "PT410",
    );

    // Still deprecated upstream: nothing more is written (no restore-then-deprecate churn).
    const again = await callJob("catalog-sync", { tenant_id: tenant });
    assert.deepEqual([again.counts.deprecated, again.counts.restored], [0, 0]);
    assert.deepEqual(await rowVersions(sql, tenant), after, "no row written");

    await sandbox("PATCH", `catalog/${kit}/${slug}`, { is_deprecated: false });
    const live = await callJob("catalog-sync", { tenant_id: tenant });
    assert.deepEqual([live.counts.restored, live.counts.deprecated], [1, 0]);
    assert.deepEqual(await state(), { deprecated: false, is_current: true });
  }),
);

Deno.test(
  "sync: a malformed tool is an error for that tool; 429 then success",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const kit = `kit${rand()}`;
    await sandbox("POST", "catalog/generate", { toolkit: kit, count: 30, seed: 5 });
    await sandbox("POST", `catalog/${kit}/raw`, [{ slug: `${kit.toUpperCase()}_BROKEN` }, 7]);
    await sandbox("POST", "faults", { route: "list", status: 429, retry_after: 1, times: 1 });
    const tenant = await newTenant(sql, kit);
    const res = await callJob("catalog-sync", { tenant_id: tenant, page_size: 20 });
    assert.equal(res.status, "succeeded", JSON.stringify(res));
    assert.deepEqual([res.counts.added, res.counts.errors], [30, 2]);
    assert.deepEqual((await sandbox("GET", "faults")).faults, [], "the 429 was served");
    const log = await Deno.readTextFile(need("STACK_FUNCTIONS_LOG"));
    const lines = log.split("\n").filter((l) => l.includes(`"run_id":"${res.run_id}"`));
    assert.ok(lines.some((l) => l.includes('"composio_retry"') && l.includes('"status":429')));
    assert.ok(lines.some((l) => l.includes('"tool_invalid"') && l.includes("_BROKEN")));
    const [{ n }] = await sql`
      select count(*)::int as n from public.tool_catalog where tenant_id = ${tenant}`;
    assert.equal(n, 30);
  }),
);

Deno.test(
  "sync: two concurrent syncs of one tenant, one syncs and the other skips",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const kit = `kit${rand()}`;
    await sandbox("POST", "catalog/generate", { toolkit: kit, count: 20 });
    // The first listing is slow, so both invocations overlap.
    await sandbox("POST", "faults", { route: "list", delay_ms: 1500, times: 1 });
    const tenant = await newTenant(sql, kit);
    const results = await Promise.all([
      callJob("catalog-sync", { tenant_id: tenant }),
      callJob("catalog-sync", { tenant_id: tenant }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["skipped", "succeeded"]);
    const skipped = results.find((r) => r.status === "skipped")!;
    assert.match(skipped.skipped, /another invocation/);
    assert.equal(results.find((r) => r.status === "succeeded")!.counts.added, 20);
  }),
);

Deno.test(
  "sync: a tenant never synced (its account imported active) is due at once; the tick syncs it",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const kit = `kit${rand()}`;
    await sandbox("POST", "catalog/generate", { toolkit: kit, count: 10 });
    const tenant = await newTenant(sql, kit);
    const marked = await sql`
      select 1 from internal.catalog_sync_due where tenant_id = ${tenant} and due_at <= now()`;
    assert.equal(marked.length, 1, "due without a nightly mark");
    const res = await callJob("catalog-sync", { budget_ms: 30_000 });
    assert.notEqual(res.status, "failed", JSON.stringify(res));
    const due = await sql`select 1 from internal.catalog_sync_due where tenant_id = ${tenant}`;
    assert.equal(due.length, 0, "no longer due");
    const [{ n }] = await sql`
      select count(*)::int as n from public.tool_catalog where tenant_id = ${tenant}`;
    assert.equal(n, 10);
  }),
);

Deno.test(
  "warm scan: an account becoming active syncs its toolkit and enqueues refresh envelopes",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const kit = `warm${rand()}`;
    const K = kit.toUpperCase();
    await sandbox("PUT", `catalog/${kit}`, [
      { slug: `${K}_LIST_THINGS`, tags: ["readOnlyHint"] },
      {
        slug: `${K}_GET_THING`,
        tags: ["readOnlyHint"],
        input_parameters: {
          type: "object",
          properties: { id: { type: "string" } },
          required: ["id"],
        },
      },
      { slug: `${K}_CREATE_THING`, tags: ["createHint"] },
    ]);
    const [{ id: tenant }] = await sql`
      insert into public.tenants (name) values ('warm scan test') returning id::text`;
    const [{ id: account }] = await sql`
      insert into public.connected_accounts (tenant_id, toolkit, external_account_id)
      values (${tenant}, ${kit}, 'ca_warm') returning id`;
    // The test runner pauses every job, and a paused job gets no warm scan.
    const resume = await resumed(sql, ["catalog-sync", "trickle-refresh"]);
    try {
      // Ten activations (the finding: ten scans, ten refreshes): one scan in the interval.
      for (let i = 0; i < 10; i++) {
        await sql`update public.connected_accounts set status = 'active' where id = ${account}`;
        await sql`update public.connected_accounts set status = 'inactive' where id = ${account}`;
      }
      await sql`update public.connected_accounts set status = 'active' where id = ${account}`;

      // catalog-sync runs after commit (pg_net), then invokes trickle-refresh the same way.
      for (let i = 0; i < 150; i++) {
        const [done] = await sql`
          select 1 from public.job_runs
           where tenant_id = ${tenant} and job = 'trickle-refresh' and status <> 'running'`;
        if (done) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await resume();
    }
    // outbox-drain may have executed it meanwhile (its schedule): count the DLQ too.
    const envelopes = await sql<{ external_id: string; tool_slug: string }[]>`
      select external_id, tool_slug from public.outbox where tenant_id = ${tenant}
      union all
      select external_id, tool_slug from public.outbox_dlq where tenant_id = ${tenant}`;
    assert.equal(envelopes.length, 1, "one refresh envelope");
    assert.equal(envelopes[0].tool_slug, `${K}_LIST_THINGS`);
    assert.match(
      envelopes[0].external_id,
      new RegExp(`^trickle:${kit}:${K}_LIST_THINGS:\\d{8}T\\d{6}Z$`),
    );
    const runs = await sql`
      select job, status, invocation from public.job_runs where tenant_id = ${tenant} order by id`;
    assert.deepEqual(runs.map((r) => [r.job, r.status]), [
      ["catalog-sync", "succeeded"],
      ["trickle-refresh", "succeeded"],
    ]);
    const [{ n }] = await sql`
      select count(*)::int as n from public.tool_catalog where tenant_id = ${tenant}`;
    assert.equal(n, 3);
  }),
);

Deno.test(
  "warm scan: a toolkit Composio refuses is that tenant's error in the counts, not a failed job",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const kit = `refused${rand()}`;
    const tenant = await newTenant(sql, kit);
    await sandbox("POST", "faults", {
      route: "list",
      status: 400,
      message: `Toolkit ${kit} not found`,
      times: 1,
    });
    const summary = await callJob("catalog-sync", {
      tenant_id: tenant,
      toolkit: kit,
      warm: true,
      chain: false,
    });
    assert.equal(summary.status, "succeeded", JSON.stringify(summary));
    assert.equal(summary.counts.errors, 1);
    assert.equal(summary.counts.tenants_failed, 1);
    assert.match(summary.details.error, /not found/);
    const [audit] = await sql`
      select payload from public.audit_log
       where tenant_id = ${tenant} and category = 'catalog_sync' order by seq desc limit 1`;
    assert.equal(audit.payload.failures[0].toolkit, kit);
    const [run] = await sql`
      select status from public.job_runs where id = ${summary.run_id}`;
    assert.equal(run.status, "succeeded");
  }),
);

Deno.test("sync: bad bodies are 400s naming the field", async () => {
  const res = await callJob("catalog-sync", { toolkit: "github" });
  assert.equal(res.error.code, "invalid_body");
  assert.match(res.error.message, /tenant_id/);
  const res2 = await callJob("catalog-sync", { tenant_id: crypto.randomUUID(), page_size: 0 });
  assert.match(res2.error.message, /page_size/);
});
