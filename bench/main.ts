// `deno task bench [name…]`: starts a throwaway local stack (as the tests do), runs every
// bench/<name>_bench.ts (or the named ones) against it, and writes bench/RESULTS.md with
// the command and the machine. Benchmarks compare side by side within one run and report
// medians and ratios: these machines are noisy.
import { join } from "node:path";
import { freePort } from "../stack/cluster.ts";
import { install } from "../stack/install.ts";
import { pauseJobSchedules, startStack } from "../stack/stack.ts";
import { machineDescription } from "./machine.ts";

export interface BenchContext {
  /** Where the stack is: the same variables tests get (SUPABASE_URL, STACK_POSTGRES_URL, …). */
  env: Record<string, string>;
  log(line: string): void;
}

export interface BenchModule {
  title: string;
  /** Returns a Markdown section (tables, notes) for RESULTS.md. */
  run(ctx: BenchContext): Promise<string>;
}

const benchDir = import.meta.dirname!;
const resultsFile = join(benchDir, "RESULTS.md");

const wanted = Deno.args;
const names = [...Deno.readDirSync(benchDir)]
  .map((e) => e.name)
  .filter((n) => n.endsWith("_bench.ts"))
  .map((n) => n.replace(/_bench\.ts$/, ""))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();
if (names.length === 0) {
  console.error(`no benchmarks match ${wanted.join(", ")}`);
  Deno.exit(1);
}

await install();
const dir = await Deno.makeTempDir({ prefix: "stack-bench-" });
const stack = await startStack({
  dir,
  ports: {
    api: freePort(),
    db: freePort(),
    pooler: freePort(),
    composio: freePort(),
    auditSink: freePort(),
  },
  durable: false,
  functionLog: () => {},
});
// Only what a benchmark starts runs: no schedule fires in the middle of a measurement.
await pauseJobSchedules(stack.postgresUrl);
// Benchmarks read the stack's variables as tests do.
for (const [k, v] of Object.entries(stack.env)) Deno.env.set(k, v);

const sections: string[] = [];
try {
  for (const name of names) {
    const mod = (await import(`./${name}_bench.ts`)) as BenchModule;
    console.error(`== ${name}: ${mod.title}`);
    const started = performance.now();
    const section = await mod.run({ env: stack.env, log: (l) => console.error(`  ${l}`) });
    const secs = ((performance.now() - started) / 1000).toFixed(0);
    sections.push(
      `## ${mod.title}\n\n\`deno task bench ${name}\` (${secs} s)\n\n${section.trim()}\n`,
    );
  }
} finally {
  await stack.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

// Sections of benchmarks not run this time are kept from the previous file.
const previous = await Deno.readTextFile(resultsFile).catch(() => "");
// Each kept section is trimmed to end in one newline, so blank lines do not pile up.
const kept = previous.split(/^(?=## )/m).slice(1).filter((s) =>
  !sections.some((n) => n.split("\n")[0] === s.split("\n")[0])
).map((s) => `${s.trimEnd()}\n`);
const header = `# Benchmark results

Written by \`deno task bench\`; each section names the command that produced it.

Machine: ${await machineDescription()}
Last run: ${new Date().toISOString()}
`;
await Deno.writeTextFile(resultsFile, [header, ...sections, ...kept].join("\n"));
console.error(`wrote ${resultsFile}`);
