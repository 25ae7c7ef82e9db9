// A drain in a process of its own, for the crash test (concurrency_test.ts) and the bench:
// `deno run -A drain_worker.ts '<json body>'` runs one drain invocation and prints its summary
// with the process's CPU time (cpu_us, every thread) and its main thread's (main_cpu_us): the
// hosted Edge Runtime's CPU limit is a per-worker-thread timer (CLOCK_THREAD_CPUTIME_ID), which
// counts the JS thread, fetch's I/O included, but not V8's background GC and compiler threads.
import { runJob } from "../_shared/job.ts";
import { closeServiceDb } from "../_shared/db.ts";
import process from "node:process";
import { defaultBudgetMs, drainBody, runDrain, slug } from "./drain.ts";

if (import.meta.main) {
  const body = drainBody.parse(JSON.parse(Deno.args[0] ?? "{}"));
  const summary = await runJob(
    { slug, schema: drainBody, defaultBudgetMs, run: (ctx) => runDrain(ctx) },
    body,
  );
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({ ...summary, cpu_us: cpu.user + cpu.system, main_cpu_us: mainThreadCpuUs() }),
  );
  await closeServiceDb();
}

/** CPU time of the main thread in µs, from its schedstat (Linux); null elsewhere. */
export function mainThreadCpuUs(): number | null {
  try {
    const ns = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/schedstat`).split(" ")[0];
    return Math.round(Number(ns) / 1000);
  } catch {
    return null;
  }
}
