import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { serviceCaller } from "./caller.ts";

Deno.test("caller: service routes answer 401 JSON to anything but a service key", async () => {
  const prev = Deno.env.get("SUPABASE_SECRET_KEYS");
  Deno.env.set("SUPABASE_SECRET_KEYS", JSON.stringify({ default: "sb_secret_caller_test" }));
  try {
    const app = createApp("caller-test");
    let reached = 0;
    app.post("/", serviceCaller(), (c) => {
      reached++;
      return c.json({ ok: true });
    });
    const call = (auth?: string) =>
      app.fetch(
        new Request("http://x/caller-test", {
          method: "POST",
          headers: auth ? { authorization: auth } : {},
        }),
      );
    for (const auth of [undefined, "Bearer nope", "Basic sb_secret_caller_test", "Bearer "]) {
      const res = await call(auth);
      assert.equal(res.status, 401, String(auth));
      const body = await res.json();
      assert.equal(body.error.code, "unauthorized");
    }
    assert.equal(reached, 0, "the handler never ran");
    const ok = await call("Bearer sb_secret_caller_test");
    assert.equal(ok.status, 200);
    assert.equal(reached, 1);
  } finally {
    if (prev === undefined) Deno.env.delete("SUPABASE_SECRET_KEYS");
    else Deno.env.set("SUPABASE_SECRET_KEYS", prev);
  }
});
