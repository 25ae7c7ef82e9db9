import assert from "node:assert/strict";
import { connect, env } from "../tests/testing.ts";

const poolerUrl = () => Deno.env.get("STACK_POOLER_URL")!;

Deno.test("pooler: transaction mode, so a prepared statement does not outlive its transaction", async () => {
  const a = connect(poolerUrl(), { max: 1, prepare: false });
  const b = connect(poolerUrl(), { max: 1, prepare: false });
  try {
    await a.unsafe("prepare stmt_pooler_test as select 1 as one").simple();
    // b holds the server connection a just used (pgbouncer hands out the last used one)…
    const held = b.begin(async (tx) => {
      await tx`select 1`;
      await new Promise((r) => setTimeout(r, 300));
    });
    await new Promise((r) => setTimeout(r, 100));
    // …so a's next statement runs on another server connection without the statement.
    const err = await a.unsafe("execute stmt_pooler_test").simple().then(() => null, (e) => e);
    await held;
    assert.ok(err, "execute of a statement prepared in an earlier transaction must fail");
    assert.match(err.message, /prepared statement "stmt_pooler_test" does not exist/);
  } finally {
    await a.end();
    await b.end();
  }
});

Deno.test("pooler: LISTEN through it never receives notifications, as on hosted", async () => {
  const pooled = connect(poolerUrl(), { max: 1 });
  const direct = connect(env.postgresUrl, { max: 1 });
  const notifier = connect(env.postgresUrl, { max: 1 });
  const viaPooler: string[] = [];
  const viaDirect: string[] = [];
  try {
    await pooled.listen("pooler_test", (p) => viaPooler.push(p)).catch(() => {});
    await direct.listen("pooler_test", (p) => viaDirect.push(p));
    await notifier`select pg_notify('pooler_test', 'hello')`;
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(viaDirect, ["hello"]);
    assert.deepEqual(viaPooler, []);
  } finally {
    await pooled.end({ timeout: 1 });
    await direct.end();
    await notifier.end();
  }
});

Deno.test("pooler: postgres.js with prepare: false works through it", async () => {
  const sql = connect(poolerUrl(), { max: 4, prepare: false });
  try {
    const rows = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sql`select ${i}::int as i, current_user as u`),
    );
    assert.deepEqual(rows.map((r) => r[0].i), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(rows[0][0].u, "postgres");
  } finally {
    await sql.end();
  }
});
