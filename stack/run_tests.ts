// `deno task test`: a throwaway stack in a temp dir on free ports, then every suite —
// pgTAP files under supabase/tests through pg_prove, Deno tests — against it. Exits
// non-zero on any failure; the last line is the total `N passed, N failed`.
import { join, relative } from "node:path";
import { freePort } from "./cluster.ts";
import { run } from "./command.ts";
import { reportFailure } from "./errors.ts";
import { install } from "./install.ts";
import { pgTestsDir, projectRoot, stackDir } from "./paths.ts";
import { pauseJobSchedules, startStack } from "./stack.ts";

interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  /** Seconds per test file. */
  files: Array<{ file: string; seconds: number }>;
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

/** One pg_prove run per file, so each file's time is known. */
async function runPgTap(
  env: Record<string, string>,
  port: string,
  only: string[],
): Promise<SuiteResult> {
  const files = only.length > 0 ? only : [...Deno.readDirSync(pgTestsDir)]
    .filter((f) => f.name.endsWith(".sql")).map((f) => join(pgTestsDir, f.name)).sort();
  const result: SuiteResult = { name: "pgTAP", passed: 0, failed: 0, files: [] };
  for (const file of files) {
    const started = performance.now();
    const res = await run(
      ["pg_prove", "--verbose", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres"]
        .concat(file),
      { env: { ...env, PGPASSWORD: "postgres" } },
    );
    const out = res.stdout + res.stderr;
    console.log(out.trimEnd());
    const counts = countPgProve(out, res.code);
    result.passed += counts.passed;
    result.failed += counts.failed;
    result.files.push({
      file: relative(projectRoot, file),
      seconds: (performance.now() - started) / 1000,
    });
  }
  return result;
}

/** Seconds per file from deno test's JUnit report (the sum of its test cases). */
export function junitFileTimes(xml: string): Array<{ file: string; seconds: number }> {
  const out = new Map<string, number>();
  for (const m of xml.matchAll(/<testcase\b[^>]*\bclassname="([^"]*)"[^>]*\btime="([0-9.]+)"/g)) {
    const file = m[1].replace(/^\.\//, "");
    out.set(file, (out.get(file) ?? 0) + Number(m[2]));
  }
  return [...out].map(([file, seconds]) => ({ file, seconds }));
}

async function runDenoTests(
  env: Record<string, string>,
  filter: string[],
  junitPath: string,
): Promise<SuiteResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check=remote", `--junit-path=${junitPath}`, ...filter],
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
  const junit = await Deno.readTextFile(junitPath).catch(() => "");
  return {
    name: "deno test",
    ...countDenoTest(captured, status.code),
    files: junitFileTimes(junit),
  };
}

/** Each file's seconds, slowest first, with the sum. */
export function formatFileTimes(files: Array<{ file: string; seconds: number }>): string {
  const sorted = [...files].sort((a, b) => b.seconds - a.seconds);
  const width = Math.max(10, ...sorted.map((f) => f.file.length));
  const lines = sorted.map((f) =>
    `  ${f.file.padEnd(width)}  ${f.seconds.toFixed(1).padStart(6)} s`
  );
  const total = sorted.reduce((n, f) => n + f.seconds, 0);
  return [
    `time per file:`,
    ...lines,
    `  ${"all files".padEnd(width)}  ${total.toFixed(1).padStart(6)} s`,
  ]
    .join("\n");
}

if (import.meta.main) {
  // Optional file arguments: .sql files go to pg_prove, the rest to deno test.
  const sqlOnly = Deno.args.filter((a) => a.endsWith(".sql"));
  const denoOnly = Deno.args.filter((a) => !a.endsWith(".sql"));
  const all = Deno.args.length === 0;
  // Kept after the run (the temp folder is not): where a failure's full output goes.
  const failureLog = join(stackDir, "logs", "test.log");
  await Deno.mkdir(join(stackDir, "logs"), { recursive: true });
  try {
    await install({ withCli: true });
  } catch (err) {
    await reportFailure(err, { logFile: failureLog });
    console.log("stack: 0 passed, 1 failed\n0 passed, 1 failed");
    Deno.exit(1);
  }
  const dir = await Deno.makeTempDir({ prefix: "stack-test-" });
  const started = performance.now();
  const results: SuiteResult[] = [];
  let stack;
  try {
    const ports = {
      api: freePort(),
      db: freePort(),
      pooler: freePort(),
      composio: freePort(),
      auditSink: freePort(),
    };
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
    await pauseJobSchedules(stack.postgresUrl);
    const env = { ...Deno.env.toObject(), ...stack.env };
    if (all || sqlOnly.length) results.push(await runPgTap(env, env.STACK_DB_PORT, sqlOnly));
    if (all || denoOnly.length) {
      results.push(await runDenoTests(env, denoOnly, join(dir, "junit.xml")));
    }
  } catch (err) {
    // One line on the terminal; the full report in the kept log.
    await reportFailure(err, { logFile: failureLog });
    results.push({ name: "stack", passed: 0, failed: 1, files: [] });
  } finally {
    await stack?.stop().catch((e) => console.error(`stopping the stack: ${e.message}`));
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const secs = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`\n${formatFileTimes(results.flatMap((r) => r.files))}`);
  console.log(
    `\n${results.map((r) => `${r.name}: ${r.passed} passed, ${r.failed} failed`).join("\n")}`,
  );
  console.log(`suite time ${secs}s`);
  console.log(`${passed} passed, ${failed} failed`);
  Deno.exit(failed === 0 && passed > 0 ? 0 : 1);
}
