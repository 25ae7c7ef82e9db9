// The verifier's rules on synthetic exports and database states (no database): what the
// integration tests (audit_export_test.ts) do not reach by a real tamper.
import assert from "node:assert/strict";
import { type ChainEntry, exportName, type Guards, sealExport, zeroHash } from "./export_doc.ts";
import { type AuditRowText, rowHash } from "./row_hash.ts";
import { type DbState, verifyAudit } from "./verify.ts";

const T = "11111111-1111-4111-8111-111111111111";
const day = 86400e6;
const t0 = Date.parse("2026-06-01T00:00:00Z") * 1000;
const iso = (us: number) => new Date(us / 1000).toISOString().replace("Z", "000Z");
const goodGuards: Guards = {
  audit_retention_members: [],
  audit_log_triggers: {
    audit_log_chain: "always",
    audit_log_chain_heads: "always",
    audit_log_immutable_row: "always",
    audit_log_immutable_truncate: "always",
  },
  event_triggers: {
    audit_policy_ddl: "origin",
    audit_policy_drop: "origin",
    audit_trigger_ddl: "always",
    audit_trigger_drop: "always",
  },
};

/** A chain of n rows of tenant T, created an hour apart from t0. */
function chain(n: number): AuditRowText[] {
  const rows: AuditRowText[] = [];
  let prev = zeroHash;
  for (let seq = 1; seq <= n; seq++) {
    const r: AuditRowText = {
      tenant_id: T,
      seq: String(seq),
      id: String(100 + seq),
      actor_id: "test",
      actor_type: "job",
      category: "test",
      created_us: String(t0 + seq * 3600e6),
      envelope_id: null,
      payload: `{"n": ${seq}}`,
      prev_hash: prev,
      hash: "",
    };
    r.hash = rowHash(r);
    prev = r.hash;
    rows.push(r);
  }
  return rows;
}

async function exportsOf(
  states: Array<{ at: number; chains: ChainEntry[]; guards?: Guards }>,
): Promise<Array<{ name: string; text: string }>> {
  const out = [];
  let prev = zeroHash;
  for (const [i, s] of states.entries()) {
    const { text, hash } = await sealExport({
      format: "audit-export/1",
      seq: i + 1,
      prev_hash: prev,
      exported_at: iso(s.at),
      retention_window_seconds: 90 * 86400,
      horizon_seconds: 3600,
      chains: s.chains,
      guards: s.guards ?? goodGuards,
    });
    prev = hash;
    out.push({ name: exportName(i + 1), text });
  }
  return out;
}

const entry = (
  rows: AuditRowText[],
  head: number,
  young: number | null,
  start = 0,
): ChainEntry => ({
  tenant_id: T,
  start_seq: start,
  start_hash: start ? rows[start - 1].hash : zeroHash,
  head_seq: head,
  head_hash: rows[head - 1].hash,
  young_seq: young,
  young_at: young === null ? null : iso(Number(rows[young - 1].created_us)),
});

function db(rows: AuditRowText[], nowUs: number, start = 0): DbState {
  const kept = rows.filter((r) => Number(r.seq) > start);
  const last = rows[rows.length - 1];
  return {
    nowUs,
    heads: new Map([[T, { seq: Number(last.seq), hash: last.hash }]]),
    anchors: start ? new Map([[T, { seq: start, hash: rows[start - 1].hash }]]) : new Map(),
    recorded: [],
    guards: goodGuards,
    rows: async function* () {
      yield* kept;
    },
  };
}

Deno.test("verify: an intact chain and export chain verify", async () => {
  const rows = chain(5);
  const ex = await exportsOf([{ at: t0 + 6 * 3600e6, chains: [entry(rows, 5, 1)] }]);
  const r = await verifyAudit(ex, db(rows, t0 + 6 * 3600e6 + 60e6));
  assert.deepEqual(r.divergences, []);
  assert.equal(r.valid, true);
  assert.equal(r.rows_checked, 5);
});

