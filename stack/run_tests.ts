// `deno task test`: a throwaway stack in a temp dir on free ports, then every suite —
// pgTAP files under supabase/tests through pg_prove, Deno tests — against it. Exits
// non-zero on any failure; the last line is the total `N passed, N failed`.
import { join } from "node:path";
import { freePort } from "./cluster.ts";
import { run } from "./command.ts";
import { install } from "./install.ts";
import { pgTestsDir, projectRoot } from "./paths.ts";
import { pauseJobSchedules, startStack } from "./stack.ts";

interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
}

/** Counts TAP lines in pg_prove's verbose output; a broken file counts as one failure. */
export function countPgProve(output: string, code: number): { passed: number; failed: number } {
  let passed = 0, failed = 0;
  for (const line of output.split("\n")) {
    if (/^\s*ok \d+/.test(line)) passed++;
    else if (/^\s*not ok \d+/.test(line)) failed++;
  }
  if (code !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

/** Reads `N passed ... | M failed` from deno test's summary; no summary counts as a failure. */
export function countDenoTest(output: string, code: number): { passed: number; failed: number } {
  // deno colours the summary; strip ANSI codes first.
  // deno-lint-ignore no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const m = /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(plain);
  if (!m) return { passed: 0, failed: code === 0 ? 0 : 1 };
  const passed = Number(m[1]), failed = Number(m[2]);
  return { passed, failed: code !== 0 && failed === 0 ? 1 : failed };
}

async function runPgTap(
  env: Record<string, string>,
  port: string,
  only: string[],
): Promise<SuiteResult> {
  const files = only.length > 0 ? only : [...Deno.readDirSync(pgTestsDir)]
    .filter((f) => f.name.endsWith(".sql")).map((f) => join(pgTestsDir, f.name)).sort();
  if (files.length === 0) return { name: "pgTAP", passed: 0, failed: 0 };
  const res = await run(
    ["pg_prove", "--verbose", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres"]
      .concat(files),
    { env: { ...env, PGPASSWORD: "postgres" } },
  );
  const out = res.stdout + res.stderr;
  console.log(out.trimEnd());
  return { name: "pgTAP", ...countPgProve(out, res.code) };
}

async function runDenoTests(env: Record<string, string>, filter: string[]): Promise<SuiteResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check=remote", ...filter],
    cwd: projectRoot,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Stream output as it comes (the suite takes minutes) and keep it for the summary.
  let captured = "";
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      captured += dec.decode(chunk, { stream: true });
      await sink.write(chunk);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  return { name: "deno test", ...countDenoTest(captured, status.code) };
}

if (import.meta.main) {
  // Optional file arguments: .sql files go to pg_prove, the rest to deno test.
  const sqlOnly = Deno.args.filter((a) => a.endsWith(".sql"));
  const denoOnly = Deno.args.filter((a) => !a.endsWith(".sql"));
  const all = Deno.args.length === 0;
  await install({ withCli: true });
  const dir = await Deno.makeTempDir({ prefix: "stack-test-" });
  const started = performance.now();
  const results: SuiteResult[] = [];
  let stack;
  try {
    const ports = { api: freePort(), db: freePort(), pooler: freePort(), composio: freePort() };
    // Function logs go to a file, so the test output stays readable; tests read it.
    const functionLog = join(dir, "functions.log");
    const logFile = await Deno.open(functionLog, { create: true, append: true });
    const enc = new TextEncoder();
    stack = await startStack({
      dir,
      ports,
      durable: false,
      functionLog: (line) => void logFile.write(enc.encode(line + "\n")),
    });
    stack.env.STACK_FUNCTIONS_LOG = functionLog;
    await pauseJobSchedules(stack.adminUrl);
    const env = { ...Deno.env.toObject(), ...stack.env };
    if (all || sqlOnly.length) results.push(await runPgTap(env, env.STACK_DB_PORT, sqlOnly));
    if (all || denoOnly.length) results.push(await runDenoTests(env, denoOnly));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    results.push({ name: "stack", passed: 0, failed: 1 });
  } finally {
    await stack?.stop().catch((e) => console.error(`stopping the stack: ${e.message}`));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const secs = ((performance.now() - started) / 1000).toFixed(0);
  console.log(
    `\n${results.map((r) => `${r.name}: ${r.passed} passed, ${r.failed} failed`).join("\n")}`,
  );
  console.log(`suite time ${secs}s`);
  console.log(`${passed} passed, ${failed} failed`);
  Deno.exit(failed === 0 && passed > 0 ? 0 : 1);
}
