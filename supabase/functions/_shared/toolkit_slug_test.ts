import assert from "node:assert/strict";
import { toolkitSlug } from "./toolkit_slug.ts";

Deno.test("toolkit slugs: lower-case slugs only", () => {
  for (const ok of ["github", "gmail", "google_drive", "x", "a1"]) {
    assert.ok(toolkitSlug.safeParse(ok).success, ok);
  }
  for (const bad of ["", "GitHub", "1password", "git-hub", "git hub", "../x", "a".repeat(65)]) {
    assert.ok(!toolkitSlug.safeParse(bad).success, bad);
  }
});
