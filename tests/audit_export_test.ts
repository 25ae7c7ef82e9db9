// deno-lint-ignore-file no-explicit-any -- job summaries and reports are wire JSON
// The audit export against the stack, and each tamper of the review reproduced as the
// database owner (postgres, not a superuser) would do it, with what the verifier names.
//
// A scenario runs in one transaction that is rolled back: the chain, its exports (to a
// sink of its own), the tamper and the verification, so the shared stack keeps intact
// chains. Within it now() stands still: rows, exports and the verifier's clock agree.
import assert from "node:assert/strict";
import postgres from "postgres";
import { join } from "node:path";
import { callFunction, connect, env } from "./testing.ts";
import { auditSinkS3, auditSinkToken } from "../stack/keys.ts";
import { freePort } from "../stack/cluster.ts";
import { startAuditSink } from "../stack/audit_sink.ts";
import type { Sql } from "../supabase/functions/_shared/db.ts";
import { runJob } from "../supabase/functions/_shared/job.ts";
import { setLogSink } from "../supabase/functions/_shared/log.ts";
import { exportJob } from "../supabase/functions/audit-export/export.ts";
import { exportName, parseExport } from "../supabase/functions/audit-export/export_doc.ts";
import { rowHash } from "../supabase/functions/audit-export/row_hash.ts";
import { rowColumns } from "../supabase/functions/audit-export/db_state.ts";
import { verifyNow } from "../supabase/functions/audit-export/routes.ts";
import {
  type ExportSink,
  HttpSink,
  MemorySink,
  S3Sink,
} from "../supabase/functions/audit-export/sink.ts";
import type { VerifyReport } from "../supabase/functions/audit-export/verify.ts";

const need = (name: string) => {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`${name} is not set: run through \`deno task test\``);
  return v;
};
const fnUrl = `${need("SUPABASE_URL")}/functions/v1/audit-export`;
// The in-process export jobs' log lines would drown the test output.
setLogSink(() => {});
const serviceKey = need("SUPABASE_SERVICE_ROLE_KEY");

/** The intended state, whatever an earlier test of the cluster left: nobody is audit_retention. */
async function resetRetentionMembers() {
  const admin = connect(env.adminUrl, { max: 1 });
  try {
    await admin`revoke audit_retention from postgres`;
  } finally {
    await admin.end();
  }
}

class Rollback extends Error {}

interface Scenario {
  tx: postgres.TransactionSql;
  sink: ExportSink;
  tenant: string;
  /** Appends n rows to the scenario's chain. */
  rows(n: number, category?: string): Promise<void>;
  exportNow(): Promise<any>;
  verify(chains?: string[]): Promise<VerifyReport>;
  hashAt(seq: number): Promise<string>;
  dbVerify(): Promise<{ valid: boolean; problem: string | null }>;
}

