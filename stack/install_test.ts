import assert from "node:assert/strict";
import { functionsDenoBin, functionsDenoVersion } from "./functions_deno.ts";
import { install } from "./install.ts";

Deno.test("a second install run performs no install step", async () => {
  // `deno task test` has installed everything before the suite starts.
  const steps = await install({ withCli: true, log: () => {} });
  assert.deepEqual(steps, []);
});

Deno.test("install: the functions' Deno is the pinned Edge Runtime version", async () => {
  const out = await new Deno.Command(functionsDenoBin, { args: ["--version"] }).output();
  const first = new TextDecoder().decode(out.stdout).split("\n")[0];
  assert.match(first, new RegExp(`^deno ${functionsDenoVersion.replaceAll(".", "\\.")} `));
});
