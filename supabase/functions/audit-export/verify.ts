// The verifier: compares the database's audit chains with the exports at the sink and names
// every divergence, the first one first. Trusts nothing the database owner controls but the
// rows themselves: it recomputes each row's hash (row_hash.ts), reads heads and anchors as
// plain tables, and judges them by the exports, which are outside the owner's reach.
//
// Checks, in the order reported:
// * chains (system chain first, then tenants by id, by seq within each): every row fits its
//   predecessor and its own content; every exported head is still there with the exported
//   hash; no chain ends before, or has its head behind, what an export saw; a chain's start
//   (its anchor) never moves back, never past a row that was still inside the retention
//   window (an export's `young` row, judged at the database's now), and is recorded by an
//   audit_retention anchor row in the chain; exports agree with each other (a head never
//   moves back or changes its hash between exports).
// * the exports themselves: each one's hash matches its content, each carries the previous
//   one's hash, none is missing, the newest is recent, and the sink's newest is the one the
//   database recorded.
// * guards: audit_log's protective triggers ENABLE ALWAYS, the audit event triggers enabled,
//   nobody able to become audit_retention, the retention window the verifier expects, in
//   every export and in the database now.
import { type ExportSink } from "./sink.ts";
import {
  type ChainEntry,
  exportName,
  exportNamePattern,
  exportSeqOf,
  type Guards,
  micros,
  parseExport,
  zeroHash,
} from "./export_doc.ts";
import { type AuditRowText, rowHash } from "./row_hash.ts";

export const defaultWindowSeconds = 90 * 24 * 3600;
/** Three five-minute intervals: one missed tick is not yet an alarm. */
export const defaultMaxAgeSeconds = 900;

export interface Divergence {
  kind: "chain" | "export" | "guard";
  /** The chain's tenant; null for the system chain (and for export and guard kinds). */
  tenant_id: string | null;
  /** The first row (seq) the divergence concerns, when it concerns one. */
  seq: number | null;
  /** The export that shows it, when one does. */
  export_seq: number | null;
  problem: string;
  /** One line: where and what. */
  message: string;
}

export interface VerifyReport {
  valid: boolean;
  /** False when the time budget ran out before every chain was checked. */
  complete: boolean;
  first: Divergence | null;
  divergences: Divergence[];
  /** How many divergences there were in all (the list is capped). */
  divergence_count: number;
  exports: {
    read: number;
    first_seq: number | null;
    last_seq: number | null;
    /** The newest export's hash: with last_seq, where the next verification can start. */
    last_hash: string | null;
    newest_at: string | null;
    recorded_last_seq: number | null;
  };
  chains_checked: number;
  rows_checked: number;
  window_seconds: number;
}

export interface VerifyOptions {
  windowSeconds?: number;
  /** null: do not judge the newest export's age. */
  maxAgeSeconds?: number | null;
  /**
   * Check the exports from this one on. Every export holds every chain, so starting at the
   * newest export a previous run found valid (with `fromHash`, the hash it saw) loses
   * nothing; without it, that export's predecessor is not checked.
   */
  fromExport?: number;
  fromHash?: string;
  /** Only these chains ("system" or a tenant id); the exports are checked whole anyway. */
  chains?: string[];
  maxDivergences?: number;
  /** Epoch ms after which no more chains are started. */
  deadline?: number;
}

/** What the verifier reads from the database (db_state.ts). */
export interface DbState {
  nowUs: number;
  heads: Map<string, { seq: number; hash: string }>;
  anchors: Map<string, { seq: number; hash: string }>;
  /** internal.audit_exports: what the project says it exported. */
  recorded: Array<{ seq: number; hash: string }>;
  guards: Guards;
  /**
   * The rows of these chains (all when null): the system chain first, then tenants by id,
   * each by seq.
   */
  rows(chains: string[] | null): AsyncIterable<AuditRowText>;
}

export const systemChain = "system";
const keyOf = (tenantId: string | null) => tenantId ?? systemChain;
const tenantOf = (key: string) => (key === systemChain ? null : key);
/** The system chain first, then tenants in uuid (= lower-case text) order. */
export function compareChains(a: string, b: string): number {
  if (a === b) return 0;
  if (a === systemChain) return -1;
  if (b === systemChain) return 1;
  return a < b ? -1 : 1;
}

