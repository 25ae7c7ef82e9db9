import assert from "node:assert/strict";
import { callbackUrlProblem, initiateBody } from "./input.ts";

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
