// deno-lint-ignore-file no-explicit-any -- job summaries and snapshots are wire JSON
// drift-monitor against the stack: catalog-sync fills a tenant's catalog from the shared
// sandbox, the sandbox changes, drift-monitor records it; users read their latest. The
// breaking-drift webhook: tests/drift_webhook_test.ts.
import { callFunction, need, sandboxControl, withSql } from "./testing.ts";
import assert from "node:assert/strict";
import postgres from "postgres";
import { mintUserToken } from "../stack/keys.ts";

const fnUrl = (slug: string) => `${need("SUPABASE_URL")}/functions/v1/${slug}`;

const callJob = callFunction;

const sandbox = sandboxControl;

const obj = (props: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  properties: props,
  required,
});

Deno.test(
  "drift: changes classified, one snapshot and audit row per run, metrics",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const kit = `dk${crypto.randomUUID().slice(0, 8)}`;
    const K = kit.toUpperCase();
    const tools = (edit: boolean) => [
      {
        slug: `${K}_LIST_A`,
        tags: ["readOnlyHint"],
        input_parameters: obj(
          edit ? { a: { type: "string" } } : {
            a: { type: "string" },
            b: { type: "string" },
          },
        ),
      },
      {
        slug: `${K}_GET_B`,
        tags: ["readOnlyHint"],
        input_parameters: obj({
          id: { type: "string", description: edit ? "The id." : "Id." },
        }, ["id"]),
      },
      {
        slug: `${K}_CREATE_E`,
        tags: ["createHint"],
        input_parameters: obj({ x: { type: "string" } }, edit ? ["x"] : []),
      },
      ...(edit
        ? [{ slug: `${K}_SEARCH_F`, tags: ["readOnlyHint"] }]
        : [{ slug: `${K}_DELETE_C`, tags: ["destructiveHint"] }]),
    ];
    await sandbox("PUT", `catalog/${kit}`, tools(false));
    const [{ id: tenant }] = await sql`
      insert into public.tenants (name) values ('drift test') returning id::text`;
    await sql`
      insert into public.connected_accounts (tenant_id, toolkit, status)
      values (${tenant}, ${kit}, 'active')`;

    const synced = await callJob("catalog-sync", { tenant_id: tenant });
    assert.equal(synced.counts.added, 4, JSON.stringify(synced));

    const quiet = await callJob("drift-monitor", { tenant_id: tenant });
    assert.equal(quiet.status, "succeeded", JSON.stringify(quiet));
    assert.deepEqual([quiet.counts.breaking, quiet.counts.non_breaking], [0, 0]);

    await sandbox("PUT", `catalog/${kit}`, tools(true));
    const res = await callJob("drift-monitor", { tenant_id: tenant });
    assert.equal(res.status, "succeeded");
    const snaps = await sql`
      select id, run_id::text, snapshot, breaking_count, non_breaking_count
        from public.catalog_audit where tenant_id = ${tenant} order by id`;
    assert.equal(snaps.length, 2, "one snapshot per tenant and run");
    const snap = snaps[1];
    assert.equal(snap.run_id, res.run_id);
    assert.deepEqual(snap.snapshot.counts, {
      added: 1,
      removed: 1,
      changed: 3,
      breaking: 3,
      non_breaking: 2,
      errors: 0,
    });
    const byTool = Object.fromEntries(
      snap.snapshot.tools.map((t: any) => [t.tool, [t.drift, t.changes.map((c: any) => c.kind)]]),
    );
    assert.deepEqual(byTool, {
      [`${K}_LIST_A`]: ["breaking", ["property_removed"]],
      [`${K}_CREATE_E`]: ["breaking", ["required_added"]],
      [`${K}_DELETE_C`]: ["breaking", ["property_removed"]],
      [`${K}_GET_B`]: ["non_breaking", ["description_changed"]],
      [`${K}_SEARCH_F`]: ["non_breaking", ["property_added"]],
    });
    assert.deepEqual([snap.breaking_count, snap.non_breaking_count], [3, 2]);
    const audits = await sql`
      select payload from public.audit_log
       where tenant_id = ${tenant} and category = 'catalog_drift' order by id`;
    assert.equal(audits.length, 2);
    assert.equal(audits[1].payload.breaking, 3);

    const metrics = await fetch(fnUrl("drift-monitor/metrics"), {
      headers: { authorization: `Bearer ${need("SUPABASE_SERVICE_ROLE_KEY")}` },
    }).then((r) => r.text());
    assert.ok(metrics.includes(`catalog_drift_breaking{tenant="${tenant}"} 3`), metrics);

    // The pinned version disappears upstream: every stored tool breaks.
    await sandbox("PATCH", `toolkits/${kit}`, {
      version: "20990101_00",
      available_versions: ["20990101_00"],
    });
    const dropped = await callJob("drift-monitor", { tenant_id: tenant });
    const [last] = await sql`
      select snapshot from public.catalog_audit where tenant_id = ${tenant}
       order by id desc limit 1`;
    assert.equal(dropped.status, "succeeded");
    const droppedTools = last.snapshot.tools.filter((t: any) =>
      t.changes.some((c: any) => c.kind === "version_dropped")
    );
    assert.equal(droppedTools.length, 3, "LIST_A, GET_B, CREATE_E pin a dropped version");
  }),
);