const protectiveTriggers = [
  "audit_log_chain",
  "audit_log_chain_heads",
  "audit_log_immutable_row",
  "audit_log_immutable_truncate",
];
const auditEventTriggers = [
  "audit_policy_ddl",
  "audit_policy_drop",
  "audit_trigger_ddl",
  "audit_trigger_drop",
];

/** What is wrong with one set of guards, one line each. */
export function guardProblems(g: Guards, windowSeconds: number, recordedWindow?: number): string[] {
  const out: string[] = [];
  for (const t of protectiveTriggers) {
    const s = g.audit_log_triggers[t];
    if (s === undefined) out.push(`audit_log trigger ${t} is missing (dropped)`);
    else if (s !== "always") out.push(`audit_log trigger ${t} is ${s}, not always`);
  }
  for (const e of auditEventTriggers) {
    const s = g.event_triggers[e];
    if (s === undefined) out.push(`event trigger ${e} is missing (dropped)`);
    else if (s === "disabled") out.push(`event trigger ${e} is disabled`);
  }
  if (g.audit_retention_members.length > 0) {
    out.push(`${g.audit_retention_members.join(", ")} can become audit_retention`);
  }
  if (recordedWindow !== undefined && recordedWindow !== windowSeconds) {
    out.push(
      `the retention window is ${recordedWindow} s, the verifier expects ${windowSeconds} s`,
    );
  }
  return out;
}

