import assert from "node:assert/strict";
import { nextVersion } from "./db_diff.ts";

Deno.test("a new migration's version is now, or just after the newest one", () => {
  const now = new Date(Date.UTC(2026, 11, 3, 13, 45, 7));
  assert.equal(nextVersion(["20261123120000"], now), "20261203134507");
  // Versions dated later than now (or equal) are followed by one second.
  assert.equal(nextVersion(["20261203134507"], now), "20261203134508");
  assert.equal(nextVersion(["20271231235959", "20261123120000"], now), "20280101000000");
});
