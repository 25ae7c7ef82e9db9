import assert from "node:assert/strict";
import { join } from "node:path";
import { listSchemaFiles } from "./schemas.ts";

async function supabaseDirWith(config: string, files: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "schemas-" });
  await Deno.writeTextFile(join(dir, "config.toml"), config);
  for (const f of files) {
    await Deno.mkdir(join(dir, f, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, f), "select 1;");
  }
  return dir;
}

Deno.test("schema files are listed in schema_paths order, each pattern's matches by name", async () => {
  const dir = await supabaseDirWith(
    `[db.migrations]
schema_paths = ["./schemas/20_b/first.sql", "./schemas/10_a/*.sql", "./schemas/20_b"]`,
    [
      "schemas/10_a/0200_y.sql",
      "schemas/10_a/0100_x.sql",
      "schemas/20_b/first.sql",
      "schemas/20_b/0100_z.sql",
      "schemas/20_b/sub/0050_w.sql",
      "schemas/10_a/notes.md",
    ],
  );
  try {
    assert.deepEqual(listSchemaFiles(dir).map((f) => f.slice(dir.length + 1)), [
      "schemas/20_b/first.sql",
      "schemas/10_a/0100_x.sql",
      "schemas/10_a/0200_y.sql",
      "schemas/20_b/0100_z.sql",
      "schemas/20_b/sub/0050_w.sql",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a schema file no pattern lists, and a pattern matching nothing, are refused", async () => {
  const dir = await supabaseDirWith(
    `[db.migrations]\nschema_paths = ["./schemas/10_a/*.sql"]`,
    ["schemas/10_a/0100_x.sql", "schemas/20_new/0100_y.sql"],
  );
  try {
    assert.throws(
      () => listSchemaFiles(dir),
      /schema_paths.*supabase\/schemas\/20_new\/0100_y\.sql/,
    );
    await Deno.writeTextFile(
      join(dir, "config.toml"),
      `[db.migrations]\nschema_paths = ["./schemas/10_a/*.sql", "./schemas/30_*/*.sql"]`,
    );
    assert.throws(() => listSchemaFiles(dir), /\.\/schemas\/30_\*\/\*\.sql matches no file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
