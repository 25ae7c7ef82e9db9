// pg-boss 12 peer: enqueue `jobs` jobs (insert, 1000 per call), then work the queue with
// `localConcurrency` = concurrency until all are done; prints one JSON summary line.
// Default config: pg-boss's defaults (batchSize 1, 2 s polling); tuned: batchSize with
// burstWhenBatchFull (each worker handles its batch one job at a time, so at most
// `concurrency` calls are in flight, as in the other systems) and the minimum polling interval.
import { PgBoss } from "pg-boss";
import { measure, options, payload, started, tracker } from "./common.mjs";

const o = options();
const queue = "execute";
const boss = new PgBoss({ connectionString: o.url, schema: "pgboss", max: o.concurrency + 4 });
boss.on("error", (err) => console.error(`pg-boss: ${err.message}`));
await boss.start();
if (await boss.getQueue(queue)) await boss.deleteQueue(queue);
await boss.createQueue(queue);
for (let i = 0; i < o.jobs; i += 1000) {
  const now = Date.now();
  const batch = [];
  for (let j = i; j < Math.min(o.jobs, i + 1000); j++) {
    batch.push({ data: payload(j, now), retryLimit: 25 });
  }
  await boss.insert(queue, batch);
}
// As the other systems do: no dead tuples from earlier runs' deletes in the figure.
const db = boss.getDb();
const { rows } = await db.executeSql(
  "select format('%I.%I', schemaname, relname) as t from pg_stat_user_tables " +
    "where schemaname = 'pgboss'",
);
for (const { t } of rows) await db.executeSql(`vacuum analyze ${t}`);

const t = tracker(o.jobs);
const tuning = o.tuned
  ? { batchSize: o.batchSize ?? 20, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }
  : {};
const start = started(o);
await boss.work(queue, { localConcurrency: o.concurrency, ...tuning }, async (jobs) => {
  for (const job of jobs) await t.run(o, o.slug, `pb_${job.id}`, job.data);
});
const summary = await measure(o, t, start);
await boss.stop({ graceful: true, timeout: 10_000, close: true });
console.log(JSON.stringify({ ...summary, tuning }));