async function scenario(sink: ExportSink, fn: (s: Scenario) => Promise<void>) {
  const sql = connect(env.postgresUrl, { max: 1 });
  try {
    await sql.begin(async (tx) => {
      // This scenario's exports alone: the sink starts empty, so must the record.
      await tx`delete from internal.audit_exports`;
      const [{ tenant }] = await tx`select gen_random_uuid()::text as tenant`;
      const s: Scenario = {
        tx,
        sink,
        tenant,
        rows: async (n, category = "tamper_test") => {
          await tx`insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
                   select ${tenant}::uuid, 'job', 'audit-export-test', ${category},
                          jsonb_build_object('n', g) from generate_series(1, ${n}) g`;
        },
        exportNow: async () => {
          const summary = await runJob(exportJob(() => sink, { horizonSeconds: 3600 }), {}, {
            sql: tx as unknown as Sql,
          });
          assert.equal(summary.status, "succeeded", JSON.stringify(summary));
          return summary;
        },
        verify: (chains = [tenant]) =>
          verifyNow(tx as unknown as Sql, sink, { chains, maxAgeSeconds: 900 }),
        hashAt: async (seq) => {
          const [r] = await tx`select hash from public.audit_log
                               where tenant_id = ${tenant}::uuid and seq = ${seq}`;
          return r.hash;
        },
        dbVerify: async () => {
          const [r] =
            await tx`select valid, problem from internal.audit_log_verify(${tenant}::uuid)`;
          return { valid: r.valid, problem: r.problem };
        },
      };
      await fn(s);
      throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  } finally {
    await sql.end();
  }
}

const onlyChain = (r: VerifyReport) => r.divergences.filter((d) => d.kind === "chain");

Deno.test("audit export: the served function exports every chain to the stack's sink, the route verifies", async () => {
  await resetRetentionMembers();
  const summary = await callFunction("audit-export", {});
  assert.equal(summary.status, "succeeded", JSON.stringify(summary));
  assert.ok(summary.counts.chains > 0);
  const name = summary.details.name as string;
  assert.equal(name, exportName(summary.details.seq));
  // The file is the sink's: written by audit-sink into its folder.
  const file = join(need("STACK_AUDIT_SINK_DIR"), "exports", name);
  const text = await Deno.readTextFile(file);
  const parsed = await parseExport(text);
  assert.ok(parsed.ok && parsed.hashOk, "the stored export is whole and matches its hash");
  assert.equal(parsed.doc.hash, summary.details.hash);
  if (Deno.uid() === 0) {
    const st = await Deno.stat(file);
    assert.notEqual(st.uid, 0, "not root's");
    assert.equal(need("STACK_AUDIT_SINK_USER"), "audit-sink");
  }
  const second = await callFunction("audit-export", {});
  assert.equal(second.details.seq, summary.details.seq + 1, "exports are numbered in order");
  const again = await parseExport(
    await Deno.readTextFile(join(need("STACK_AUDIT_SINK_DIR"), "exports", second.details.name)),
  );
  assert.ok(again.ok && again.doc.prev_hash === summary.details.hash, "and chained by hash");

  const res = await fetch(`${fnUrl}/verify?tenant_id=system`, {
    headers: { authorization: `Bearer ${serviceKey}` },
  });
  const report = await res.json();
  assert.equal(res.status, 200, JSON.stringify(report).slice(0, 2000));
  assert.equal(report.valid, true);
  assert.ok(report.exports.read >= 2);
  assert.ok(report.rows_checked > 0);
});

Deno.test("audit export: bad input is a 4xx naming the problem, and writes nothing", async () => {
  const auth = { authorization: `Bearer ${serviceKey}`, "content-type": "application/json" };
  const cases: Array<[string, RequestInit, number, RegExp]> = [
    ["/verify?from_export=0", { headers: auth }, 400, /query\.from_export/],
    ["/verify?tenant_id=nope", { headers: auth }, 400, /query\.tenant_id/],
    ["/verify?bogus=1", { headers: auth }, 400, /unknown field bogus/],
    ["/verify", {}, 401, /./],
    [
      "",
      {
        method: "POST",
        headers: auth,
        body: '{"tenant_id": "00000000-0000-0000-0000-00000000000a"}',
      },
      400,
      /body\.tenant_id: an export covers every chain/,
    ],
    [
      "",
      { method: "POST", headers: auth, body: '{"sink": "elsewhere"}' },
      400,
      /unknown field sink/,
    ],
    ["", { method: "POST", headers: auth, body: "{not json" }, 400, /not valid JSON/],
  ];
  const sql = connect(env.postgresUrl, { max: 1 });
  try {
    const [{ n: before }] = await sql`select count(*)::int as n from internal.audit_exports`;
    for (const [path, init, status, message] of cases) {
      const res = await fetch(`${fnUrl}${path}`, init);
      const body = await res.json();
      assert.equal(res.status, status, `${path} ${init.body ?? ""}: ${JSON.stringify(body)}`);
      assert.match(body.error.message, message);
    }
    const [{ n: after }] = await sql`select count(*)::int as n from internal.audit_exports`;
    assert.equal(after, before);
  } finally {
    await sql.end();
  }
});

Deno.test("audit export: the verifier's row hash is the database's, for awkward content", async () => {
  await scenario(new MemorySink(), async (s) => {
    await s
      .tx`insert into public.audit_log (tenant_id, actor_type, actor_id, category, envelope_id, payload)
               values (${s.tenant}::uuid, 'user', 'o''brien', 'quotes', gen_random_uuid(), '{"q": "it''s"}'),
                      (${s.tenant}::uuid, 'job', null, 'backslash', null, ${
      JSON.stringify({ b: "back\\slash", e: "\\u0000" })
    }),
                      (${s.tenant}::uuid, 'job', 'x', 'unicode', null, '{"u": "ünï€😀", "n": 1.50}')`;
    const rows = await s.tx.unsafe(
      `select ${rowColumns} from public.audit_log l where l.tenant_id = $1 order by l.seq`,
      [s.tenant],
    );
    assert.equal(rows.length, 3);
    for (const r of rows) assert.equal(rowHash(r as any), r.hash, `${r.category}: ${r.payload}`);
  });
});

Deno.test("tamper: a prefix deleted with the anchor moved (and a forged anchor row) is named", async () => {
  await resetRetentionMembers();
  await scenario(new MemorySink(), async (s) => {
    await s.rows(5);
    await s.exportNow();
    const hash3 = await s.hashAt(3);
    // The review's way in: postgres makes itself audit_retention. Recent rows now stay.
    await s.tx`grant audit_retention to postgres`;
    await s.tx`set local role audit_retention`;
    const refused = await s.tx.savepoint((sp) =>
      sp`delete from public.audit_log where tenant_id = ${s.tenant}::uuid and seq <= 3`
    ).catch((e) => e);
    assert.equal(refused.code, "PT405", "audit_retention cannot delete a recent row");
    assert.match(refused.message, /inside the retention window/);
    await s.tx`reset role`;
    // So the owner disables the trigger (the event trigger audits that), deletes, moves the
    // anchor and forges the anchor row retention would have written.
    await s.tx`alter table public.audit_log disable trigger audit_log_immutable_row`;
    await s.tx`delete from public.audit_log where tenant_id = ${s.tenant}::uuid and seq <= 3`;
    await s.tx`alter table public.audit_log enable always trigger audit_log_immutable_row`;
    await s.tx`insert into internal.audit_chain_anchors (chain_key, seq, hash)
               values (${s.tenant}::uuid, 3, ${hash3})`;
    await s.tx`insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
               values (${s.tenant}::uuid, 'system', 'audit_log_retain', 'audit_retention',
                       jsonb_build_object('anchor_seq', 3, 'anchor_hash', ${hash3}::text))`;
    assert.deepEqual(await s.dbVerify(), { valid: true, problem: null }, "the database is fooled");
    const r = await s.verify();
    assert.equal(r.valid, false);
    assert.equal(r.first?.kind, "chain");
    assert.equal(r.first?.tenant_id, s.tenant);
    assert.equal(r.first?.seq, 1);
    assert.match(
      r.first!.problem,
      /now starts at seq 4 \(anchor at seq 3\), but seq 1 was created at .*inside the retention window \(export #1\): rows 1–3 were removed/,
    );
    const trail = await s.tx`
      select payload ->> 'command' as command, payload -> 'audit_log_triggers' ->> 'audit_log_immutable_row' as state
        from public.audit_log
       where tenant_id is null and category = 'auth_policy' and payload ? 'audit_log_triggers'
       order by seq desc limit 2`;
    assert.deepEqual(
      trail.map((t) => t.state),
      ["always", "disabled"],
      "and the switch is in the system chain",
    );
    console.log(`  verifier: ${r.first!.message}`);
  });
});

Deno.test("tamper: the tail deleted with the head moved back is named", async () => {
  await scenario(new MemorySink(), async (s) => {
    await s.rows(5);
    await s.exportNow();
    const hash3 = await s.hashAt(3);
    await s.tx`alter table public.audit_log disable trigger audit_log_immutable_row`;
    await s.tx`delete from public.audit_log where tenant_id = ${s.tenant}::uuid and seq >= 4`;
    await s.tx`alter table public.audit_log enable always trigger audit_log_immutable_row`;
    await s.tx`update internal.audit_chain_heads set seq = 3, hash = ${hash3}
               where chain_key = ${s.tenant}::uuid`;
    assert.deepEqual(await s.dbVerify(), { valid: true, problem: null }, "the database is fooled");
    const r = await s.verify();
    assert.equal(r.valid, false);
    assert.deepEqual([r.first?.seq, r.first?.export_seq], [4, 1]);
    assert.match(
      r.first!.problem,
      /export #1 recorded the chain up to seq 5 \(hash [0-9a-f]{64}\), but the database's chain ends at seq 3: rows 4–5 were removed/,
    );
    console.log(`  verifier: ${r.first!.message}`);
  });
});

Deno.test("the stated limit: rows added after the last export can go unseen until the next", async () => {
  await scenario(new MemorySink(), async (s) => {
    await s.rows(3);
    await s.exportNow();
    await s.rows(2);
    const hash4 = await s.hashAt(4);
    await s.tx`alter table public.audit_log disable trigger audit_log_immutable_row`;
    await s.tx`delete from public.audit_log where tenant_id = ${s.tenant}::uuid and seq = 5`;
    await s.tx`alter table public.audit_log enable always trigger audit_log_immutable_row`;
    await s.tx`update internal.audit_chain_heads set seq = 4, hash = ${hash4}
               where chain_key = ${s.tenant}::uuid`;
    const r = await s.verify();
    assert.deepEqual(onlyChain(r), [], "seq 5 never reached an export");
    assert.equal(r.valid, true);
  });
});

Deno.test("tamper: a row edited and the chain re-hashed after it is named between two exports", async () => {
  await scenario(new MemorySink(), async (s) => {
    await s.rows(3);
    await s.exportNow();
    await s.rows(3);
    await s.exportNow();
    await s.tx`alter table public.audit_log disable trigger audit_log_immutable_row`;
    // Edit seq 5, then re-hash it and every row after it and move the head: each row fits
    // its predecessor again. (A DO block takes no parameters: the tenant id is inlined.)
    await s.tx.unsafe(`
      do $$
      declare
        r record;
        v_prev text;
      begin
        for r in select id, seq from public.audit_log
                  where tenant_id = '${s.tenant}' and seq >= 5 order by seq loop
          if r.seq = 5 then
            update public.audit_log set payload = '{"n": 500}' where id = r.id;
          else
            update public.audit_log set prev_hash = v_prev where id = r.id;
          end if;
          update public.audit_log l set hash = internal.audit_hash(l) where l.id = r.id
          returning l.hash into v_prev;
        end loop;
        update internal.audit_chain_heads set hash = v_prev where chain_key = '${s.tenant}';
      end
      $$`);
    await s.tx`alter table public.audit_log enable always trigger audit_log_immutable_row`;
    assert.deepEqual(await s.dbVerify(), { valid: true, problem: null }, "the database is fooled");
    const r = await s.verify();
    assert.equal(r.valid, false);
    assert.deepEqual([r.first?.seq, r.first?.export_seq], [6, 2]);
    assert.match(
      r.first!.problem,
      /export #2 recorded [0-9a-f]{64}: a row in 4–6 was changed \(seq 3 still matches export #1\)/,
    );
    console.log(`  verifier: ${r.first!.message}`);
  });
});

Deno.test("tamper: the immutability trigger disabled (and the event trigger first) is named", async () => {
  await resetRetentionMembers();
  await scenario(new MemorySink(), async (s) => {
    await s.rows(4);
    await s.exportNow();
    // First the event trigger, which no event trigger sees; then the table trigger, left off.
    await s.tx`alter event trigger audit_trigger_ddl disable`;
    await s.tx`alter table public.audit_log disable trigger audit_log_immutable_row`;
    const [{ n }] = await s.tx`
      select count(*)::int as n from public.audit_log
       where tenant_id is null and category = 'auth_policy' and payload ? 'audit_log_triggers'
         and created_at = now()`;
    assert.equal(n, 0, "with the event trigger off, the switch leaves no audit row");
    await s.tx`delete from public.audit_log where tenant_id = ${s.tenant}::uuid and seq = 2`;
    await s.exportNow();
    const r = await s.verify();
    assert.equal(r.valid, false);
    assert.equal(r.first?.seq, 2);
    assert.match(r.first!.problem, /seq 3 follows seq 1: row 2 is missing/);
    const guards = r.divergences.filter((d) => d.kind === "guard").map((d) => d.message);
    assert.ok(
      guards.includes(
        "guards (export #2): audit_log trigger audit_log_immutable_row is disabled, not always",
      ),
      guards.join("\n"),
    );
    assert.ok(guards.includes("guards (export #2): event trigger audit_trigger_ddl is disabled"));
    assert.ok(
      guards.includes(
        "guards (database now): audit_log trigger audit_log_immutable_row is disabled, not always",
      ),
    );
    console.log(`  verifier: ${r.first!.message}`);
    for (const g of guards) console.log(`  verifier: ${g}`);
  });
});

Deno.test("tamper: GRANT audit_retention TO postgres writes no audit row; the export's guards show it", async () => {
  await resetRetentionMembers();
  await scenario(new MemorySink(), async (s) => {
    await s.rows(1);
    await s.exportNow();
    const [{ before }] = await s.tx`select max(id) as before from public.audit_log`;
    await s.tx`grant audit_retention to postgres`;
    const [{ n }] = await s
      .tx`select count(*)::int as n from public.audit_log where id > ${before}`;
    assert.equal(n, 0, "PG15 fires no event trigger for GRANT ROLE");
    await s.exportNow();
    const r = await s.verify();
    assert.deepEqual(
      r.divergences.map((d) => d.message),
      [
        "guards (export #2): postgres can become audit_retention",
        "guards (database now): postgres can become audit_retention",
      ],
    );
  });
});

Deno.test("retention after an export is no tamper: old rows go, the anchor row is in the chain, all verifies", async () => {
  await resetRetentionMembers();
  await scenario(new MemorySink(), async (s) => {
    await s.tx`insert into public.audit_log (tenant_id, actor_type, category, created_at)
               select ${s.tenant}::uuid, 'job', 'old', now() - interval '100 days'
                 from generate_series(1, 3)`;
    await s.rows(2);
    await s.exportNow();
    const [{ deleted }] = await s.tx`select internal.audit_log_retain() as deleted`;
    assert.ok(Number(deleted) >= 3);
    await s.exportNow();
    const r = await s.verify([s.tenant]);
    assert.deepEqual(r.divergences, [], JSON.stringify(r.divergences, null, 2));
    assert.equal(r.valid, true);
    const [anchor] = await s.tx`select seq from internal.audit_chain_anchors
                                where chain_key = ${s.tenant}::uuid`;
    assert.equal(Number(anchor.seq), 3);
  });
});

Deno.test("tamper: exports deleted or edited at the sink are named (files of a sink of its own)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "audit-export-sink-" });
  await Deno.chmod(dir, 0o755);
  const local = await startAuditSink({ stackDir: dir, port: freePort(), log: () => {} });
  try {
    const sink = new HttpSink(local.exportsUrl, auditSinkToken);
    const file = (seq: number) => join(local.dir, "exports", exportName(seq));
    await scenario(sink, async (s) => {
      for (let i = 0; i < 3; i++) {
        await s.rows(1);
        await s.exportNow();
      }
      assert.equal((await s.verify()).valid, true);
      const original = await Deno.readTextFile(file(2));
      const restore = async () => {
        await Deno.writeTextFile(file(2), original);
      };
      const firstExportProblem = async () => {
        const r = await s.verify();
        assert.equal(r.valid, false);
        return r.divergences.filter((d) => d.kind === "export").map((d) => d.message);
      };

      await Deno.remove(file(2));
      assert.deepEqual(await firstExportProblem(), [
        "export #2: missing at the sink (exports #1 and #3 are there)",
      ]);
      await restore();

      const doc = JSON.parse(original);
      doc.chains[0].head_hash = "f".repeat(64);
      await Deno.writeTextFile(file(2), JSON.stringify(doc));
      const edited = await firstExportProblem();
      assert.equal(edited.length, 1, edited.join("\n"));
      assert.match(
        edited[0],
        /^export #2: its content does not match its hash [0-9a-f]{64}: it was edited$/,
      );

      // Edited with its hash recomputed: the next export's prev_hash and the database's
      // record both disagree.
      const { sealExport } = await import("../supabase/functions/audit-export/export_doc.ts");
      const { hash: _, ...rest } = doc;
      await Deno.writeTextFile(file(2), (await sealExport(rest)).text);
      const rehashed = await firstExportProblem();
      assert.equal(rehashed.length, 2, rehashed.join("\n"));
      assert.match(
        rehashed[0],
        /^export #2: the sink's copy has hash [0-9a-f]{64}, the database recorded [0-9a-f]{64}: one was replaced$/,
      );
      assert.match(
        rehashed[1],
        /^export #3: prev_hash [0-9a-f]{64} is not the hash of export #2 \([0-9a-f]{64}\): one of the two was replaced$/,
      );
      await restore();

      const newest = await Deno.readTextFile(file(3));
      await Deno.remove(file(3));
      assert.deepEqual(await firstExportProblem(), [
        "export #3: the database recorded export #3, but the sink's newest is #2: exports were deleted at the sink",
      ]);
      await Deno.writeTextFile(file(3), newest);
      assert.equal((await s.verify()).valid, true, "restored, everything agrees again");
    });
  } finally {
    await local.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit export to an S3 bucket: the stack sink's S3 face, then verified from it", async () => {
  await resetRetentionMembers();
  const sink = new S3Sink({
    endpoint: need("STACK_AUDIT_SINK_S3_ENDPOINT"),
    region: auditSinkS3.region,
    bucket: auditSinkS3.bucket,
    prefix: `test-${crypto.randomUUID()}/`,
    credentials: {
      accessKeyId: auditSinkS3.accessKeyId,
      secretAccessKey: auditSinkS3.secretAccessKey,
    },
  });
  await scenario(sink, async (s) => {
    await s.rows(2);
    const first = await s.exportNow();
    await s.rows(1);
    await s.exportNow();
    assert.equal(await sink.put(first.details.name, "{}"), "exists", "never overwritten");
    const r = await s.verify();
    assert.equal(r.valid, true, JSON.stringify(r.divergences));
    assert.equal(r.exports.read, 2);
  });
});

Deno.test("deno task audit:verify: here or through the route, exit 0 when all agrees, 2 on a bad flag", async () => {
  const { main } = await import("../supabase/functions/audit-export/cli.ts");
  await callFunction("audit-export", {});
  const cliEnv = {
    SUPABASE_DB_URL: env.postgresUrl,
    AUDIT_EXPORT_URL: `${need("STACK_AUDIT_SINK_URL")}/exports`,
    AUDIT_EXPORT_TOKEN: auditSinkToken,
    SUPABASE_URL: need("SUPABASE_URL"),
    SUPABASE_SERVICE_ROLE_KEY: serviceKey,
  };
  const here = await main(["--tenant", "system"], cliEnv);
  assert.equal(here.code, 0, here.output);
  assert.match(here.output, /^valid: 1 chains, \d+ rows agree with \d+ exports \(#1–#\d+, newest /);
  const route = await main(["--tenant", "system", "--route", "--json"], cliEnv);
  assert.equal(route.code, 0, route.output);
  assert.equal(JSON.parse(route.output).valid, true);
  const bad = await main(["--from", "0"], cliEnv);
  assert.deepEqual(bad, { code: 2, output: "--from must be an export number (1, 2, …), got 0" });
});

Deno.test("what no event trigger sees: the superuser switching a trigger off in the catalog; the export does", async () => {
  await resetRetentionMembers();
  const admin = connect(env.adminUrl, { max: 1 });
  try {
    await admin.begin(async (tx) => {
      await tx`delete from internal.audit_exports`;
      const [{ before }] = await tx`select max(id) as before from public.audit_log`;
      await tx`update pg_catalog.pg_trigger set tgenabled = 'D'
                where tgrelid = 'public.audit_log'::regclass and tgname = 'audit_log_immutable_row'`;
      const [{ n }] =
        await tx`select count(*)::int as n from public.audit_log where id > ${before}`;
      assert.equal(n, 0, "a catalog update is no DDL: no audit row");
      const sink = new MemorySink();
      const s = await runJob(exportJob(() => sink, { horizonSeconds: 3600 }), {}, {
        sql: tx as unknown as Sql,
      });
      assert.equal(s.status, "succeeded");
      const r = await verifyNow(tx as unknown as Sql, sink, { chains: [] });
      assert.ok(
        r.divergences.some((d) =>
          d.message ===
            "guards (export #1): audit_log trigger audit_log_immutable_row is disabled, not always"
        ),
        r.divergences.map((d) => d.message).join("\n"),
      );
      throw new Rollback();
    }).catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    });
  } finally {
    await admin.end();
  }
});
