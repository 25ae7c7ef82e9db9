// A new user's first run: the two commands from a clone in a private home folder (mode
// 0700, which the postgres OS user cannot enter), a first start interrupted before the
// seed, and a failure of the stack's own steps reported as one line.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { run } from "../stack/command.ts";
import { isRoot } from "../stack/command.ts";
import { canEnter, stackLayout } from "../stack/layout.ts";
import { auditSinkDir } from "../stack/audit_sink.ts";
import { projectRoot } from "../stack/paths.ts";
import { connect, freeBasePort, spawnCollecting } from "./testing.ts";

const deno = Deno.execPath();

/** The environment of a new user's shell: no stack variables, no Composio key. */
function userEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) =>
      !k.startsWith("STACK_") && !k.startsWith("SUPABASE_") && !k.startsWith("COMPOSIO_")
    ),
  );
}

/** Copies the working tree (tracked and untracked, not ignored files) into `to`. */
async function cloneInto(to: string): Promise<void> {
  const ls = await run(["git", "ls-files", "-z", "-co", "--exclude-standard"], {
    cwd: projectRoot,
  });
  assert.equal(ls.code, 0, ls.stderr);
  for (const file of ls.stdout.split("\0").filter(Boolean)) {
    const from = join(projectRoot, file);
    try {
      Deno.statSync(from);
    } catch {
      continue; // deleted in the working tree
    }
    await Deno.mkdir(dirname(join(to, file)), { recursive: true });
    await Deno.copyFile(from, join(to, file));
  }
  // The suite has installed the Supabase CLI under .stack/tools already; the clone shares it
  // instead of downloading it again.
  await Deno.mkdir(join(to, ".stack"), { recursive: true });
  await Deno.symlink(join(projectRoot, ".stack", "tools"), join(to, ".stack", "tools"));
}

async function stopWithCtrlC(p: ReturnType<typeof spawnCollecting>): Promise<number> {
  try {
    p.child.kill("SIGINT");
  } catch { /* exited */ }
  const t = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch { /* exited */ }
  }, 30_000);
  const code = await p.finished();
  clearTimeout(t);
  return code;
}

Deno.test({
  name: "first run: start and test work from a clone inside a 0700 home folder",
  ignore: !isRoot, // only root has a postgres OS user to keep apart from
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "first-run-home-" });
    await Deno.chmod(home, 0o700);
    const clone = join(home, "clone");
    await cloneInto(clone);
    assert.equal(canEnter("postgres", clone), false, "postgres cannot enter the clone");
    const layout = stackLayout(join(clone, ".stack", "local"));
    assert.ok(layout.relocated, "the server's files go where postgres can reach them");
    const base = await freeBasePort();
    const start = spawnCollecting(
      [deno, "run", "-A", "stack/start.ts", "--base-port", String(base)],
      { cwd: clone, env: userEnv() },
    );
    try {
      await start.waitFor(/Local stack is running/, 180_000);
      assert.match(start.output(), new RegExp(`data in ${layout.clusterDir}`));
      const res = await fetch(`http://127.0.0.1:${base}/functions/v1/outbox-drain/healthz`);
      assert.equal(res.status, 200, await res.text());
      const sql = connect(`postgres://postgres:postgres@127.0.0.1:${base + 1}/postgres`);
      try {
        const [{ n }] = await sql`select count(*)::int as n from public.tenants`;
        assert.equal(n, 2, "seeded");
      } finally {
        await sql.end();
      }
      assert.equal(await stopWithCtrlC(start), 0, start.output());
      assert.equal((await Deno.stat(home)).mode! & 0o777, 0o700, "the home folder stays 0700");

      // The test runner from the same clone: its throwaway stack reads the bootstrap SQL.
      const test = spawnCollecting(
        [deno, "run", "-A", "stack/run_tests.ts", "supabase/tests/00_platform.test.sql"],
        { cwd: clone, env: userEnv() },
      );
      const code = await test.finished();
      assert.equal(code, 0, test.output());
      assert.match(test.output(), /\n[1-9][0-9]* passed, 0 failed\s*$/);
    } finally {
      await stopWithCtrlC(start);
      await Deno.remove(home, { recursive: true });
      await Deno.remove(layout.serverDir, { recursive: true }).catch(() => {});
      await Deno.remove(auditSinkDir(layout.dir), { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("first run: a first start interrupted before the seed is rebuilt and seeded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "first-run-interrupted-" });
  const base = await freeBasePort();
  const argv = [deno, "run", "-A", "stack/start.ts", "--dir", dir, "--base-port", String(base)];
  try {
    // Ctrl-C while the migrations apply: the cluster exists, the seed never ran.
    const first = spawnCollecting(argv, { cwd: projectRoot, env: userEnv() });
    await first.waitFor(/applied 20261123120500_/);
    first.child.kill("SIGINT");
    await first.finished();
    assert.doesNotMatch(first.output(), /seeded/);

    const second = spawnCollecting(argv, { cwd: projectRoot, env: userEnv() });
    try {
      await second.waitFor(/Local stack is running/, 180_000);
      assert.match(second.output(), /did not finish \(no seed yet\): rebuilding it/);
      assert.match(second.output(), /seeded the new cluster/);
      const sql = connect(`postgres://postgres:postgres@127.0.0.1:${base + 1}/postgres`);
      try {
        const [{ n }] = await sql`select count(*)::int as n from public.tenants`;
        assert.equal(n, 2, "the seed's tenants are there");
        const seeds = await sql`select path from supabase_migrations.seed_files`;
        assert.deepEqual(seeds.map((r) => r.path), ["supabase/seed.sql"], "seeding is recorded");
      } finally {
        await sql.end();
      }
    } finally {
      assert.equal(await stopWithCtrlC(second), 0, second.output());
    }

    // A later start of the finished cluster neither rebuilds nor seeds again.
    const third = spawnCollecting(argv, { cwd: projectRoot, env: userEnv() });
    try {
      await third.waitFor(/Local stack is running/, 180_000);
      assert.doesNotMatch(third.output(), /rebuilding|seeded|creating cluster/);
    } finally {
      await stopWithCtrlC(third);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("first run: a failing step prints one line saying what, why and what to do", async () => {
  const dir = await Deno.makeTempDir({ prefix: "first-run-failure-" });
  const base = await freeBasePort();
  // Something else holds the database port.
  const squatter = Deno.listen({ hostname: "127.0.0.1", port: base + 1 });
  try {
    const start = spawnCollecting(
      [deno, "run", "-A", "stack/start.ts", "--dir", dir, "--base-port", String(base)],
      { cwd: projectRoot, env: userEnv() },
    );
    assert.equal(await start.finished(), 1);
    const errors = start.output().split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1, start.output());
    assert.match(
      errors[0],
      new RegExp(
        `^error: starting Postgres on port ${base + 1} failed: port ${base + 1} is ` +
          "already in use — stop whatever listens there .* or pass --base-port$",
      ),
    );
    assert.doesNotMatch(start.output(), /^\s+at /m, "no stack trace");
    const log = await Deno.readTextFile(join(dir, "logs", "start.log"));
    assert.match(log, /--- .* ---/, "the log keeps Postgres' own output");
  } finally {
    squatter.close();
    await Deno.remove(dir, { recursive: true });
  }
});
