// Large tool outputs as Storage artifacts (seed 001). An output above the threshold
// (OUTBOX_ARTIFACT_THRESHOLD_BYTES, 256 KiB by default) is uploaded with the service key to
// the private bucket evidence-artifacts as <tenant_id>/<envelope_id>/output.json before its
// batch settles; the settlement then carries the artifact's reference instead of the output,
// so evidence, the outbox row and the audit row hold bucket and path, never the bytes.
//
// An upload that fails never unsettles the envelope (the tool ran; it must not run again
// because of its artifact): the settlement carries the bytes, outbox_settle parks them in
// internal.artifact_pending within its bound (else records the artifact dropped), and
// flushPendingArtifacts, at the start of a later drain, uploads them.
//
// Uploads run inside the drain's invocation, under its time budget, and count toward its
// limit by size (artifactCost): the limit is there to keep an invocation's CPU inside the
// hosted limit, and copying, hashing and sending bytes costs CPU in proportion to them.
import { type BackoffPolicy, nextRetryDelay } from "../_shared/backoff.ts";
import type { Sql } from "../_shared/db.ts";
import { optionalEnv } from "../_shared/env.ts";
import type { Logger } from "../_shared/log.ts";
import { type Bytes, storageConfig, uploadObject } from "../_shared/storage.ts";
import type { Claimed } from "./claim.ts";
import type { Artifact, ArtifactRef, Settled } from "./settlement.ts";

export const artifactBucket = "evidence-artifacts";
export const defaultArtifactThreshold = 256 * 1024;
/** The bucket's file_size_limit (65_artifacts/0100): a larger output cannot be stored. */
export const maxArtifactBytes = 50 * 1024 * 1024;
/** Bytes of artifact that count as one envelope toward the drain's limit. */
export const artifactCostUnit = 64 * 1024;
/** An upload never starts with less lease than this left: the batch must still settle. */
const LEASE_MARGIN_MS = 2_000;
const UPLOAD_TIMEOUT_MS = 30_000;
const FLUSH_BATCH = 10;
const FLUSH_LEASE_MS = 60_000;
const BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 15 * 60_000 };

/** Uploads an artifact's bytes; throws when it did not. */
export type Upload = (
  o: { bucket: string; name: string; bytes: Bytes; contentType: string },
  timeoutMs: number,
) => Promise<void>;

/** The upload through Storage's REST API with the service key. */
export function storageUpload(): Upload {
  const cfg = storageConfig();
  return (o, timeoutMs) => uploadObject(cfg, o, timeoutMs);
}

/** OUTBOX_ARTIFACT_THRESHOLD_BYTES: outputs above it become artifacts (default 256 KiB). */
export function artifactThreshold(): number {
  const n = Number(optionalEnv("OUTBOX_ARTIFACT_THRESHOLD_BYTES") ?? defaultArtifactThreshold);
  return Number.isInteger(n) && n >= 1 ? n : defaultArtifactThreshold;
}

export function artifactPath(tenantId: string, envelopeId: string): string {
  return `${tenantId}/${envelopeId}/output.json`;
}

export function artifactCost(bytes: number): number {
  return Math.ceil(bytes / artifactCostUnit);
}

/** What evidence would hold: the answer's data, as outbox_settle's coalesce(result->'data', result). */
export function outputOf(result: unknown): unknown {
  if (result !== null && typeof result === "object" && !Array.isArray(result) && "data" in result) {
    return (result as { data: unknown }).data;
  }
  return result ?? null;
}

export async function sha256Hex(bytes: Bytes): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Base64 of bytes, in chunks (String.fromCharCode takes a bounded number of arguments) of a
 * multiple of 3 bytes, so no chunk but the last is padded.
 */
export function toBase64(bytes: Uint8Array): string {
  const chunk = 3 * 8192;
  let out = "";
  for (let i = 0; i < bytes.length; i += chunk) {
    out += btoa(String.fromCharCode(...bytes.subarray(i, i + chunk)));
  }
  return out;
}

export interface OffloadOptions {
  threshold: number;
  upload: Upload;
  concurrency: number;
  log: Logger;
}

export interface Offloaded {
  /** Envelope-equivalents the artifacts cost (artifactCost), for the drain's limit. */
  cost: number;
  uploaded: number;
  pending: number;
  dropped: number;
}

/**
 * Turns the batch's large outputs into artifacts, in place: each complete settlement whose
 * output is above the threshold is uploaded and then carries its artifact (uploaded, or
 * pending with its bytes, or dropped when it is larger than the bucket takes) and a result
 * without the output. Smaller outputs are left as they are.
 */
