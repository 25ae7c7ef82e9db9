import assert from "node:assert/strict";
import { callbackUrlProblem, initiateBody, toolkitSlug } from "./input.ts";

Deno.test("toolkit slugs: lower-case slugs only", () => {
  for (const ok of ["github", "gmail", "google_drive", "x", "a1"]) {
    assert.ok(toolkitSlug.safeParse(ok).success, ok);
  }
  for (const bad of ["", "GitHub", "1password", "git-hub", "git hub", "../x", "a".repeat(65)]) {
    assert.ok(!toolkitSlug.safeParse(bad).success, bad);
  }
});

Deno.test("callback URLs: https with a host, no credentials, fragment or control characters", () => {
  assert.equal(callbackUrlProblem("https://app.example/oauth/done?state=1"), null);
  assert.equal(callbackUrlProblem("https://app.example:8443/x"), null);
  const cases: [string, RegExp][] = [
    ["http://app.example/done", /https/],
    ["javascript:alert(1)", /https/],
    ["file:///etc/passwd", /https/],
    ["/relative/path", /absolute/],
    ["https://user:pw@app.example/", /credentials/],
    ["https://app.example/#frag", /fragment/],
    ["https://app.example/a b", /spaces/],
    ["https://app.example/\n", /control/],
    [`https://app.example/${"a".repeat(2100)}`, /longer/],
  ];
  for (const [url, why] of cases) assert.match(callbackUrlProblem(url) ?? "", why, url);
});

Deno.test("initiate body: unknown fields and bad values are refused by name", () => {
  assert.ok(initiateBody.safeParse({ toolkit: "github" }).success);
  assert.ok(!initiateBody.safeParse({ toolkit: "github", user_id: "someone" }).success);
  const bad = initiateBody.safeParse({ toolkit: "github", callback_url: "http://x" });
  assert.ok(!bad.success);
  assert.match(bad.error.issues[0].message, /callback URL must use https/);
});
