// `deno task db:diff <name>`: the migration that takes a database built from
// supabase/migrations to what supabase/schemas declares, as `supabase db diff` would, without
// Docker. Builds both on throwaway clusters of its own (no running stack needed), diffs them
// with pg-delta both ways, writes supabase/migrations/<timestamp>_<name>.sql and a draft
// supabase/rollbacks/<same>.sql, then checks the pair: the migration applied to the
// migrations database must give the schema files' database, and the rollback applied after
// it must give the migrations' one back. Whatever still differs (data rows above all:
// pg-delta diffs the schema only) is listed in the files as TODO and printed.
import { join, relative } from "node:path";
import { run } from "./command.ts";
import { reportFailure } from "./errors.ts";
import { install, installPgDelta, pgDelta, pgDeltaBin } from "./install.ts";
import { listMigrations, SqlFileRunner } from "./migrate.ts";
import { migrationsDir, projectRoot, rollbacksDir, stackDir } from "./paths.ts";
import { compareSnapshots, snapshotDatabase } from "./schema_compare.ts";
import { buildMigrationsAndSchemaFiles } from "./schemas.ts";

/** `YYYYMMDDHHMMSS` (UTC), later than every existing migration's version. */
export function nextVersion(existing: string[], now = new Date()): string {
  const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  let v = stamp(now);
  const last = existing.reduce((a, b) => (a > b ? a : b), "");
  if (v <= last) {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(last);
    if (!m) throw new Error(`cannot follow migration version ${last}`);
    const [, y, mo, d, h, mi, s] = m.map(Number);
    v = stamp(new Date(Date.UTC(y, mo - 1, d, h, mi, s + 1)));
  }
  return v;
}

/** pg-delta's SQL taking `source` to `desired`, or null when there is nothing to do. */
async function pgDeltaSql(source: string, desired: string, work: string, label: string) {
  const plan = join(work, `${label}.json`);
  const env = { ...Deno.env.toObject(), DO_NOT_TRACK: "1" };
  const planned = await run(
    [pgDeltaBin, "plan", "--source", source, "--desired", desired, "--profile", "supabase"]
      .concat(["--out", plan]),
    { env },
  );
  if (planned.code !== 0) {
    throw new Error(`pgdelta plan (${label}) exited with ${planned.code}:\n${planned.stderr}`);
  }
  const base = join(work, label);
  const rendered = await run(
    [pgDeltaBin, "render", "--plan", plan, "--out", base, "--allow-drops"],
    { env },
  );
  // Exit 3 with {"changes": false}: the plan has no actions.
  if (/"changes":\s*false/.test(rendered.stdout)) return null;
  if (rendered.code !== 0) {
    throw new Error(`pgdelta render (${label}) exited with ${rendered.code}:\n${rendered.stderr}`);
  }
  return (await Deno.readTextFile(`${base}.sql`)).trim();
}

const todo = (lines: string[], what: string) =>
  lines.length === 0 ? [] : [
    `-- TODO by hand: ${what}`,
    ...lines.map((l) => `--   ${l}`),
    "",
  ];

export async function dbDiff(name: string, log: (l: string) => void = console.log) {
  if (!/^[a-z0-9_]+$/.test(name)) {
    throw new Error(`migration name ${JSON.stringify(name)}: use lower case, digits and _`);
  }
  await install({ log: (l) => log(`[install] ${l}`) });
  await installPgDelta((l) => log(`[install] ${l}`));
  const work = await Deno.makeTempDir({ prefix: "db-diff-" });
  log("building a database from supabase/migrations and one from supabase/schemas");
  const built = await buildMigrationsAndSchemaFiles();
  try {
    const m = built.migrations, s = built.schemaFiles;
    const [before, wanted] = await Promise.all([
      snapshotDatabase(m.adminUrl),
      snapshotDatabase(s.adminUrl),
    ]);
    const forward = await pgDeltaSql(m.postgresUrl, s.postgresUrl, work, "forward");
    const reverse = await pgDeltaSql(s.postgresUrl, m.postgresUrl, work, "reverse");
    const differing = compareSnapshots(before, wanted, ["migrations", "schema files"]);
    if (forward === null && differing.length === 0) {
      log("no changes");
      return null;
    }

    const version = nextVersion(listMigrations().map((x) => x.version));
    const file = `${version}_${name}.sql`;
    const historyLine =
      `delete from supabase_migrations.schema_migrations where version = '${version}';`;

    // What the generated pair leaves undone, found by applying it.
    const runner = new SqlFileRunner(m.postgresUrl, m.adminUrl);
    let forwardLeft: string[], reverseLeft: string[];
    try {
      if (forward) await runner.run(file, forward);
      forwardLeft = compareSnapshots(
        await snapshotDatabase(m.adminUrl),
        wanted,
        ["after this migration", "schema files"],
      );
      if (reverse) await runner.run(`rollback ${file}`, `${reverse}\n${historyLine}`);
      reverseLeft = compareSnapshots(
        await snapshotDatabase(m.adminUrl),
        before,
        ["after the rollback", "before this migration"],
      );
    } finally {
      await runner.end();
    }

    const migration = [
      `-- ${name}: <why, in a sentence or two>`,
      `-- Generated by \`deno task db:diff ${name}\` (pg-delta ${pgDelta.version}) from`,
      `-- supabase/schemas: review it, complete it, keep it in one transaction.`,
      "",
      ...todo(
        forwardLeft,
        "the schema files want these, this migration does not do them yet (values: after it vs schema files):",
      ),
      forward ?? "-- (no schema change: only the rows above)",
      "",
    ].join("\n");
    const rollback = [
      `-- Reverts ${file}. A draft by \`deno task db:diff ${name}\` (the reverse diff):`,
      `-- review it. Drops without CASCADE, so an object a later migration made stops it.`,
      "",
      ...todo(
        reverseLeft,
        "this rollback does not undo these yet (values: after it vs before the migration):",
      ),
      reverse ?? "-- (no schema change to revert)",
      "",
      historyLine,
      "",
    ].join("\n");
    await Deno.writeTextFile(join(migrationsDir, file), migration, { createNew: true });
    await Deno.writeTextFile(join(rollbacksDir, file), rollback, { createNew: true });
    log(`wrote ${relative(projectRoot, join(migrationsDir, file))}`);
    log(`wrote ${relative(projectRoot, join(rollbacksDir, file))} (draft)`);
    for (const [left, what] of [[forwardLeft, "migration"], [reverseLeft, "rollback"]] as const) {
      if (left.length > 0) {
        log(`the ${what} leaves ${left.length} difference(s) for you (TODO in the file):`);
        for (const l of left) log(`  ${l}`);
      }
    }
    if (forward && /^\s*DROP\b/im.test(forward)) {
      log(
        "the migration drops objects. Re-creating a view or a constraint is fine; an object " +
          "you did not remove from supabase/schemas means the schema files lack a " +
          "migration's change (tests/schema_drift_test.ts names it): add it there first",
      );
    }
    log("next: review both files, then `deno task test` (drift and roundtrip tests)");
    return file;
  } finally {
    await built.stop();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const [name, ...rest] = Deno.args;
  if (!name || rest.length > 0) {
    console.error("usage: deno task db:diff <name>   (e.g. add_task_priority)");
    Deno.exit(2);
  }
  try {
    await dbDiff(name);
  } catch (err) {
    await Deno.mkdir(join(stackDir, "logs"), { recursive: true });
    await reportFailure(err, { logFile: join(stackDir, "logs", "db_diff.log") });
    Deno.exit(1);
  }
}
