// supabase/schemas (the current definition) and supabase/migrations (the deployable history)
// must build the same database. Whoever adds a migration without the schema files, or edits
// a schema file without a migration, is told here which objects disagree.
import { compareSnapshots, snapshotDatabase } from "../stack/schema_compare.ts";
import { buildMigrationsAndSchemaFiles } from "../stack/schemas.ts";

Deno.test("supabase/schemas builds the same database as supabase/migrations", async () => {
  const built = await buildMigrationsAndSchemaFiles();
  try {
    const [fromMigrations, fromSchemaFiles] = await Promise.all([
      snapshotDatabase(built.migrations.adminUrl),
      snapshotDatabase(built.schemaFiles.adminUrl),
    ]);
    const diffs = compareSnapshots(fromMigrations, fromSchemaFiles, [
      "migrations",
      "schema files",
    ]);
    if (diffs.length > 0) {
      throw new Error(
        [
          `supabase/migrations and supabase/schemas disagree on ${diffs.length} object(s) ` +
          `(values: migrations vs schema files).`,
          `A new migration needs the same change in the schema file of each object below; a ` +
          `changed schema file needs its migration (deno task db:diff <name>).`,
          ...diffs.map((d) => `  ${d}`),
        ].join("\n"),
      );
    }
  } finally {
    await built.stop();
  }
});
