// The comparison behind tests/schema_drift_test.ts catches drift: two small hand-made
// databases that differ in one function body, one policy, one grant and one row, and in a
// policy and a bucket row they add to the platform's storage tables, get one line each,
// naming the object; what may legitimately differ (column order, made-up constraint names,
// volatile values) gets none.
import assert from "node:assert/strict";
import { compareSnapshots, isGeneratedConstraintName, snapshotDatabase } from "./schema_compare.ts";
import { connect, scratchDatabase } from "../tests/testing.ts";

const common = `
  create schema app;
  create table app.jobs (
    slug text primary key,
    budget_ms int not null check (budget_ms > 0),
    registered_at timestamptz not null default now(),
    id bigint generated always as identity
  );
  alter table app.jobs enable row level security;
  create function app.budget(p_slug text) returns int language sql stable
    set search_path = '' as $$ select budget_ms from app.jobs where slug = p_slug $$;
`;

const first = common + `
  create policy jobs_read on app.jobs for select to authenticated using (budget_ms > 0);
  grant select on app.jobs to authenticated;
  create function app.double(x int) returns int language sql immutable as $$ select x * 2 $$;
  insert into app.jobs (slug, budget_ms) values ('outbox-drain', 45000), ('catalog-sync', 60000);
  create table app.pairs (b int, a int, check (a < b));
`;

const second = common + `
  create policy jobs_read on app.jobs for select to authenticated using (budget_ms > 1000);
  grant select, insert on app.jobs to authenticated;
  create function app.double(x int) returns int language sql immutable as $$ select x + x $$;
  insert into app.jobs (slug, budget_ms) values ('catalog-sync', 60000), ('outbox-drain', 30000);
  -- Same columns in another order, same check under another made-up name.
  create table app.pairs (a int, b int, constraint pairs_check1 check (a < b));
`;

// Policies on storage.objects are created by the superuser, as supautils does for postgres.
const platform = (limit: number, role: string) => `
  insert into storage.buckets (id, name, file_size_limit) values ('files', 'files', ${limit});
  create policy files_read on storage.objects for select to ${role}
    using (bucket_id = 'files');
`;

Deno.test("the schema comparison names each differing function, policy, grant and row", async () => {
  const [a, b] = await Promise.all([scratchDatabase(), scratchDatabase()]);
  try {
    for (
      const [db, text, admin] of [
        [a, first, platform(1024, "authenticated")],
        [b, second, platform(2048, "anon")],
      ] as const
    ) {
      const sql = connect(db.postgresUrl);
      const su = connect(db.adminUrl);
      try {
        await sql.unsafe(text).simple();
        await su.unsafe(admin).simple();
      } finally {
        await sql.end();
        await su.end();
      }
    }
    const opts = { schemas: ["app"], skipRows: [] };
    const diffs = compareSnapshots(
      await snapshotDatabase(a.adminUrl, opts),
      await snapshotDatabase(b.adminUrl, opts),
      ["first", "second"],
    );
    const about = (prefix: string) => diffs.filter((d) => d.startsWith(prefix));

    assert.equal(about("function app.double(x integer): body differs").length, 1, diffs.join("\n"));
    assert.match(about("function app.double")[0], /«select x \* 2» vs «select x \+ x»/);

    assert.deepEqual(about("policy jobs_read on app.jobs"), [
      "policy jobs_read on app.jobs: using (budget_ms > 0) vs (budget_ms > 1000)",
    ]);

    const [grants] = about("table app.jobs: ");
    assert.match(
      grants,
      /^table app\.jobs: grants .*authenticated=r\/postgres.* vs .*authenticated=ar\/postgres/,
    );

    assert.deepEqual(about("row app.jobs"), [
      "row app.jobs slug=outbox-drain: budget_ms 45000 vs 30000",
    ]);

    assert.deepEqual(about("policy files_read on storage.objects"), [
      "policy files_read on storage.objects: to authenticated vs anon",
    ]);
    assert.deepEqual(about("row storage.buckets"), [
      "row storage.buckets id=files: file_size_limit 1024 vs 2048",
    ]);

    // Nothing else: not the column order of app.pairs, not its check's made-up name, not
    // registered_at (now()) or the identity id, not the buckets' timestamps (now()), not
    // the storage schema itself (the platform's).
    assert.equal(diffs.length, 6, diffs.join("\n"));
  } finally {
    await Promise.all([a.drop(), b.drop()]);
  }
});

Deno.test("made-up constraint names are told from chosen ones", () => {
  assert.ok(isGeneratedConstraintName("tool_catalog_pkey", "tool_catalog"));
  assert.ok(isGeneratedConstraintName("trickle_schedule_check", "trickle_schedule"));
  assert.ok(isGeneratedConstraintName("pairs_check1", "pairs"));
  assert.ok(isGeneratedConstraintName("outbox_tenant_id_fkey", "outbox"));
  assert.ok(!isGeneratedConstraintName("outbox_running_has_lease", "outbox"));
  assert.ok(!isGeneratedConstraintName("idx_tasks_correlation_id", "tasks"));
  assert.ok(!isGeneratedConstraintName("job_runs_finished_when_done", "job_runs"));
});
