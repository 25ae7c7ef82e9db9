// The deploy path's database half with the real CLI: `supabase db push` writes the Vault
// secrets of config.toml's [db.vault] from the environment before it applies migrations, and
// only when one is pending. Until the secrets are there, the schedules tick without calling
// anything and the jobs show as not configured once.
//
// The migrations go in through the project's runner first: the CLI runs them as postgres,
// and plain Postgres refuses postgres the event triggers that supautils allows on hosted
// (the runner reproduces that privilege). The CLI then finds its own records complete.
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { supabaseCliBin } from "../stack/install.ts";
import { applyMigrations, listMigrations } from "../stack/migrate.ts";
import { projectRoot } from "../stack/paths.ts";
import { throwawayCluster } from "../stack/cluster.ts";
import { connect } from "./testing.ts";

/** A copy of the project's supabase/ config and migrations, to add a migration to. */
async function workdirCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "db-push-" });
  await Deno.mkdir(join(dir, "supabase", "migrations"), { recursive: true });
  await Deno.copyFile(
    join(projectRoot, "supabase", "config.toml"),
    join(dir, "supabase", "config.toml"),
  );
  for (const m of listMigrations()) {
    await Deno.copyFile(m.file, join(dir, "supabase", "migrations", basename(m.file)));
  }
  return dir;
}

async function push(workdir: string, dbUrl: string, env: Record<string, string>) {
  const out = await new Deno.Command(supabaseCliBin, {
    args: ["db", "push", "--db-url", dbUrl, "--yes", "--workdir", workdir],
    env: { ...env, SUPABASE_TELEMETRY_DISABLED: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("db push: [db.vault] secrets are written only with a pending migration; until then jobs are not configured", async () => {
  // A cluster of its own: pg_cron lives in one database per cluster.
  const db = await throwawayCluster();
  const workdir = await workdirCopy();
  const sql = connect(db.adminUrl);
  try {
    await applyMigrations(db.postgresUrl, { adminUrl: db.adminUrl });
    const [{ n }] = await sql`select count(*)::int as n from supabase_migrations.schema_migrations`;
    assert.equal(n, listMigrations().length, "every migration applied");

    // No secrets yet: a tick sends nothing and records the job as not configured, once.
    await sql`select jobs.invoke('outbox-drain'), jobs.invoke('outbox-drain')`;
    const [state] = await sql`
      select not_configured, failing from jobs.health where job = 'outbox-drain'`;
    assert.equal(state.not_configured, "missing Vault secrets: project_url, service_role_key");
    assert.equal(state.failing, false);
    assert.equal((await sql`select count(*)::int as n from net.http_request_queue`)[0].n, 0);

    // Nothing pending: the secrets of [db.vault] are not written.
    const env = { PROJECT_URL: "https://ref.supabase.co", SERVICE_ROLE_KEY: "sb_secret_x" };
    const idle = await push(workdir, db.postgresUrl, env);
    assert.equal(idle.code, 0, idle.output);
    assert.match(idle.output, /up to date/i);
    assert.equal((await sql`select count(*)::int as n from vault.secrets`)[0].n, 0);

    // A pending migration: the secrets are written first, then it is applied.
    await Deno.writeTextFile(
      join(workdir, "supabase", "migrations", "29991231000000_db_push_test.sql"),
      "select 1;\n",
    );
    const pending = await push(workdir, db.postgresUrl, env);
    assert.equal(pending.code, 0, pending.output);
    assert.match(pending.output, /Updating vault secrets/);
    const secrets = await sql`
      select name, decrypted_secret from vault.decrypted_secrets order by name`;
    assert.deepEqual(secrets.map((r) => [r.name, r.decrypted_secret]), [
      ["project_url", env.PROJECT_URL],
      ["service_role_key", env.SERVICE_ROLE_KEY],
    ]);
    const [{ request }] = await sql`select jobs.invoke('outbox-drain') as request`;
    assert.ok(request !== null, "with the secrets, invoke sends");
    const [after] = await sql`select not_configured from jobs.health where job = 'outbox-drain'`;
    assert.equal(after.not_configured, null, "the not-configured state is cleared");
  } finally {
    await sql.end();
    await db.stop();
    await Deno.remove(workdir, { recursive: true });
  }
});
