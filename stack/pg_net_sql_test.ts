import assert from "node:assert/strict";
import { connect, env } from "./testing.ts";

Deno.test("net.http_post queues a row and notifies only on commit", async () => {
  const listener = connect(env.postgresUrl, { max: 1 });
  const sql = connect(env.postgresUrl);
  const seen: string[] = [];
  try {
    await listener.listen("pg_net", (payload) => seen.push(payload));

    // Rolled back: the row vanishes and no notification is delivered.
    const rolledBack = await sql.begin(async (tx) => {
      const [{ id }] = await tx`select net.http_post('http://127.0.0.1:9/x') as id`;
      await tx`select pg_sleep(0.2)`;
      throw Object.assign(new Error("rollback"), { id });
    }).catch((e) => String(e.id));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!seen.includes(rolledBack), "no notification for a rolled-back request");

    // Committed: the notification arrives after commit, not before.
    let idInTx = "";
    await sql.begin(async (tx) => {
      const [{ id }] = await tx`
        select net.http_post('http://127.0.0.1:9/y', '{"n":1}'::jsonb,
                             timeout_milliseconds => 1234) as id`;
      idInTx = String(id);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!seen.includes(idInTx), "not notified before commit");
    });
    for (let i = 0; i < 50 && !seen.includes(idInTx); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(seen.includes(idInTx), "notified after commit");
    const [row] = await sql`select method, url, convert_from(body, 'UTF8') as body,
                                   timeout_milliseconds
                            from net.http_request_queue where id = ${idInTx}`;
    assert.deepEqual({ ...row }, {
      method: "POST",
      url: "http://127.0.0.1:9/y",
      body: '{"n": 1}',
      timeout_milliseconds: 1234,
    });
    await sql`delete from net.http_request_queue where id = ${idInTx}`;
  } finally {
    await listener.end();
    await sql.end();
  }
});
