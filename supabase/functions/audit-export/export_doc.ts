// One audit export as it is stored at the sink: canonical JSON (sorted keys, no whitespace)
// of the fields below plus `hash`, the SHA-256 of the canonical JSON of the others. Each
// export carries the previous one's hash, so the exports form a chain of their own: one
// deleted or edited is seen from its neighbours.
import { z } from "zod";
import { canonicalJson, sha256Hex } from "../_shared/canonical_json.ts";

export const exportFormat = "audit-export/1";
export const zeroHash = "0".repeat(64);

const hash = z.string().regex(/^[0-9a-f]{64}$/);
const seq = z.number().int().nonnegative();
const timestamp = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
const state = z.enum(["always", "origin", "replica", "disabled"]);

export const chainEntry = z.strictObject({
  /** null: the system chain. */
  tenant_id: z.guid().nullable(),
  /** Where the chain starts: the anchor retention left (0 and zeros: never trimmed). */
  start_seq: seq,
  start_hash: hash,
  head_seq: seq,
  head_hash: hash,
  /** The first row retention may not remove before exported_at + horizon, if any. */
  young_seq: seq.nullable(),
  young_at: timestamp.nullable(),
});
export type ChainEntry = z.infer<typeof chainEntry>;

export const guards = z.strictObject({
  audit_retention_members: z.array(z.string()),
  audit_log_triggers: z.record(z.string(), state),
  event_triggers: z.record(z.string(), state),
});
export type Guards = z.infer<typeof guards>;

export const exportDoc = z.strictObject({
  format: z.literal(exportFormat),
  seq: z.number().int().positive(),
  prev_hash: hash,
  exported_at: timestamp,
  retention_window_seconds: z.number().int().positive(),
  horizon_seconds: z.number().int().nonnegative(),
  chains: z.array(chainEntry),
  guards,
  hash,
});
export type ExportDoc = z.infer<typeof exportDoc>;
export type UnsignedExport = Omit<ExportDoc, "hash">;

/** The object name of export `seq` at the sink: zero-padded, so names sort as numbers. */
export function exportName(seq: number): string {
  return `${String(seq).padStart(12, "0")}.json`;
}
export const exportNamePattern = /^[0-9]{12}\.json$/;

export function exportSeqOf(name: string): number | null {
  return exportNamePattern.test(name) ? Number(name.slice(0, 12)) : null;
}

/** SHA-256 of the canonical JSON of everything but `hash`. */
export function exportHash(doc: UnsignedExport | ExportDoc): Promise<string> {
  const { hash: _, ...rest } = doc as ExportDoc;
  return sha256Hex(canonicalJson(rest));
}

/** The stored text of an export: its canonical JSON with its hash. */
export async function sealExport(doc: UnsignedExport): Promise<{ text: string; hash: string }> {
  const h = await exportHash(doc);
  return { text: canonicalJson({ ...doc, hash: h }), hash: h };
}

export type ParsedExport =
  | { ok: true; doc: ExportDoc; hashOk: boolean }
  | { ok: false; problem: string };

/** Parses a stored export; `hashOk` says whether its content still matches its hash. */
export async function parseExport(text: string): Promise<ParsedExport> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `not valid JSON (${(err as Error).message})` };
  }
  const parsed = exportDoc.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `not an ${exportFormat} document (${
        issue.path.join(".") || "(root)"
      }: ${issue.message})`,
    };
  }
  return {
    ok: true,
    doc: parsed.data,
    hashOk: (await exportHash(parsed.data)) === parsed.data.hash,
  };
}

/** Epoch microseconds of a `young_at` / `exported_at` timestamp. */
export function micros(ts: string): number {
  return Date.parse(ts.slice(0, 23) + "Z") * 1000 + Number(ts.slice(23, 26));
}
