// The declarative schema: supabase/schemas holds the current definition of every object the
// migrations create, one object (or one tight group) per file. This module lists the files
// in the order supabase/config.toml's [db.migrations] schema_paths gives them, resolved as
// the Supabase CLI resolves it, and applies them as the migrations are applied (each file in
// its own transaction as postgres, `create event trigger` as the superuser handed to postgres).
import { join, relative } from "node:path";
import { parse } from "smol-toml";
import { applyMigrations, SqlFileRunner } from "./migrate.ts";
import { projectRoot } from "./paths.ts";
import { throwawayCluster } from "./cluster.ts";

export const supabaseDir = join(projectRoot, "supabase");
export const schemasDir = join(supabaseDir, "schemas");

/** `[db.migrations] schema_paths` of `<supabaseDir>/config.toml`: patterns relative to it. */
export function schemaPathPatterns(dir = supabaseDir): string[] {
  const config = parse(Deno.readTextFileSync(join(dir, "config.toml"))) as {
    db?: { migrations?: { schema_paths?: unknown } };
  };
  const paths = config.db?.migrations?.schema_paths;
  if (!Array.isArray(paths) || paths.length === 0) {
    throw new Error(`${join(dir, "config.toml")}: [db.migrations] schema_paths is not set`);
  }
  return paths.map(String);
}

/** A glob segment (`*`, `?`, `[…]`, as Go's path.Match) as a regular expression. */
function segmentRegExp(segment: string): RegExp {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i + 1);
      if (end < 0) throw new Error(`bad pattern segment ${segment}`);
      const body = segment.slice(i + 1, end);
      re += `[${body.startsWith("^") ? "^" + body.slice(1) : body}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

const hasWildcard = (s: string) => /[*?[]/.test(s);

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** The paths (relative to `dir`) matching one pattern, segment by segment, sorted. */
function globPattern(dir: string, pattern: string): string[] {
  let matches = [""];
  for (const segment of pattern.replace(/^\.\//, "").split("/").filter((s) => s !== ".")) {
    const next: string[] = [];
    for (const base of matches) {
      if (!hasWildcard(segment)) {
        const candidate = base ? `${base}/${segment}` : segment;
        try {
          Deno.statSync(join(dir, candidate));
          next.push(candidate);
        } catch { /* no such path */ }
        continue;
      }
      if (!isDirectory(join(dir, base))) continue;
      const re = segmentRegExp(segment);
      for (const entry of Deno.readDirSync(join(dir, base))) {
        if (re.test(entry.name)) next.push(base ? `${base}/${entry.name}` : entry.name);
      }
    }
    matches = next;
  }
  return matches.sort();
}

/** Every .sql file below `dir/rel`, as paths relative to `dir`, sorted. */
function walkSql(dir: string, rel: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(join(dir, rel))) {
    const path = `${rel}/${entry.name}`;
    if (entry.isDirectory) out.push(...walkSql(dir, path));
    else if (entry.isFile && entry.name.endsWith(".sql")) out.push(path);
  }
  return out.sort();
}

/**
 * The schema files in the order they apply, as absolute paths. As the CLI: each pattern is
 * matched in the order listed, its matches sorted, a matched folder expanded to the .sql
 * files below it (sorted), a file listed twice kept at its first place. Stricter than the
 * CLI: a pattern matching nothing, and a .sql file under supabase/schemas that no pattern
 * lists, are errors (the CLI would skip the file without a word).
 */
export function listSchemaFiles(dir = supabaseDir): string[] {
  const seen = new Set<string>();
  const files: string[] = [];
  for (const pattern of schemaPathPatterns(dir)) {
    const matches = globPattern(dir, pattern);
    if (matches.length === 0) {
      throw new Error(`supabase/config.toml schema_paths: ${pattern} matches no file`);
    }
    for (const m of matches) {
      for (const f of isDirectory(join(dir, m)) ? walkSql(dir, m) : [m]) {
        if (!seen.has(f)) seen.add(f), files.push(f);
      }
    }
  }
  const schemas = join(dir, "schemas");
  const unlisted = isDirectory(schemas) ? walkSql(dir, "schemas").filter((f) => !seen.has(f)) : [];
  if (unlisted.length > 0) {
    throw new Error(
      `not in supabase/config.toml [db.migrations] schema_paths, so the CLI would skip them: ${
        unlisted.map((f) => `supabase/${f}`).join(", ")
      }`,
    );
  }
  return files.map((f) => join(dir, f));
}

/**
 * Builds the declarative schema into the database at `url` (a fresh project database):
 * every schema file in order, each in its own transaction. A failure names the file and line.
 */
export async function applySchemaFiles(
  url: string,
  opts: { files?: string[]; adminUrl?: string; log?: (l: string) => void } = {},
): Promise<string[]> {
  const files = opts.files ?? listSchemaFiles();
  const runner = new SqlFileRunner(url, opts.adminUrl);
  try {
    for (const file of files) {
      await runner.run(file, await Deno.readTextFile(file), { label: relative(projectRoot, file) });
      opts.log?.(`applied ${relative(projectRoot, file)}`);
    }
    return files;
  } finally {
    await runner.end();
  }
}

export interface BuiltDatabase {
  /** postgres on the database. */
  postgresUrl: string;
  /** The superuser on the same database (snapshots read everything). */
  adminUrl: string;
}

/**
 * One database built from supabase/migrations and one from supabase/schemas, each the
 * `postgres` database of a throwaway cluster of its own: both builds create pg_cron
 * schedules, and pg_cron lives in one database per cluster (cron.database_name), so two
 * scratch databases of one cluster cannot hold them. `stop()` removes both clusters.
 */
export async function buildMigrationsAndSchemaFiles(
  opts: { migrationsDir?: string; schemaFiles?: string[] } = {},
): Promise<{ migrations: BuiltDatabase; schemaFiles: BuiltDatabase; stop(): Promise<void> }> {
  const made = await Promise.allSettled([throwawayCluster(), throwawayCluster()]);
  const clusters = made.flatMap((m) => (m.status === "fulfilled" ? [m.value] : []));
  const stop = async () => {
    await Promise.all(clusters.map((c) => c.stop()));
  };
  try {
    const failed = made.find((m) => m.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    const [m, s] = clusters;
    await Promise.all([
      applyMigrations(m.postgresUrl, { dir: opts.migrationsDir }),
      applySchemaFiles(s.postgresUrl, { files: opts.schemaFiles }),
    ]);
    return {
      migrations: { postgresUrl: m.postgresUrl, adminUrl: m.adminUrl },
      schemaFiles: { postgresUrl: s.postgresUrl, adminUrl: s.adminUrl },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
