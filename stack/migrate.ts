// Applies supabase/migrations in order, each in its own transaction, recording them in
// supabase_migrations.schema_migrations exactly as the Supabase CLI does (so `supabase
// migration list --db-url` agrees); rolls back with supabase/rollbacks/<same name>.sql.
import postgres from "postgres";
import { createHash } from "node:crypto";
import { basename, join, relative } from "node:path";
import { migrationsDir, projectRoot, rollbacksDir } from "./paths.ts";

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
  constructor(readonly file: string, message: string, label = basename(file)) {
    super(`${label}: ${message}`);
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

/** `create event trigger <name> … ;` (event trigger statements hold no `;` of their own). */
const createEventTrigger = /create\s+event\s+trigger\s+("[^"]+"|[a-z_][a-z0-9_$]*)[^;]*;/gi;

/**
 * Platform tables postgres does not own but may write policies on: supautils'
 * `policy_grants` on hosted (supabase/postgres ansible/files/postgresql_config/supautils.conf.j2).
 */
export const policyGrantTables = new Set([
  "auth.audit_log_entries",
  "auth.identities",
  "auth.refresh_tokens",
  "auth.sessions",
  "auth.users",
  "realtime.messages",
  "storage.buckets",
  "storage.migrations",
  "storage.objects",
  "storage.s3_multipart_uploads",
  "storage.s3_multipart_uploads_parts",
]);

/** CREATE / ALTER / DROP POLICY and COMMENT ON POLICY: supautils handles all four. */
const policyStart =
  /(?:(?:create|alter|drop)\s+policy\s+(?:if\s+exists\s+)?|comment\s+on\s+policy\s+)(?:"[^"]+"|[a-z_][a-z0-9_$]*)\s+on\s+(?:only\s+)?("?[a-z_][a-z0-9_$]*"?)\s*\.\s*("?[a-z_][a-z0-9_$]*"?)/gi;

/** Where the statement starting at `from` ends: past its `;`, outside quotes and parentheses. */
function statementEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, i + 1);
      i = close < 0 ? text.length : close;
    } else if (c === "$") {
      const tag = /^\$[a-z_]*\$/i.exec(text.slice(i))?.[0];
      if (tag) {
        const close = text.indexOf(tag, i + tag.length);
        i = close < 0 ? text.length : close + tag.length - 1;
      }
    } else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === ";" && depth === 0) return i + 1;
  }
  return text.length;
}

/**
 * What hosted lets postgres do that plain Postgres keeps for the superuser, found in a SQL
 * file: `create event trigger` (supautils creates it as superuser, owned by postgres) and
 * policy DDL on the platform tables supautils grants policies on.
 */
export type Privileged = { kind: "event_trigger"; name: string } | { kind: "platform_policy" };

/**
 * Splits a file into runs of ordinary statements and privileged ones, keeping each piece's
 * offset in the file (for error positions).
 */
export function splitPrivileged(
  text: string,
): Array<{ text: string; offset: number; privileged?: Privileged }> {
  const found: Array<{ start: number; end: number; privileged: Privileged }> = [];
  const inComment = (at: number) => text.slice(text.lastIndexOf("\n", at) + 1, at).includes("--");
  for (const m of text.matchAll(createEventTrigger)) {
    if (inComment(m.index!)) continue;
    found.push({
      start: m.index!,
      end: m.index! + m[0].length,
      privileged: { kind: "event_trigger", name: m[1] },
    });
  }
  for (const m of text.matchAll(policyStart)) {
    if (inComment(m.index!)) continue;
    const table = `${m[1].replaceAll('"', "")}.${m[2].replaceAll('"', "")}`.toLowerCase();
    if (!policyGrantTables.has(table)) continue;
    found.push({
      start: m.index!,
      end: statementEnd(text, m.index!),
      privileged: { kind: "platform_policy" },
    });
  }
  found.sort((x, y) => x.start - y.start);
  const out: Array<{ text: string; offset: number; privileged?: Privileged }> = [];
  let at = 0;
  for (const f of found) {
    if (f.start < at) continue;
    if (f.start > at) out.push({ text: text.slice(at, f.start), offset: at });
    out.push({ text: text.slice(f.start, f.end), offset: f.start, privileged: f.privileged });
    at = f.end;
  }
  if (at < text.length) out.push({ text: text.slice(at), offset: at });
  return out;
}