Deno.test(
  "drift: a tool Composio deprecates is removed upstream (breaking) until the catalog agrees",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const kit = `dk${crypto.randomUUID().slice(0, 8)}`;
    const K = kit.toUpperCase();
    await sandbox("PUT", `catalog/${kit}`, [
      { slug: `${K}_LIST_A`, tags: ["readOnlyHint"], input_parameters: obj({}) },
      { slug: `${K}_CREATE_B`, tags: ["createHint"], input_parameters: obj({}) },
    ]);
    const [{ id: tenant }] = await sql`
      insert into public.tenants (name) values ('drift deprecation test') returning id::text`;
    await sql`
      insert into public.connected_accounts (tenant_id, toolkit, status)
      values (${tenant}, ${kit}, 'active')`;
    assert.equal((await callJob("catalog-sync", { tenant_id: tenant })).counts.added, 2);

    await sandbox("PATCH", `catalog/${kit}/${K}_CREATE_B`, { is_deprecated: true });
    const latest = async () => {
      const res = await callJob("drift-monitor", { tenant_id: tenant });
      assert.equal(res.status, "succeeded", JSON.stringify(res));
      const [row] = await sql`
        select snapshot from public.catalog_audit where tenant_id = ${tenant}
         order by id desc limit 1`;
      return row.snapshot;
    };
    const drifted = await latest();
    assert.deepEqual([drifted.counts.removed, drifted.counts.breaking], [1, 1]);
    assert.deepEqual(
      drifted.tools.map((t: any) => [t.tool, t.status, t.drift]),
      [[`${K}_CREATE_B`, "removed", "breaking"]],
    );
    // Once catalog-sync has deprecated it too, nothing differs.
    assert.equal((await callJob("catalog-sync", { tenant_id: tenant })).counts.deprecated, 1);
    const agreed = await latest();
    assert.deepEqual(agreed.tools, []);
  }),
);

Deno.test(
  "GET /drift-monitor: tenant A's member gets A's latest drift, never B's",
  withSql(async (sql) => {
    await sandbox("POST", "reset");
    const A = "00000000-0000-0000-0000-00000000000a";
    const B = "00000000-0000-0000-0000-00000000000b";
    // Seeded ids are not RFC 4122 UUIDs, which job bodies (z.uuid()) refuse: record fresh
    // snapshots for A and B the way drift-monitor does.
    for (const [tenant, breaking] of [[A, 0], [B, 2]] as const) {
      await sql`
        select internal.catalog_drift_record(${tenant}, null,
          ${sql.json({ counts: { breaking } })}, ${breaking}, 0)`;
    }
    const latest = async (tenant: string) =>
      (await sql`
        select id::int as id from public.catalog_audit where tenant_id = ${tenant}
         order by created_at desc, id desc limit 1`)[0].id;
    const [latestA, latestB] = [await latest(A), await latest(B)];
    assert.ok(latestB > 0, "B's rows exist");

    const admin = postgres(need("STACK_ADMIN_URL"), { max: 1, onnotice: () => {} });
    try {
      const get = async (user: string | null) => {
        const token = user ? await mintUserToken(admin, user) : null;
        const res = await fetch(fnUrl("drift-monitor"), {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
        return { status: res.status, body: await res.json() };
      };
      const a = await get("00000000-0000-0000-0000-0000000000a2");
      assert.equal(a.status, 200);
      assert.equal(a.body.tenant_id, A);
      assert.equal(a.body.latest.tenant_id, A);
      assert.equal(a.body.latest.id, latestA);
      assert.notEqual(a.body.latest.id, latestB);
      const b = await get("00000000-0000-0000-0000-0000000000b1");
      assert.equal(b.body.latest.id, latestB);
      const none = await get(null);
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, "unauthorized");
    } finally {
      await admin.end();
    }
  }),
);
