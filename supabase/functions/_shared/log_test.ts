import assert from "node:assert/strict";
import { createLogger, setLogSink } from "./log.ts";

Deno.test("log lines are JSON with their context, and never carry secrets or tool arguments", () => {
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    const log = createLogger({ job: "outbox-drain", run_id: "42" }).with({ tenant_id: "t1" });
    log.info("envelope_done", {
      envelope_id: "e1",
      arguments: { to: "someone@example.com" },
      nested: { authorization: "Bearer abc", api_key: "k", keep: 1 },
      error: new Error("boom", { cause: new TypeError("inner", { cause: { api_key: "k2" } }) }),
    });
  } finally {
    setLogSink(prev);
  }
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]);
  assert.equal(line.level, "info");
  assert.equal(line.event, "envelope_done");
  assert.equal(line.job, "outbox-drain");
  assert.equal(line.run_id, "42");
  assert.equal(line.tenant_id, "t1");
  assert.equal(line.envelope_id, "e1");
  assert.deepEqual(line.nested, { keep: 1 });
  assert.equal(line.error.name, "Error");
  assert.equal(line.error.message, "boom");
  assert.match(line.error.stack, /log_test\.ts/, "the stack is kept");
  assert.equal(line.error.cause.name, "TypeError");
  assert.equal(line.error.cause.message, "inner");
  assert.deepEqual(line.error.cause.cause, {}, "a cause is scrubbed like the rest");
  assert.ok(!lines[0].includes("someone@example.com"));
  assert.ok(!lines[0].includes("Bearer abc"));
});