export async function offloadLargeOutputs(
  settled: Settled[],
  envs: Map<string, Claimed>,
  opts: OffloadOptions,
): Promise<Offloaded> {
  const out: Offloaded = { cost: 0, uploaded: 0, pending: 0, dropped: 0 };
  const enc = new TextEncoder();
  const candidates = settled.filter((s) =>
    s.settlement.op === "complete" &&
    // A cheap pre-filter, so small answers are not serialised twice: UTF-8 takes at most three
    // bytes per UTF-16 unit of the answer's text, so an answer under a third of the threshold
    // is small. (Only numbers written shorter than JavaScript writes them, 1e9, could grow
    // past that.)
    (s.outputChars === undefined || s.outputChars * 3 > opts.threshold)
  );
  let next = 0;
  const lane = async () => {
    while (next < candidates.length) {
      const s = candidates[next++];
      const settlement = s.settlement;
      if (settlement.op !== "complete") continue;
      const bytes = enc.encode(JSON.stringify(outputOf(settlement.result) ?? null));
      if (bytes.byteLength <= opts.threshold) continue;
      const env = envs.get(settlement.id)!;
      const ref: ArtifactRef = {
        bucket: artifactBucket,
        path: artifactPath(env.tenant_id, env.id),
        size: bytes.byteLength,
        sha256: await sha256Hex(bytes),
        content_type: "application/json",
      };
      out.cost += artifactCost(bytes.byteLength);
      let artifact: Artifact;
      if (bytes.byteLength > maxArtifactBytes) {
        artifact = {
          ...ref,
          status: "dropped",
          reason: "the output exceeds the bucket's size limit",
        };
        out.dropped++;
        opts.log.error("outbox_artifact_dropped", {
          alert: true,
          envelope_id: env.id,
          size: bytes.byteLength,
          reason: artifact.reason,
        });
      } else {
        const leaseLeft = env.lease_expires_at.getTime() - Date.now() - LEASE_MARGIN_MS;
        try {
          if (leaseLeft < LEASE_MARGIN_MS) throw new Error("too little lease left to upload");
          await opts.upload(
            { bucket: ref.bucket, name: ref.path, bytes, contentType: ref.content_type },
            Math.min(UPLOAD_TIMEOUT_MS, leaseLeft),
          );
          artifact = { ...ref, status: "uploaded" };
          out.uploaded++;
        } catch (err) {
          artifact = { ...ref, status: "pending" };
          settlement.artifact_base64 = toBase64(bytes);
          out.pending++;
          opts.log.warn("outbox_artifact_pending", {
            envelope_id: env.id,
            size: bytes.byteLength,
            error: (err as Error).message,
          });
        }
      }
      settlement.artifact = artifact;
      settlement.result = withoutOutput(settlement.result, ref);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(opts.concurrency, candidates.length) }, lane),
  );
  return out;
}

/** The answer as the outbox keeps it for an artifact: its reference instead of the output. */
function withoutOutput(result: unknown, ref: ArtifactRef): unknown {
  if (result !== null && typeof result === "object" && !Array.isArray(result) && "data" in result) {
    const { data: _data, ...rest } = result as Record<string, unknown>;
    return { ...rest, artifact: ref };
  }
  return { artifact: ref };
}

interface PendingRow {
  evidence_id: string;
  tenant_id: string;
  bucket_id: string;
  name: string;
  content_type: string;
  content: Uint8Array;
  attempts: number;
}

/**
 * The later pass: uploads artifacts whose upload failed, oldest due first, while the
 * invocation has time and limit left, under a lease per artifact (two drains never upload
 * one at once).
 */
export async function flushPendingArtifacts(
  sql: Sql,
  opts: {
    tenantId: string | null;
    upload: Upload;
    /** The invocation's time and limit: uploads are charged to it (artifactCost). */
    budget: { outOfTime(): boolean; left(): number; charge(n: number): void };
    count: (name: string, n?: number) => void;
    random: () => number;
    log: Logger;
  },
): Promise<void> {
  while (!opts.budget.outOfTime() && opts.budget.left() > 0) {
    const rows = await sql<PendingRow[]>`
      select evidence_id::text, tenant_id::text, bucket_id, name, content_type, content, attempts
        from public.artifact_pending_claim(${Math.min(FLUSH_BATCH, opts.budget.left())},
                                           ${FLUSH_LEASE_MS}, ${opts.tenantId}::uuid)`;
    if (rows.length === 0) break;
    const results = await Promise.all(rows.map(async (r) => {
      const bytes: Bytes = new Uint8Array(r.content);
      opts.budget.charge(artifactCost(bytes.byteLength));
      try {
        await opts.upload(
          { bucket: r.bucket_id, name: r.name, bytes, contentType: r.content_type },
          Math.min(UPLOAD_TIMEOUT_MS, FLUSH_LEASE_MS - LEASE_MARGIN_MS),
        );
        return { evidence_id: r.evidence_id, ok: true };
      } catch (err) {
        const error = (err as Error).message;
        opts.log.warn("outbox_artifact_upload_failed", {
          evidence_id: r.evidence_id,
          attempts: r.attempts + 1,
          error,
        });
        return {
          evidence_id: r.evidence_id,
          ok: false,
          error,
          delay_ms: nextRetryDelay(r.attempts + 1, BACKOFF, null, opts.random),
        };
      }
    }));
    await sql`select * from public.artifact_pending_settle(${sql.json(results)})`;
    const ok = results.filter((r) => r.ok).length;
    if (ok > 0) opts.count("artifacts_reuploaded", ok);
    if (ok < results.length) opts.count("artifacts_still_pending", results.length - ok);
    // A pass that uploaded nothing stops: Storage is down, the next drain tries again.
    if (ok === 0) break;
  }
}
