import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "./command.ts";
import { supabaseCliBin } from "./install.ts";
import { applyMigrations, MigrationError, rollbackMigrations } from "./migrate.ts";
import { connect, scratchDatabase } from "../tests/testing.ts";

async function projectWith(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "migrations-" });
  for (const dir of ["supabase/migrations", "supabase/rollbacks"]) {
    await Deno.mkdir(join(root, dir), { recursive: true });
  }
  for (const [path, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(root, path), text);
  }
  return root;
}

Deno.test("migrations are recorded as the Supabase CLI records them", async () => {
  const db = await scratchDatabase();
  const root = await projectWith({
    "supabase/migrations/20250101000000_first.sql": "create table public.t1 (id int);",
    "supabase/migrations/20250102000000_second_one.sql": "create table public.t2 (id int);",
    "supabase/migrations/20250103000000_not_yet.sql": "create table public.t3 (id int);",
  });
  try {
    const dir = join(root, "supabase/migrations");
    await applyMigrations(db.postgresUrl, { dir });
    // A file added after the run is pending: the CLI must list it as local only.
    await Deno.writeTextFile(join(dir, "20250104000000_later.sql"), "select 1;");
    const res = await run(
      [supabaseCliBin, "migration", "list", "--db-url", db.postgresUrl, "--workdir", root],
      { env: { ...Deno.env.toObject(), SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" } },
    );
    assert.equal(res.code, 0, res.stderr);
    const rows = res.stdout.replaceAll("`", "").split("\n")
      .filter((l) => /^\s*\d{14}\s*\|/.test(l))
      .map((l) => l.split("|").map((c) => c.trim()).slice(0, 2));
    assert.deepEqual(rows, [
      ["20250101000000", "20250101000000"],
      ["20250102000000", "20250102000000"],
      ["20250103000000", "20250103000000"],
      ["20250104000000", ""],
    ], res.stdout + res.stderr);
    const sql = connect(db.postgresUrl);
    const hist = await sql`select version, name from supabase_migrations.schema_migrations
                           order by version`;
    await sql.end();
    assert.deepEqual(hist.map((r) => [r.version, r.name]), [
      ["20250101000000", "first"],
      ["20250102000000", "second_one"],
      ["20250103000000", "not_yet"],
    ]);
  } finally {
    await db.drop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a broken migration stops the run, names its file and leaves nothing half-applied", async () => {
  const db = await scratchDatabase();
  const root = await projectWith({
    "supabase/migrations/20250101000000_good.sql": "create table public.good (id int);",
    "supabase/migrations/20250102000000_broken.sql":
      "create table public.half (id int);\nselect 1;\ncreate tabel public.oops (id int);",
    "supabase/migrations/20250103000000_after.sql": "create table public.after (id int);",
  });
  try {
    const err = await applyMigrations(db.postgresUrl, { dir: join(root, "supabase/migrations") })
      .then(() => null, (e) => e);
    assert.ok(err instanceof MigrationError);
    assert.match(
      err.message,
      /^20250102000000_broken\.sql: syntax error at or near "tabel" \(line 3\)/,
    );
    const sql = connect(db.postgresUrl);
    const tables = await sql`select table_name from information_schema.tables
                             where table_schema = 'public' order by 1`;
    const versions = await sql`select version from supabase_migrations.schema_migrations`;
    await sql.end();
    assert.deepEqual(tables.map((r) => r.table_name), ["good"]);
    assert.deepEqual(versions.map((r) => r.version), ["20250101000000"]);
  } finally {
    await db.drop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("migrations run as postgres, not as the superuser", async () => {
  const db = await scratchDatabase();
  const root = await projectWith({
    "supabase/migrations/20250101000000_superuser_only.sql":
      "select pg_catalog.pg_read_file('PG_VERSION');",
  });
  try {
    const err = await applyMigrations(db.postgresUrl, { dir: join(root, "supabase/migrations") })
      .then(() => null, (e) => e);
    assert.ok(err instanceof MigrationError);
    assert.match(err.message, /permission denied/);
  } finally {
    await db.drop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a migration creating an event trigger applies, as on hosted: owned by postgres", async () => {
  const db = await scratchDatabase();
  const fn = `create function public.note_ddl() returns event_trigger language plpgsql
    set search_path = '' as $$ begin insert into public.ddl_seen values (tg_tag); end $$;`;
  const root = await projectWith({
    "supabase/migrations/20250101000000_event_trigger.sql": [
      "create table public.ddl_seen (tag text);",
      fn,
      "-- create event trigger in a comment is left alone;",
      "create event trigger note_ddl on ddl_command_end when tag in ('CREATE TABLE')",
      "  execute function public.note_ddl();",
      "comment on event trigger note_ddl is 'as postgres, its owner';",
      "create table public.after_trigger (id int);",
    ].join("\n"),
    "supabase/rollbacks/20250101000000_event_trigger.sql": `drop event trigger note_ddl;
      drop table public.after_trigger; drop function public.note_ddl(); drop table public.ddl_seen;
      delete from supabase_migrations.schema_migrations where version = '20250101000000';`,
  });
  try {
    const dir = join(root, "supabase/migrations");
    await applyMigrations(db.postgresUrl, { dir, adminUrl: db.adminUrl });
    const sql = connect(db.postgresUrl);
    try {
      const evt = await sql`select evtname, evtowner::regrole::text as owner from pg_event_trigger`;
      assert.deepEqual(evt.map((r) => [r.evtname, r.owner]), [["note_ddl", "postgres"]]);
      const owners = await sql`select tablename, tableowner from pg_tables
                               where schemaname = 'public' order by 1`;
      assert.deepEqual(owners.map((r) => [r.tablename, r.tableowner]), [
        ["after_trigger", "postgres"],
        ["ddl_seen", "postgres"],
      ], "the other statements ran as postgres");
      const seen = await sql`select tag from public.ddl_seen`;
      assert.deepEqual(seen.map((r) => r.tag), ["CREATE TABLE"], "the trigger fires");
      const [{ n }] = await sql`select count(*)::int as n from pg_shdepend
                                where classid = 'pg_event_trigger'::regclass
                                  and refobjid = 'postgres'::regrole and deptype = 'o'
                                  and dbid = (select oid from pg_database
                                               where datname = current_database())`;
      assert.equal(n, 1, "postgres' ownership is recorded as for any object it owns");
    } finally {
      await sql.end();
    }
    // postgres, the owner, rolls it back.
    await rollbackMigrations(db.postgresUrl, {
      dir,
      rollbackDir: join(root, "supabase/rollbacks"),
    });
    const sql2 = connect(db.postgresUrl);
    const left = await sql2`select evtname from pg_event_trigger`;
    await sql2.end();
    assert.equal(left.length, 0);
  } finally {
    await db.drop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("policies on the platform tables supautils grants apply, are commented and roll back, as on hosted; others do not", async () => {
  const db = await scratchDatabase();
  // storage.objects is the bootstrap's (postgres does not own it, as on hosted); another
  // table postgres does not own either, which supautils grants nothing on.
  const admin = connect(db.adminUrl);
  await admin.unsafe(`
    create schema elsewhere;
    create table elsewhere.things (id int);
    grant usage on schema elsewhere to postgres`);
  await admin.end();
  const granted = await projectWith({
    "supabase/migrations/20250101000000_policy.sql": [
      "create table public.mine (id uuid);",
      'create policy "readers; see (all)" on storage.objects for select to authenticated',
      "  using (owner_id = ';' or id in (select id from public.mine));",
      `comment on policy "readers; see (all)" on storage.objects is 'who reads; and why';`,
      "comment on table public.mine is 'after the policy';",
    ].join("\n"),
    "supabase/rollbacks/20250101000000_policy.sql": [
      'drop policy "readers; see (all)" on storage.objects;',
      "drop table public.mine;",
      "delete from supabase_migrations.schema_migrations where version = '20250101000000';",
    ].join("\n"),
  });
  const refused = await projectWith({
    "supabase/migrations/20250102000000_policy.sql":
      "create policy p on elsewhere.things for select using (true);",
  });
  try {
    await applyMigrations(db.postgresUrl, {
      dir: join(granted, "supabase/migrations"),
      adminUrl: db.adminUrl,
    });
    const sql = connect(db.postgresUrl);
    try {
      const pols = await sql`
        select p.polname, pg_catalog.obj_description(p.oid, 'pg_policy') as comment
          from pg_policy p where p.polrelid = 'storage.objects'::regclass`;
      assert.deepEqual(pols.map((r) => [r.polname, r.comment]), [
        ["readers; see (all)", "who reads; and why"],
      ]);
      const [{ owner }] = await sql`
        select tableowner as owner from pg_tables where tablename = 'mine'`;
      assert.equal(owner, "postgres", "the other statements ran as postgres");
      // Its rollback drops the policy the same way.
      await rollbackMigrations(db.postgresUrl, {
        dir: join(granted, "supabase/migrations"),
        rollbackDir: join(granted, "supabase/rollbacks"),
        adminUrl: db.adminUrl,
      });
      const left = await sql`select policyname from pg_policies where tablename = 'objects'`;
      assert.deepEqual(left.map((r) => r.policyname), []);
    } finally {
      await sql.end();
    }
    await rollbackMigrations(db.postgresUrl, {
      dir: join(granted, "supabase/migrations"),
      rollbackDir: join(granted, "supabase/rollbacks"),
      adminUrl: db.adminUrl,
    });
    const sql2 = connect(db.postgresUrl);
    try {
      const [{ n }] = await sql2`
        select count(*)::int as n from pg_policy where polrelid = 'storage.objects'::regclass`;
      assert.equal(n, 0, "the rollback dropped the policy");
    } finally {
      await sql2.end();
    }
    const err = await applyMigrations(db.postgresUrl, {
      dir: join(refused, "supabase/migrations"),
      adminUrl: db.adminUrl,
    }).then(() => null, (e) => e);
    assert.ok(err instanceof MigrationError);
    assert.match(err.message, /must be owner of table things/);
  } finally {
    await db.drop();
    await Deno.remove(granted, { recursive: true });
    await Deno.remove(refused, { recursive: true });
  }
});

Deno.test("an event trigger migration that fails leaves nothing behind", async () => {
  const db = await scratchDatabase();
  const root = await projectWith({
    "supabase/migrations/20250101000000_broken.sql": [
      "create table public.half (id int);",
      "create event trigger never on ddl_command_end execute function pg_catalog.no_such();",
    ].join("\n"),
  });
  try {
    const err = await applyMigrations(db.postgresUrl, {
      dir: join(root, "supabase/migrations"),
      adminUrl: db.adminUrl,
    }).then(() => null, (e) => e);
    assert.ok(err instanceof MigrationError);
    assert.match(
      err.message,
      /^20250101000000_broken\.sql: function pg_catalog\.no_such\(\) does not exist/,
    );
    const sql = connect(db.postgresUrl);
    const tables = await sql`select table_name from information_schema.tables
                             where table_schema = 'public'`;
    await sql.end();
    assert.deepEqual(tables.map((r) => r.table_name), []);
  } finally {
    await db.drop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("rollbacks run newest first and remove their history rows", async () => {
  const db = await scratchDatabase();
  const up = (v: string, t: string) => `create table public.${t} (id int); -- ${v}`;
  const down = (v: string, t: string) =>
    `drop table public.${t};
     delete from supabase_migrations.schema_migrations where version = '${v}';`;
  const root = await projectWith({
    "supabase/migrations/20250101000000_a.sql": up("20250101000000", "a"),
    "supabase/migrations/20250102000000_b.sql": up("20250102000000", "b") +
      "\ncreate table public.b_child (b int);",
    "supabase/rollbacks/20250101000000_a.sql": down("20250101000000", "a"),
    // Drops the child first: reverse order inside the file too.
    "supabase/rollbacks/20250102000000_b.sql": "drop table public.b_child;\n" +
      down("20250102000000", "b"),
  });
  try {
    const dir = join(root, "supabase/migrations");
    const rollbackDir = join(root, "supabase/rollbacks");
    await applyMigrations(db.postgresUrl, { dir });
    const reverted = await rollbackMigrations(db.postgresUrl, { dir, rollbackDir });
    assert.deepEqual(reverted.map((m) => m.name), ["b", "a"]);
    const sql = connect(db.postgresUrl);
    const [{ n }] = await sql`select count(*)::int as n from information_schema.tables
                              where table_schema = 'public'`;
    await sql.end();
    assert.equal(n, 0);
    // All up again works.
    assert.equal((await applyMigrations(db.postgresUrl, { dir })).length, 2);
  } finally {
    await db.drop();
    await Deno.remove(root, { recursive: true });
  }
});