/**
 * Hands an event trigger to postgres. Vanilla Postgres refuses a non-superuser owner
 * (ALTER EVENT TRIGGER … OWNER TO), so the superuser writes the owner into the catalog and
 * records the ownership dependency, as for any object postgres owns: the result is the
 * hosted one (owned by postgres, which may comment on it, alter or drop it).
 */
function ownEventTrigger(name: string): string {
  const evt = `(select oid from pg_catalog.pg_event_trigger where evtname = '${
    name.replace(/^"|"$/g, "").replaceAll("'", "''")
  }')`;
  return `
    update pg_catalog.pg_event_trigger set evtowner = 'postgres'::regrole where oid = ${evt};
    delete from pg_catalog.pg_shdepend
     where classid = 'pg_catalog.pg_event_trigger'::regclass and objid = ${evt} and deptype = 'o';
    insert into pg_catalog.pg_shdepend (dbid, classid, objid, objsubid, refclassid, refobjid, deptype)
    select d.oid, 'pg_catalog.pg_event_trigger'::regclass, ${evt}, 0,
           'pg_catalog.pg_authid'::regclass, 'postgres'::regrole, 'o'
      from pg_catalog.pg_database d where d.datname = current_database();`;
}

/**
 * Runs a file with privileged statements, in one transaction on the superuser connection:
 * everything as postgres (`set local role`), except those statements, which run as the
 * superuser, as supautils runs them on hosted: event triggers are then handed to postgres,
 * which owns them there.
 */
async function runWithPrivileged(tx: postgres.TransactionSql, text: string) {
  await tx.unsafe("set local role postgres").simple();
  for (const piece of splitPrivileged(text)) {
    try {
      if (piece.privileged) {
        await tx.unsafe("set local role none").simple();
        await tx.unsafe(piece.text).simple();
        if (piece.privileged.kind === "event_trigger") {
          await tx.unsafe(ownEventTrigger(piece.privileged.name)).simple();
        }
        await tx.unsafe("set local role postgres").simple();
      } else if (piece.text.trim() !== "") {
        await tx.unsafe(piece.text).simple();
      }
    } catch (err) {
      // Positions are relative to the piece: make them relative to the file.
      const e = err as { position?: string };
      if (e.position) e.position = String(Number(e.position) + piece.offset);
      throw err;
    }
  }
}

/** The local stack's superuser on the cluster of `url` (same password as postgres). */
function localAdminUrl(url: string): string {
  const u = new URL(url);
  u.username = "supabase_admin";
  return u.toString();
}

/**
 * Runs project SQL files as hosted runs them: each in one transaction as postgres, and a
 * file with privileged statements (splitPrivileged) on the superuser connection (`adminUrl`,
 * default: the local stack's superuser on the same cluster), as postgres except for those.
 * Migrations and the declarative schema files (stack/schemas.ts) both go through it.
 */
export class SqlFileRunner {
  #sql: postgres.Sql;
  #admin: postgres.Sql | null = null;
  #adminUrl: string;

  constructor(url: string, adminUrl?: string) {
    this.#sql = connect(url);
    this.#adminUrl = adminUrl ?? localAdminUrl(url);
  }

  /** The postgres connection, for what callers read or write around the files. */
  get sql(): postgres.Sql {
    return this.#sql;
  }

  /**
   * Runs `text` (the content of `file`) in one transaction, then `andThen` in the same
   * transaction. A failure is a MigrationError naming the file (as `label`), the line and
   * Postgres' message, and leaves nothing of the file behind.
   */
  async run(
    file: string,
    text: string,
    opts: { andThen?: (tx: postgres.TransactionSql) => Promise<unknown>; label?: string } = {},
  ): Promise<void> {
    const needsSuperuser = splitPrivileged(text).some((p) => p.privileged);
    if (needsSuperuser && !this.#admin) this.#admin = connect(this.#adminUrl);
    try {
      await (needsSuperuser ? this.#admin! : this.#sql).begin(async (tx) => {
        if (needsSuperuser) await runWithPrivileged(tx, text);
        else await tx.unsafe(text).simple();
        await opts.andThen?.(tx);
      });
    } catch (err) {
      throw new MigrationError(file, describe(err, text), opts.label);
    }
  }

