// audit_log's hash chain under concurrent inserters, and immutability against the
// superuser (session_replication_role = replica does not skip ENABLE ALWAYS triggers).
// The rest (tampering named, retention, audited writes): supabase/tests/20_audit.test.sql.
import assert from "node:assert/strict";
import { connect, env } from "./testing.ts";

/** A tenant of this test (audit rows of unknown tenants would trouble the embedding job). */
async function newTenant(url: string): Promise<string> {
  const sql = connect(url, { max: 1 });
  try {
    const [{ id }] = await sql`insert into public.tenants (name) values ('audit chain test')
                               returning id`;
    return id;
  } finally {
    await sql.end();
  }
}

interface Verify {
  valid: boolean;
  rows_checked: string;
  first_bad_id: string | null;
  first_bad_seq: string | null;
  problem: string | null;
}

Deno.test("concurrent inserters on one tenant keep one valid chain", async () => {
  const tenant = await newTenant(env.postgresUrl);
  const workers = 8, perWorker = 40;
  // One connection per worker, so the inserts really contend for the chain head.
  const clients = Array.from({ length: workers }, () => connect(env.postgresUrl, { max: 1 }));
  try {
    await Promise.all(clients.map(async (sql, w) => {
      for (let i = 0; i < perWorker; i++) {
        if (i % 4 === 0) {
          // A multi-row insert in its own transaction.
          await sql`insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
                    select ${tenant}, 'job', ${`w${w}`}, 'concurrency', jsonb_build_object('i', ${i}::int, 'k', k)
                      from generate_series(1, 3) k`;
        } else {
          await sql`insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
                    values (${tenant}, 'job', ${`w${w}`}, 'concurrency', ${sql.json({ i })})`;
        }
      }
    }));
    const sql = clients[0];
    // Creating the tenant audited its tenants and guardrails rows first.
    const [{ before }] = await sql`select count(*)::int as before from public.audit_log
                                   where tenant_id = ${tenant} and category <> 'concurrency'`;
    const expected = before + workers * (perWorker / 4 * 3 + perWorker * 3 / 4);
    const [{ n, min, max, distinct_prev }] = await sql`
      select count(*)::int as n, min(seq)::int as min, max(seq)::int as max,
             count(distinct prev_hash)::int as distinct_prev
        from public.audit_log where tenant_id = ${tenant}`;
    assert.deepEqual({ n, min, max, distinct_prev }, {
      n: expected,
      min: 1,
      max: expected,
      distinct_prev: expected,
    }, "seq 1..N without gaps or duplicates, no two rows share a predecessor (no fork)");
    const [v] = await sql<Verify[]>`select * from internal.audit_log_verify(${tenant})`;
    assert.equal(v.valid, true, JSON.stringify(v));
    assert.equal(Number(v.rows_checked), expected);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
});

Deno.test("the superuser cannot update, delete or truncate, even in replica mode", async () => {
  const tenant = await newTenant(env.postgresUrl);
  const sql = connect(env.adminUrl, { max: 1 });
  try {
    const [{ rolsuper }] = await sql`select rolsuper from pg_roles where rolname = current_user`;
    assert.equal(rolsuper, true, "this test needs the superuser");
    await sql`insert into public.audit_log (tenant_id, actor_type, category)
              values (${tenant}, 'operator', 'superuser_test')`;
    for (
      const stmt of [
        `update public.audit_log set payload = '{"x": 1}' where tenant_id = '${tenant}'`,
        `delete from public.audit_log where tenant_id = '${tenant}'`,
        `truncate public.audit_log`,
      ]
    ) {
      for (const replica of [false, true]) {
        const err = await sql.begin(async (tx) => {
          if (replica) await tx`set local session_replication_role = replica`;
          await tx.unsafe(stmt);
        }).then(() => null, (e) => e);
        assert.equal(err?.code, "PT405", `${stmt} (replica: ${replica}): ${err?.message}`);
      }
    }
    const [{ n }] = await sql`select count(*)::int as n from public.audit_log
                              where tenant_id = ${tenant} and category = 'superuser_test'`;
    assert.equal(n, 1);
  } finally {
    await sql.end();
  }
});

Deno.test("a row the superuser alters with triggers disabled is named by verification", async () => {
  const tenant = await newTenant(env.postgresUrl);
  const sql = connect(env.adminUrl, { max: 1 });
  try {
    await sql`insert into public.audit_log (tenant_id, actor_type, category, payload)
              select ${tenant}, 'job', 'tamper_test', jsonb_build_object('n', n)
                from generate_series(1, 5) n`;
    const [target] = await sql`select id, seq from public.audit_log
                               where tenant_id = ${tenant} and category = 'tamper_test'
                               order by seq offset 2 limit 1`;
    // Rolled back: the shared stack keeps an intact chain.
    const v = await sql.begin(async (tx) => {
      await tx`alter table public.audit_log disable trigger audit_log_immutable_row`;
      await tx`update public.audit_log set payload = '{"n": 300}' where id = ${target.id}`;
      await tx`alter table public.audit_log enable always trigger audit_log_immutable_row`;
      const [v] = await tx<Verify[]>`select * from internal.audit_log_verify(${tenant})`;
      throw Object.assign(new Error("rollback"), { v });
    }).catch((e) => e.v as Verify);
    assert.deepEqual(
      [v.valid, v.first_bad_id, v.first_bad_seq, v.problem],
      [false, target.id, target.seq, "hash does not match the row's content"],
    );
    const [after] = await sql<Verify[]>`select * from internal.audit_log_verify(${tenant})`;
    assert.equal(after.valid, true);
  } finally {
    await sql.end();
  }
});
