// graphile-worker 0.18 peer: enqueue `jobs` jobs (addJobs, 1000 per call), then run a worker
// pool with `concurrency` until all are done; prints one JSON summary line.
// Default config: graphile-worker's defaults; tuned: localQueue, completeJobBatchDelay 0 and a
// pool sized for the concurrency.
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import { measure, options, payload, started, tracker } from "./common.mjs";

const o = options();
const logger = new Logger(() => (level, message) => {
  if (level === "error") console.error(message);
});

const utils = await makeWorkerUtils({ connectionString: o.url, logger });
await utils.migrate();
await utils.withPgClient((c) => c.query("delete from graphile_worker._private_jobs"));
for (let i = 0; i < o.jobs; i += 1000) {
  const now = Date.now();
  const specs = [];
  for (let j = i; j < Math.min(o.jobs, i + 1000); j++) {
    specs.push({ identifier: "execute", payload: payload(j, now), maxAttempts: 25 });
  }
  await utils.addJobs(specs);
}
await utils.withPgClient((c) => c.query("vacuum analyze graphile_worker._private_jobs"));
await utils.release();

const t = tracker(o.jobs);
const tuning = o.tuned
  ? {
    maxPoolSize: Math.max(10, o.concurrency + 2),
    localQueue: { size: Math.max(50, o.concurrency * 10) },
    completeJobBatchDelay: 0,
  }
  : {};
const start = started(o);
const runner = await run({
  connectionString: o.url,
  concurrency: o.concurrency,
  noHandleSignals: true,
  logger,
  taskList: {
    execute: (p, helpers) => t.run(o, o.slug, `gw_${helpers.job.id}`, p),
  },
  ...tuning,
});
const summary = await measure(o, t, start);
await runner.stop();
console.log(JSON.stringify({ ...summary, tuning }));