  async end(): Promise<void> {
    await this.#sql.end();
    await this.#admin?.end();
  }
}

/**
 * Applies every migration not yet recorded. Each runs in one transaction with its history
 * row, so a failure leaves nothing half-applied; the first failure stops the run. A
 * migration that creates event triggers runs on `adminUrl` (default: the local stack's
 * superuser on the same cluster), as postgres except for those statements.
 */
export async function applyMigrations(
  url: string,
  opts: { dir?: string; log?: (l: string) => void; adminUrl?: string } = {},
): Promise<Migration[]> {
  const log = opts.log ?? (() => {});
  const runner = new SqlFileRunner(url, opts.adminUrl);
  try {
    await runner.sql.unsafe(historyDdl).simple();
    const done = await appliedVersions(runner.sql);
    const applied: Migration[] = [];
    for (const m of listMigrations(opts.dir)) {
      if (done.has(m.version)) continue;
      const text = await Deno.readTextFile(m.file);
      await runner.run(m.file, text, {
        andThen: (tx) =>
          tx`
            insert into supabase_migrations.schema_migrations (version, name, statements)
            values (${m.version}, ${m.name}, ${[text]})`,
      });
      log(`applied ${basename(m.file)}`);
      applied.push(m);
    }
    return applied;
  } finally {
    await runner.end();
  }
}

/**
 * Reverts applied migrations newest first with supabase/rollbacks/<same file name>, down to
 * (not including) `toVersion`, or all of them. Each rollback removes its own history row.
 * Rollbacks run as migrations do (SqlFileRunner): a policy dropped from a platform table
 * runs as the superuser, as supautils lets postgres drop it on hosted.
 */
export async function rollbackMigrations(
  url: string,
  opts: {
    toVersion?: string;
    dir?: string;
    rollbackDir?: string;
    log?: (l: string) => void;
    adminUrl?: string;
  } = {},
): Promise<Migration[]> {
  const log = opts.log ?? (() => {});
  const runner = new SqlFileRunner(url, opts.adminUrl);
  try {
    const done = await appliedVersions(runner.sql);
    const reverted: Migration[] = [];
    const targets = listMigrations(opts.dir).filter((m) =>
      done.has(m.version) && (!opts.toVersion || m.version > opts.toVersion)
    ).reverse();
    for (const m of targets) {
      const file = join(opts.rollbackDir ?? rollbacksDir, basename(m.file));
      const text = await Deno.readTextFile(file).catch(() => {
        throw new MigrationError(file, "rollback file is missing");
      });
      await runner.run(file, text, {
        andThen: async (tx) => {
          const [{ left }] = await tx`
            select count(*)::int as left from supabase_migrations.schema_migrations
            where version = ${m.version}`;
          if (left !== 0) throw new Error("rollback did not remove its schema_migrations row");
        },
      });
      log(`reverted ${basename(m.file)}`);
      reverted.push(m);
    }
    return reverted;
  } finally {
    await runner.end();
  }
}

/**
 * Runs supabase/seed.sql as postgres, as `supabase db reset` does, and records it in
 * supabase_migrations.seed_files (path relative to the project, sha256 of the text) as the
 * CLI does, in the same transaction: a seed is either in and recorded, or neither.
 */
export async function applySeed(url: string, file: string): Promise<void> {
  const text = await Deno.readTextFile(file);
  const hash = createHash("sha256").update(text).digest("hex");
  const sql = connect(url);
  try {
    await sql.begin(async (tx) => {
      await tx.unsafe(text).simple();
      await tx`
        insert into supabase_migrations.seed_files (path, hash)
        values (${relative(projectRoot, file)}, ${hash})
        on conflict (path) do update set hash = excluded.hash`;
    });
  } catch (err) {
    throw new MigrationError(file, describe(err, text));
  } finally {
    await sql.end();
  }
}
