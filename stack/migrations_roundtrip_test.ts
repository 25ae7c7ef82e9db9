// Every migration has a rollback that undoes exactly it: on a fresh cluster, all up then all
// down must give back the schema dump taken before any migration (platform extensions,
// grants and all), and all up again must give the same schema as the first time. The
// platform's storage schema is bootstrapped before any migration, so it is in every dump
// alike; the rows migrations add to it (buckets) are compared besides, as a schema dump
// holds no rows.
import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "./command.ts";
import { applyMigrations, applySeed, listMigrations, rollbackMigrations } from "./migrate.ts";
import { pgBinDir, seedFile } from "./paths.ts";
import { throwawayCluster } from "./cluster.ts";
import { connect } from "../tests/testing.ts";

/**
 * Schema-only dump as the superuser, with owners and privileges (rollbacks must restore
 * both). supabase_migrations is left out: the runner creates it and keeps it. A fixed
 * restrict key keeps pg_dump's `\restrict` lines identical between dumps.
 */
async function dumpSchema(url: string): Promise<string> {
  const res = await run([
    join(pgBinDir, "pg_dump"),
    "--schema-only",
    "--exclude-schema=supabase_migrations",
    "--restrict-key=roundtrip",
    `--dbname=${url}`,
  ]);
  if (res.code !== 0) throw new Error(`pg_dump exited with ${res.code}: ${res.stderr}`);
  return res.stdout;
}

/** The lines one dump has and the other lacks, for a readable failure. */
function lineDiff(want: string, got: string): string {
  const count = (text: string) => {
    const m = new Map<string, number>();
    for (const l of text.split("\n")) m.set(l, (m.get(l) ?? 0) + 1);
    return m;
  };
  const w = count(want), g = count(got);
  const out: string[] = [];
  for (const [l, n] of w) if ((g.get(l) ?? 0) < n) out.push(`- ${l}`);
  for (const [l, n] of g) if ((w.get(l) ?? 0) < n) out.push(`+ ${l}`);
  return out.slice(0, 80).join("\n");
}

/** The buckets in storage.buckets: rows the project's migrations add to a platform table. */
async function buckets(url: string): Promise<string[]> {
  const sql = connect(url);
  try {
    return (await sql`select id from storage.buckets order by id`).map((r) => r.id);
  } finally {
    await sql.end();
  }
}

Deno.test("all migrations roll back to the pre-migration schema and apply again", async () => {
  const cluster = await throwawayCluster();
  try {
    const migrations = listMigrations();
    assert.ok(migrations.length > 0, "no migrations found");

    const before = await dumpSchema(cluster.adminUrl);
    const bucketsBefore = await buckets(cluster.adminUrl);

    const applied = await applyMigrations(cluster.postgresUrl);
    assert.equal(applied.length, migrations.length);
    const migrated = await dumpSchema(cluster.adminUrl);
    assert.notEqual(migrated, before, "migrations changed nothing");
    const bucketsMigrated = await buckets(cluster.adminUrl);

    const reverted = await rollbackMigrations(cluster.postgresUrl);
    assert.deepEqual(
      reverted.map((m) => m.version),
      migrations.map((m) => m.version).reverse(),
      "rollbacks run newest first, one per migration",
    );
    const after = await dumpSchema(cluster.adminUrl);
    assert.ok(
      after === before,
      `schema after rolling back differs from before migrating:\n${lineDiff(before, after)}`,
    );
    assert.deepEqual(await buckets(cluster.adminUrl), bucketsBefore, "rollbacks left buckets");
    const sql = connect(cluster.postgresUrl);
    try {
      const [{ n }] = await sql`
        select count(*)::int as n from supabase_migrations.schema_migrations`;
      assert.equal(n, 0, "rollbacks left schema_migrations rows behind");
    } finally {
      await sql.end();
    }

    assert.equal((await applyMigrations(cluster.postgresUrl)).length, migrations.length);
    const again = await dumpSchema(cluster.adminUrl);
    assert.ok(
      again === migrated,
      `schema after re-applying differs from the first application:\n${lineDiff(migrated, again)}`,
    );
    assert.deepEqual(await buckets(cluster.adminUrl), bucketsMigrated);
    // The seed still loads on a schema that went down and up.
    await applySeed(cluster.postgresUrl, seedFile);
  } finally {
    await cluster.stop();
  }
});
