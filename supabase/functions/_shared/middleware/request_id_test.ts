import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppEnv } from "../app_env.ts";
import { requestId, requestIdFrom } from "./request_id.ts";

function app() {
  const a = new Hono<AppEnv>();
  a.use("*", requestId("test"));
  a.get("/", (c) => c.json({ id: c.get("requestId") }));
  a.get("/fail", () => {
    throw new Error("boom");
  });
  a.onError((_err, c) => c.json({ id: c.get("requestId") }, 500));
  return a;
}

Deno.test("request id: a plausible caller id is kept and echoed", async () => {
  for (const id of ["0f8fad5b-d9cb-469f-a165-70867728950e", "01HZY3K9Q2", "trace:abc.1-2_3"]) {
    const res = await app().fetch(new Request("http://x/", { headers: { "x-request-id": id } }));
    assert.equal(res.headers.get("x-request-id"), id);
    assert.equal((await res.json()).id, id);
  }
});

Deno.test("request id: anything else is replaced by a new UUID, never echoed", async () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  for (const bad of ["x".repeat(129), 'a"b', "a b", "<script>", "é", ""]) {
    const res = await app().fetch(new Request("http://x/", { headers: { "x-request-id": bad } }));
    const echoed = res.headers.get("x-request-id")!;
    assert.match(echoed, uuid, JSON.stringify(bad));
    assert.equal((await res.json()).id, echoed);
  }
  assert.match(requestIdFrom(undefined), uuid);
});

Deno.test("request id: error responses carry it too", async () => {
  const res = await app().fetch(
    new Request("http://x/fail", { headers: { "x-request-id": "req-1" } }),
  );
  assert.equal(res.status, 500);
  assert.equal(res.headers.get("x-request-id"), "req-1");
  assert.equal((await res.json()).id, "req-1");
});
