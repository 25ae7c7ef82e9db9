import assert from "node:assert/strict";
import { install } from "./install.ts";

Deno.test("a second install run performs no install step", async () => {
  // `deno task test` has installed everything before the suite starts.
  const steps = await install({ withCli: true, log: () => {} });
  assert.deepEqual(steps, []);
});