Deno.test("verify: a head that moved back between two exports is named by the exports alone", async () => {
  const rows = chain(5);
  const ex = await exportsOf([
    { at: t0 + 6 * 3600e6, chains: [entry(rows, 5, 1)] },
    { at: t0 + 7 * 3600e6, chains: [entry(rows, 3, 1)] },
  ]);
  const r = await verifyAudit(ex, db(rows, t0 + 7 * 3600e6), { maxAgeSeconds: null });
  assert.match(
    r.first!.message,
    /seq 4: export #2 has the chain's head at seq 3, export #1 had it at seq 5/,
  );
});

Deno.test("verify: exports missing before the first one read, and a stale newest export", async () => {
  const rows = chain(2);
  const ex = (await exportsOf([
    { at: t0 + 3 * 3600e6, chains: [entry(rows, 2, 1)] },
    { at: t0 + 3 * 3600e6, chains: [entry(rows, 2, 1)] },
    { at: t0 + 3 * 3600e6, chains: [entry(rows, 2, 1)] },
  ])).slice(2);
  const r = await verifyAudit(ex, db(rows, t0 + 4 * 3600e6));
  assert.deepEqual(r.divergences.map((d) => d.message), [
    "export #1: exports #1–#2 are missing at the sink",
    "export #3: the newest export was taken 3600 s ago (at 2026-06-01T03:00:00.000Z), more than 900 s: exports stopped, or newer ones were deleted at the sink",
  ]);
});

Deno.test("verify: rows past the window may go; without their anchor row, or past a young row, it is named", async () => {
  const rows = chain(4);
  // Rows 1-2 are past the window by now; the export said row 3 is the first young one.
  const now = t0 + 2.5 * 3600e6 + 90 * day;
  const ex = await exportsOf([{ at: now - 600e6, chains: [entry(rows, 4, 3)] }]);
  const r = await verifyAudit(ex, db(rows, now, 2), { maxAgeSeconds: null });
  assert.deepEqual(r.divergences.map((d) => d.message), [
    `tenant ${T} seq 2: the chain is anchored at seq 2, but no audit_retention row in it records that anchor: the anchor was moved by hand`,
  ]);
  // Past row 3 while it is young: the young rule names it.
  const cut = await verifyAudit(ex, db(rows, now, 3), { maxAgeSeconds: null });
  assert.equal(cut.first?.seq, 3);
  assert.match(
    cut.first!.problem,
    /seq 3 was created at .*inside the retention window \(export #1\)/,
  );
});

Deno.test("verify: guards of an export and a changed retention window are named once", async () => {
  const rows = chain(1);
  const bad = { ...goodGuards, audit_retention_members: ["postgres"] };
  const ex = await exportsOf([
    { at: t0 + 7200e6, chains: [entry(rows, 1, 1)], guards: bad },
    { at: t0 + 7200e6, chains: [entry(rows, 1, 1)], guards: bad },
  ]);
  const r = await verifyAudit(ex, db(rows, t0 + 7200e6), { windowSeconds: 30 * 86400 });
  assert.deepEqual(r.divergences.map((d) => d.message), [
    "guards (export #1): postgres can become audit_retention (and in every export since, up to the newest #2)",
    "guards (export #1): the retention window is 7776000 s, the verifier expects 2592000 s (and in every export since, up to the newest #2)",
  ]);
});

Deno.test("verify: a run can start at the newest export the last valid run saw, and checks its hash", async () => {
  const rows = chain(3);
  const at = t0 + 4 * 3600e6;
  const ex = await exportsOf([
    { at, chains: [entry(rows, 2, 1)] },
    { at, chains: [entry(rows, 3, 1)] },
  ]);
  const first = await verifyAudit(ex, db(rows, at));
  assert.equal(first.valid, true);
  const next = { fromExport: first.exports.last_seq!, fromHash: first.exports.last_hash! };
  const again = await verifyAudit(ex.slice(1), db(rows, at), next);
  assert.deepEqual([again.valid, again.exports.read], [true, 1]);
  const wrong = await verifyAudit(ex.slice(1), db(rows, at), { ...next, fromHash: "a".repeat(64) });
  assert.match(
    wrong.first!.message,
    /^export #2: its hash is [0-9a-f]{64}, the verification it starts from saw a{64}$/,
  );
});
