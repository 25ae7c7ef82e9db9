// 20261204010000_webhook_url_policy on a database holding URLs the new check refuses: they
// become NULL, each with a webhook_url_refused audit row naming the host and the problem
// (never the URL: its path or user info may hold a secret); accepted URLs stay.
import assert from "node:assert/strict";
import { join } from "node:path";
import { connect } from "./testing.ts";
import { throwawayCluster } from "../stack/cluster.ts";
import { applyMigrations, listMigrations } from "../stack/migrate.ts";

const version = "20261204010000";

Deno.test("webhook URL policy migration: refused URLs become NULL with an audit note", async () => {
  // A cluster of its own: pg_cron, which the migrations create, lives in one database each.
  const db = await throwawayCluster();
  const before = await Deno.makeTempDir({ prefix: "migrations-before-" });
  try {
    for (const m of listMigrations().filter((m) => m.version < version)) {
      await Deno.copyFile(m.file, join(before, `${m.version}_${m.name}.sql`));
    }
    await applyMigrations(db.postgresUrl, { dir: before, adminUrl: db.adminUrl });
    const sql = connect(db.postgresUrl, { max: 1 });
    try {
      const urls = {
        loopback: "http://127.0.0.1:54330/_sandbox/reset",
        metadata: "https://169.254.169.254/latest/meta-data/",
        credentials: "https://user:s3cret@hooks.example.com/drift?token=t0k3n",
        kept: "https://hooks.example.com/drift?token=t0k3n",
      };
      const ids: Record<string, string> = {};
      for (const [name, url] of Object.entries(urls)) {
        const [{ id }] = await sql`
          insert into public.tenants (name) values (${name}) returning id::text`;
        await sql`update public.guardrails set drift_webhook_url = ${url} where tenant_id = ${id}`;
        ids[name] = id;
      }
      await applyMigrations(db.postgresUrl, { adminUrl: db.adminUrl });

      const rows = await sql`
        select t.name, g.drift_webhook_url as url
          from public.guardrails g join public.tenants t on t.id = g.tenant_id
         where t.id = any (${Object.values(ids)}::uuid[]) order by t.name`;
      assert.deepEqual(
        Object.fromEntries(rows.map((r) => [r.name, r.url])),
        { credentials: null, kept: urls.kept, loopback: null, metadata: null },
      );
      const notes = await sql`
        select t.name, a.actor_type, a.actor_id, a.payload
          from public.audit_log a join public.tenants t on t.id = a.tenant_id
         where a.category = 'webhook_url_refused' order by t.name`;
      assert.deepEqual(notes.map((n) => [n.name, n.payload.host, n.payload.problem]), [
        ["credentials", "hooks.example.com", "must not carry credentials (user:password@)"],
        ["loopback", "127.0.0.1:54330", "must use https"],
        [
          "metadata",
          "169.254.169.254",
          "names host 169.254.169.254, which is not a public address (link-local, 169.254.0.0/16)",
        ],
      ]);
      assert.ok(
        notes.every((n) => n.actor_type === "system" && n.payload.action === "set to null"),
      );
      const text = JSON.stringify(notes);
      assert.ok(!/s3cret|t0k3n|_sandbox|meta-data/.test(text), `no URL in the notes: ${text}`);
    } finally {
      await sql.end();
    }
  } finally {
    await db.stop();
    await Deno.remove(before, { recursive: true });
  }
});
