// A drain in a process of its own, for the crash test (concurrency_test.ts) and the bench:
// `deno run -A drain_worker.ts '<json body>'` runs one drain invocation and prints its summary
// with the process's CPU time (cpu_us).
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
  console.log(JSON.stringify({ ...summary, cpu_us: cpu.user + cpu.system }));
  await closeServiceDb();
}
