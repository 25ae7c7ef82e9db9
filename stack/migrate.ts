// Applies supabase/migrations in order, each in its own transaction, recording them in
// supabase_migrations.schema_migrations exactly as the Supabase CLI does (so `supabase
// migration list --db-url` agrees); rolls back with supabase/rollbacks/<same name>.sql.
import postgres from "postgres";
import { basename, join } from "node:path";
import { migrationsDir, rollbacksDir } from "./paths.ts";

/** `<version>_<name>.sql`, the CLI's pattern. */
const migrationFile = /^([0-9]+)_(.*)\.sql$/;

export interface Migration {
  version: string;
  name: string;
  file: string;
}

export function listMigrations(dir = migrationsDir): Migration[] {
  const out: Migration[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const m = migrationFile.exec(entry.name);
    if (entry.isFile && m) out.push({ version: m[1], name: m[2], file: join(dir, entry.name) });
  }
  return out.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

// The CLI's own bookkeeping DDL, verbatim in effect.
const historyDdl = `
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
  alter table supabase_migrations.schema_migrations add column if not exists statements text[];
  alter table supabase_migrations.schema_migrations add column if not exists name text;
  create table if not exists supabase_migrations.seed_files (path text not null primary key, hash text not null);
`;

export class MigrationError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${basename(file)}: ${message}`);
  }
}

function describe(err: unknown, text: string): string {
  const e = err as { message?: string; position?: string; detail?: string; hint?: string };
  let msg = e.message ?? String(err);
  if (e.position) {
    const line = text.slice(0, Number(e.position)).split("\n").length;
    msg += ` (line ${line})`;
  }
  if (e.detail) msg += `\nDETAIL: ${e.detail}`;
  if (e.hint) msg += `\nHINT: ${e.hint}`;
  return msg;
}

function connect(url: string) {
  return postgres(url, { max: 1, onnotice: () => {}, prepare: false });
}

export async function appliedVersions(sql: postgres.Sql): Promise<Set<string>> {
  const rows = await sql`
    select version from supabase_migrations.schema_migrations order by version`.catch(
    (e) => (e.code === "42P01" ? [] : Promise.reject(e)),
  );
  return new Set(rows.map((r) => r.version as string));
}

/**
 * Applies every migration not yet recorded. Each runs in one transaction with its history
 * row, so a failure leaves nothing half-applied; the first failure stops the run.
 */
export async function applyMigrations(
  url: string,
  opts: { dir?: string; log?: (l: string) => void } = {},
): Promise<Migration[]> {
  const log = opts.log ?? (() => {});
  const sql = connect(url);
  try {
    await sql.unsafe(historyDdl).simple();
    const done = await appliedVersions(sql);
    const applied: Migration[] = [];
    for (const m of listMigrations(opts.dir)) {
      if (done.has(m.version)) continue;
      const text = await Deno.readTextFile(m.file);
      try {
        await sql.begin(async (tx) => {
          await tx.unsafe(text).simple();
          await tx`
            insert into supabase_migrations.schema_migrations (version, name, statements)
            values (${m.version}, ${m.name}, ${[text]})`;
        });
      } catch (err) {
        throw new MigrationError(m.file, describe(err, text));
      }
      log(`applied ${basename(m.file)}`);
      applied.push(m);
    }
    return applied;
  } finally {
    await sql.end();
  }
}

/**
 * Reverts applied migrations newest first with supabase/rollbacks/<same file name>, down to
 * (not including) `toVersion`, or all of them. Each rollback removes its own history row.
 */
export async function rollbackMigrations(
  url: string,
  opts: { toVersion?: string; dir?: string; rollbackDir?: string; log?: (l: string) => void } = {},
): Promise<Migration[]> {
  const log = opts.log ?? (() => {});
  const sql = connect(url);
  try {
    const done = await appliedVersions(sql);
    const reverted: Migration[] = [];
    const targets = listMigrations(opts.dir).filter((m) =>
      done.has(m.version) && (!opts.toVersion || m.version > opts.toVersion)
    ).reverse();
    for (const m of targets) {
      const file = join(opts.rollbackDir ?? rollbacksDir, basename(m.file));
      const text = await Deno.readTextFile(file).catch(() => {
        throw new MigrationError(file, "rollback file is missing");
      });
      try {
        await sql.begin(async (tx) => {
          await tx.unsafe(text).simple();
          const [{ left }] = await tx`
            select count(*)::int as left from supabase_migrations.schema_migrations
            where version = ${m.version}`;
          if (left !== 0) throw new Error("rollback did not remove its schema_migrations row");
        });
      } catch (err) {
        throw new MigrationError(file, describe(err, text));
      }
      log(`reverted ${basename(m.file)}`);
      reverted.push(m);
    }
    return reverted;
  } finally {
    await sql.end();
  }
}

/** Runs supabase/seed.sql as postgres, as `supabase db reset` does. */
export async function applySeed(url: string, file: string): Promise<void> {
  const text = await Deno.readTextFile(file);
  const sql = connect(url);
  try {
    await sql.begin((tx) => tx.unsafe(text).simple());
  } catch (err) {
    throw new MigrationError(file, describe(err, text));
  } finally {
    await sql.end();
  }
}