function isoOf(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

interface ChainFacts {
  /** Exported heads by seq: the first export that recorded each. */
  heads: Map<number, { hash: string; export: number }>;
  starts: Map<number, { hash: string; export: number }>;
  young: Array<{ seq: number; atUs: number; export: number }>;
  last: { export: number; head: number; start: number } | null;
}

/** The exports read in order and folded into per-chain facts, with their own problems. */
export interface ExportFacts {
  chains: Map<string, ChainFacts>;
  problems: Divergence[];
  read: number;
  firstSeq: number | null;
  lastSeq: number | null;
  newestAtUs: number | null;
  /** seq → hash as stored (what the next export must carry). */
  hashes: Map<number, string>;
}

/** Every divergence found; `sorted()` puts them in report order (see the top). */
class Collector {
  readonly all: Divergence[] = [];
  add(d: Omit<Divergence, "message">) {
    const where = d.kind === "chain"
      ? `${d.tenant_id === null ? "system chain" : `tenant ${d.tenant_id}`}${
        d.seq === null ? "" : ` seq ${d.seq}`
      }`
      : d.kind === "export"
      ? (d.export_seq === null ? "exports" : `export #${d.export_seq}`)
      : `guards${d.export_seq === null ? " (database now)" : ` (export #${d.export_seq})`}`;
    this.all.push({ ...d, message: `${where}: ${d.problem}` });
  }
  sorted(): Divergence[] {
    const kind = { chain: 0, export: 1, guard: 2 };
    const num = (n: number | null) => (n === null ? Number.MAX_SAFE_INTEGER : n);
    return this.all.map((d, i) => ({ d, i })).sort((x, y) =>
      kind[x.d.kind] - kind[y.d.kind] ||
      (x.d.kind === "chain" ? compareChains(keyOf(x.d.tenant_id), keyOf(y.d.tenant_id)) : 0) ||
      num(x.d.seq) - num(y.d.seq) || num(x.d.export_seq) - num(y.d.export_seq) || x.i - y.i
    ).map((x) => x.d);
  }
}

/** Folds the exports (sorted by name) into facts; problems of the export chain and guards. */
export async function foldExports(
  items: Array<{ name: string; text: string }>,
  opts: { windowSeconds: number; fromExport: number; fromHash?: string },
): Promise<ExportFacts> {
  const W = opts.windowSeconds * 1e6;
  const facts: ExportFacts = {
    chains: new Map(),
    problems: [],
    read: 0,
    firstSeq: null,
    lastSeq: null,
    newestAtUs: null,
    hashes: new Map(),
  };
  const problem = (d: Omit<Divergence, "message">) => facts.problems.push({ ...d, message: "" });
  const guardSeen = new Map<string, { first: number; last: number }>();
  let expected = opts.fromExport;
  let prevHash: string | null = opts.fromExport === 1 ? zeroHash : null;
  let lastChainsExport: Set<string> | null = null;

  for (const item of items) {
    const nameSeq = exportSeqOf(item.name)!;
    facts.read++;
    facts.firstSeq ??= nameSeq;
    facts.lastSeq = nameSeq;
    if (nameSeq > expected) {
      problem({
        kind: "export",
        tenant_id: null,
        seq: null,
        export_seq: expected,
        problem: nameSeq - 1 === expected
          ? `missing at the sink (exports #${expected - 1} and #${nameSeq} are there)`
          : `exports #${expected}–#${nameSeq - 1} are missing at the sink`,
      });
      prevHash = null;
    }
    expected = nameSeq + 1;
    const parsed = await parseExport(item.text);
    if (!parsed.ok) {
      problem({
        kind: "export",
        tenant_id: null,
        seq: null,
        export_seq: nameSeq,
        problem: `${item.name} is ${parsed.problem}: it was replaced or damaged`,
      });
      prevHash = null;
      continue;
    }
    const doc = parsed.doc;
    facts.hashes.set(nameSeq, doc.hash);
    if (doc.seq !== nameSeq) {
      problem({
        kind: "export",
        tenant_id: null,
        seq: null,
        export_seq: nameSeq,
        problem: `${item.name} holds export #${doc.seq}: it was replaced`,
      });
    }
    if (!parsed.hashOk) {
      problem({
        kind: "export",
        tenant_id: null,
        seq: null,
        export_seq: nameSeq,
        problem: `its content does not match its hash ${doc.hash}: it was edited`,
      });
    }
    if (prevHash !== null && doc.prev_hash !== prevHash) {
      problem({
        kind: "export",
        tenant_id: null,
        seq: null,
        export_seq: nameSeq,
        problem: nameSeq === 1
          ? `the first export's prev_hash is ${doc.prev_hash}, not 64 zeros`
          : `prev_hash ${doc.prev_hash} is not the hash of export #${
            nameSeq - 1
          } (${prevHash}): one of the two was replaced`,
      });
    }
    if (nameSeq === opts.fromExport && opts.fromHash && doc.hash !== opts.fromHash) {
      problem({
        kind: "export",
        tenant_id: null,
        seq: null,
        export_seq: nameSeq,
        problem: `its hash is ${doc.hash}, the verification it starts from saw ${opts.fromHash}`,
      });
    }
    prevHash = doc.hash;
    if (!parsed.hashOk) continue; // an edited export's content proves nothing
    const atUs = micros(doc.exported_at);
    facts.newestAtUs = atUs;

    for (
      const p of guardProblems(doc.guards, opts.windowSeconds, doc.retention_window_seconds)
    ) {
      const seen = guardSeen.get(p);
      if (seen) seen.last = nameSeq;
      else guardSeen.set(p, { first: nameSeq, last: nameSeq });
    }

    const here = new Set<string>();
    for (const c of doc.chains) {
      const key = keyOf(c.tenant_id);
      here.add(key);
      foldChain(facts, problem, key, c, nameSeq, atUs, W);
    }
    if (lastChainsExport) {
      for (const key of lastChainsExport) {
        if (!here.has(key)) {
          problem({
            kind: "chain",
            tenant_id: tenantOf(key),
            seq: null,
            export_seq: nameSeq,
            problem: `missing from export #${nameSeq} (export #${
              facts.chains.get(key)!.last!.export
            } had it)`,
          });
        }
      }
    }
    lastChainsExport = new Set([...(lastChainsExport ?? []), ...here]);
  }
  for (const [p, seen] of guardSeen) {
    problem({
      kind: "guard",
      tenant_id: null,
      seq: null,
      export_seq: seen.first,
      problem: seen.last === facts.lastSeq && seen.last !== seen.first
        ? `${p} (and in every export since, up to the newest #${seen.last})`
        : seen.last !== seen.first
        ? `${p} (until export #${seen.last})`
        : p,
    });
  }
  return facts;
}

function foldChain(
  facts: ExportFacts,
  problem: (d: Omit<Divergence, "message">) => void,
  key: string,
  c: ChainEntry,
  exportSeq: number,
  atUs: number,
  W: number,
) {
  const tenant_id = tenantOf(key);
  let f = facts.chains.get(key);
  if (!f) {
    f = { heads: new Map(), starts: new Map(), young: [], last: null };
    facts.chains.set(key, f);
  }
  const chainProblem = (seq: number | null, text: string) =>
    problem({ kind: "chain", tenant_id, seq, export_seq: exportSeq, problem: text });

  if (f.last && c.head_seq < f.last.head) {
    chainProblem(
      c.head_seq + 1,
      `export #${exportSeq} has the chain's head at seq ${c.head_seq}, export #${f.last.export} had it at seq ${f.last.head}: rows ${
        c.head_seq + 1
      }–${f.last.head} were removed and the head moved back between them`,
    );
  }
  const seen = f.heads.get(c.head_seq);
  if (seen && seen.hash !== c.head_hash) {
    chainProblem(
      c.head_seq,
      `export #${exportSeq} records hash ${c.head_hash}, export #${seen.export} recorded ${seen.hash}: the chain was rewritten between them`,
    );
  } else if (!seen && c.head_seq > 0) {
    f.heads.set(c.head_seq, { hash: c.head_hash, export: exportSeq });
  }

  if (f.last && c.start_seq < f.last.start) {
    chainProblem(
      c.start_seq + 1,
      `export #${exportSeq} has the chain starting at seq ${
        c.start_seq + 1
      }, export #${f.last.export} had it start at seq ${f.last.start + 1}`,
    );
  }
  const startSeen = f.starts.get(c.start_seq);
  if (startSeen && startSeen.hash !== c.start_hash) {
    chainProblem(
      c.start_seq,
      `export #${exportSeq} anchors the chain at seq ${c.start_seq} with hash ${c.start_hash}, export #${startSeen.export} with ${startSeen.hash}`,
    );
  } else if (!startSeen) {
    f.starts.set(c.start_seq, { hash: c.start_hash, export: exportSeq });
    const head = f.heads.get(c.start_seq);
    if (c.start_seq > 0 && head && head.hash !== c.start_hash) {
      chainProblem(
        c.start_seq,
        `export #${exportSeq} anchors the chain at seq ${c.start_seq} with hash ${c.start_hash}, but export #${head.export} recorded that row's hash as ${head.hash}`,
      );
    }
  }
  if (f.last && c.start_seq > f.last.start) {
    const young = f.young.find((y) => y.seq <= c.start_seq && y.atUs + W > atUs);
    if (young) {
      chainProblem(
        young.seq,
        `by export #${exportSeq} (${isoOf(atUs)}) the chain started at seq ${
          c.start_seq + 1
        }, but seq ${young.seq} was created at ${
          isoOf(young.atUs)
        }, inside the retention window (export #${young.export}): rows were removed that retention may not remove`,
      );
    }
  }

  if (c.young_seq !== null && c.young_at !== null) {
    const prev = f.young[f.young.length - 1];
    const atYoung = micros(c.young_at);
    if (!prev || prev.seq !== c.young_seq || prev.atUs !== atYoung) {
      f.young.push({ seq: c.young_seq, atUs: atYoung, export: exportSeq });
    }
  }
  f.last = { export: exportSeq, head: c.head_seq, start: c.start_seq };
}

/** Checks one chain's rows, streamed in seq order, against the database and the exports. */
class ChainCheck {
  readonly tenant_id: string | null;
  #expect: number;
  #prevHash: string;
  #checkpoints: Array<{ seq: number; hash: string; export: number }>;
  #cp = 0;
  #lastMatched: { seq: number; export: number } | null = null;
  #rewritten = false;
  #anchorClaim: { row: number; seq: number; hash: string } | null = null;
  #last: { seq: number; hash: string } | null = null;
  rows = 0;

  constructor(
    readonly key: string,
    readonly start: { seq: number; hash: string },
    readonly head: { seq: number; hash: string } | undefined,
    readonly facts: ChainFacts | undefined,
    readonly out: Collector,
    readonly nowUs: number,
    readonly W: number,
  ) {
    this.tenant_id = tenantOf(key);
    this.#expect = start.seq + 1;
    this.#prevHash = start.hash;
    this.#checkpoints = [...(facts?.heads ?? [])]
      .map(([seq, v]) => ({ seq, ...v }))
      .sort((a, b) => a.seq - b.seq);
    this.#before();
  }

  #problem(seq: number | null, exportSeq: number | null, problem: string) {
    this.out.add({ kind: "chain", tenant_id: this.tenant_id, seq, export_seq: exportSeq, problem });
  }

  /** What the start (anchor) alone shows, before any row. */
  #before() {
    const a = this.start;
    const f = this.facts;
    if (!f) return;
    const young = f.young.find((y) => y.seq <= a.seq && y.atUs + this.W > this.nowUs);
    if (young) {
      this.#problem(
        young.seq,
        young.export,
        `the chain now starts at seq ${
          a.seq + 1
        } (anchor at seq ${a.seq}), but seq ${young.seq} was created at ${
          isoOf(young.atUs)
        }, inside the retention window (export #${young.export}): rows ${young.seq}–${a.seq} were removed, which retention may not do`,
      );
    }
    const starts = [...f.starts].sort((x, y) => x[0] - y[0]);
    const latest = starts[starts.length - 1];
    if (latest && a.seq < latest[0]) {
      this.#problem(
        a.seq + 1,
        latest[1].export,
        `the chain now starts at seq ${a.seq + 1}, but export #${
          latest[1].export
        } had it start at seq ${latest[0] + 1}: the anchor moved back`,
      );
    }
    const same = f.starts.get(a.seq);
    if (same && same.hash !== a.hash) {
      this.#problem(
        a.seq,
        same.export,
        `the anchor's hash is ${a.hash}, export #${same.export} recorded ${same.hash}`,
      );
    }
    while (this.#cp < this.#checkpoints.length && this.#checkpoints[this.#cp].seq <= a.seq) {
      const cp = this.#checkpoints[this.#cp++];
      if (cp.seq === a.seq && cp.hash !== a.hash) {
        this.#problem(
          a.seq,
          cp.export,
          `the chain is anchored at seq ${a.seq} with hash ${a.hash}, but export #${cp.export} recorded that row's hash as ${cp.hash}`,
        );
      }
    }
  }

  row(r: AuditRowText) {
    this.rows++;
    const seq = Number(r.seq);
    let broken = false;
    if (seq > this.#expect) {
      this.#problem(
        this.#expect,
        null,
        `seq ${seq} follows seq ${this.#expect - 1}: ${
          seq - 1 === this.#expect
            ? `row ${this.#expect} is`
            : `rows ${this.#expect}–${seq - 1} are`
        } missing`,
      );
      broken = true;
    }
    if (!broken && r.prev_hash !== this.#prevHash) {
      this.#problem(seq, null, `prev_hash does not match the hash of seq ${seq - 1}`);
    }
    if (rowHash(r) !== r.hash) {
      this.#problem(seq, null, "hash does not match the row's content: the row was changed");
    }
    while (this.#cp < this.#checkpoints.length && this.#checkpoints[this.#cp].seq <= seq) {
      const cp = this.#checkpoints[this.#cp++];
      if (cp.seq < seq) continue; // inside a gap, reported above
      if (cp.hash === r.hash) {
        this.#lastMatched = { seq, export: cp.export };
      } else if (!this.#rewritten) {
        this.#rewritten = true;
        const m = this.#lastMatched;
        this.#problem(
          seq,
          cp.export,
          `hash is ${r.hash}, export #${cp.export} recorded ${cp.hash}: ${
            m
              ? `a row in ${
                m.seq + 1
              }–${seq} was changed (seq ${m.seq} still matches export #${m.export})`
              : `a row in ${this.start.seq + 1}–${seq} was changed`
          } and the chain re-hashed after it`,
        );
      }
    }
    if (r.category === "audit_retention") {
      try {
        const p = JSON.parse(r.payload);
        if (typeof p?.anchor_seq === "number" && typeof p?.anchor_hash === "string") {
          this.#anchorClaim = { row: seq, seq: p.anchor_seq, hash: p.anchor_hash };
        }
      } catch { /* the hash check above speaks for a mangled payload */ }
    }
    this.#prevHash = r.hash;
    this.#expect = seq + 1;
    this.#last = { seq, hash: r.hash };
  }

  finish() {
    const lastSeq = this.#last?.seq ?? this.start.seq;
    const lastHash = this.#last?.hash ?? this.start.hash;
    const beyond = this.#checkpoints.slice(this.#cp);
    if (beyond.length > 0) {
      const top = beyond[beyond.length - 1];
      this.#problem(
        lastSeq + 1,
        top.export,
        `export #${top.export} recorded the chain up to seq ${top.seq} (hash ${top.hash}), but the database's chain ends at seq ${lastSeq}: rows ${
          lastSeq + 1
        }–${top.seq} were removed`,
      );
    }
    const head = this.head ?? { seq: 0, hash: zeroHash };
    if (head.seq > lastSeq) {
      this.#problem(
        lastSeq + 1,
        null,
        `the chain head is at seq ${head.seq} but the newest row is seq ${lastSeq}: rows missing at the end`,
      );
    } else if (head.seq < lastSeq) {
      this.#problem(
        head.seq + 1,
        null,
        `the chain head is at seq ${head.seq}, behind the newest row (seq ${lastSeq}): the head was moved back`,
      );
    } else if (head.hash !== lastHash) {
      this.#problem(lastSeq, null, `the chain head's hash ${head.hash} is not the newest row's`);
    }
    if (this.start.seq > 0) {
      const c = this.#anchorClaim;
      if (!c) {
        this.#problem(
          this.start.seq,
          null,
          `the chain is anchored at seq ${this.start.seq}, but no audit_retention row in it records that anchor: the anchor was moved by hand`,
        );
      } else if (c.seq !== this.start.seq || c.hash !== this.start.hash) {
        this.#problem(
          this.start.seq,
          null,
          `the chain is anchored at seq ${this.start.seq}, but its newest audit_retention row (seq ${c.row}) anchors it at seq ${c.seq}`,
        );
      }
    }
  }
}

/** Reads every export at the sink from `fromExport` on, a few at a time. */
export async function readExports(
  sink: ExportSink,
  fromExport = 1,
): Promise<Array<{ name: string; text: string }>> {
  const names = (await sink.list(fromExport > 1 ? exportName(fromExport - 1) : undefined))
    .filter((n) => exportNamePattern.test(n)).sort();
  const out: Array<{ name: string; text: string }> = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      const text = await sink.get(names[i]);
      out[i] = { name: names[i], text: text ?? "" };
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, names.length) }, worker));
  return out;
}

/**
 * Read the exports before the database state (readExports, then db_state.ts's
 * withDbState): the database is then at least as new as every export read.
 */
export async function verifyAudit(
  exportsRead: Array<{ name: string; text: string }>,
  db: DbState,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const windowSeconds = opts.windowSeconds ?? defaultWindowSeconds;
  const maxAge = opts.maxAgeSeconds === undefined ? defaultMaxAgeSeconds : opts.maxAgeSeconds;
  const fromExport = opts.fromExport ?? 1;
  const W = windowSeconds * 1e6;
  const out = new Collector();
  const facts = await foldExports(exportsRead, {
    windowSeconds,
    fromExport,
    fromHash: opts.fromHash,
  });

  // Chains first: they are what the exports protect.
  const wanted = opts.chains ? new Set(opts.chains) : null;
  const keys = new Set<string>([...facts.chains.keys(), ...db.heads.keys(), ...db.anchors.keys()]);
  const ordered = [...keys].filter((k) => !wanted || wanted.has(k)).sort(compareChains);
  for (const d of facts.problems.filter((p) => p.kind === "chain")) {
    if (!wanted || wanted.has(keyOf(d.tenant_id))) out.add(d);
  }
  let complete = true;
  let chainsChecked = 0, rowsChecked = 0;
  const make = (key: string) =>
    new ChainCheck(
      key,
      db.anchors.get(key) ?? { seq: 0, hash: zeroHash },
      db.heads.get(key),
      facts.chains.get(key),
      out,
      db.nowUs,
      W,
    );
  let i = 0;
  let current: ChainCheck | null = null;
  const done = (c: ChainCheck) => {
    c.finish();
    chainsChecked++;
    rowsChecked += c.rows;
  };
  for await (const r of db.rows(wanted ? ordered : null)) {
    const key = keyOf(r.tenant_id);
    if (!current || current.key !== key) {
      if (current) done(current);
      if (opts.deadline && Date.now() > opts.deadline) {
        complete = false;
        current = null;
        break;
      }
      while (i < ordered.length && compareChains(ordered[i], key) < 0) done(make(ordered[i++]));
      if (ordered[i] === key) i++;
      current = make(key);
    }
    current.row(r);
  }
  if (current) done(current);
  if (complete) { while (i < ordered.length) done(make(ordered[i++])); }

  for (const d of facts.problems.filter((p) => p.kind === "export")) out.add(d);
  if (facts.read === 0) {
    out.add({
      kind: "export",
      tenant_id: null,
      seq: null,
      export_seq: null,
      problem: "the sink holds no exports",
    });
  } else if (maxAge !== null && facts.newestAtUs !== null) {
    const age = Math.round((db.nowUs - facts.newestAtUs) / 1e6);
    if (age > maxAge) {
      out.add({
        kind: "export",
        tenant_id: null,
        seq: null,
        export_seq: facts.lastSeq,
        problem: `the newest export was taken ${age} s ago (at ${
          isoOf(facts.newestAtUs)
        }), more than ${maxAge} s: exports stopped, or newer ones were deleted at the sink`,
      });
    }
  }
  const recorded = db.recorded.filter((r) => r.seq >= fromExport);
  const recordedLast = recorded.length ? recorded[recorded.length - 1] : null;
  if (recordedLast && (facts.lastSeq === null || recordedLast.seq > facts.lastSeq)) {
    out.add({
      kind: "export",
      tenant_id: null,
      seq: null,
      export_seq: recordedLast.seq,
      problem: `the database recorded export #${recordedLast.seq}, but the sink's newest is ${
        facts.lastSeq === null ? "none" : `#${facts.lastSeq}`
      }: exports were deleted at the sink`,
    });
  }
  for (const r of recorded) {
    const atSink = facts.hashes.get(r.seq);
    if (atSink !== undefined && atSink !== r.hash) {
      out.add({
        kind: "export",
        tenant_id: null,
        seq: null,
        export_seq: r.seq,
        problem:
          `the sink's copy has hash ${atSink}, the database recorded ${r.hash}: one was replaced`,
      });
    }
  }

  for (const d of facts.problems.filter((p) => p.kind === "guard")) out.add(d);
  for (const p of guardProblems(db.guards, windowSeconds)) {
    out.add({ kind: "guard", tenant_id: null, seq: null, export_seq: null, problem: p });
  }

  const all = out.sorted();
  return {
    valid: complete && all.length === 0,
    complete,
    first: all[0] ?? null,
    divergences: all.slice(0, opts.maxDivergences ?? 100),
    divergence_count: all.length,
    exports: {
      read: facts.read,
      first_seq: facts.firstSeq,
      last_seq: facts.lastSeq,
      last_hash: facts.lastSeq === null ? null : facts.hashes.get(facts.lastSeq) ?? null,
      newest_at: facts.newestAtUs === null ? null : isoOf(facts.newestAtUs),
      recorded_last_seq: recordedLast?.seq ?? null,
    },
    chains_checked: chainsChecked,
    rows_checked: rowsChecked,
    window_seconds: windowSeconds,
  };
}
