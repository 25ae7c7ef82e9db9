// audit-export: every few minutes (schedule audit-export-tick), one export of every chain's
// start, head and first young row, plus the guards, to the sink outside the project
// (sink.ts), chained to the previous export by its hash. It connects as postgres like every
// job and cannot protect the exports itself: the sink's refusal to overwrite or delete is
// what does (docs/audit.md).
//
// Invocation (POST /audit-export, service key): {} exports now; {"dry_run": true} builds
// the export and answers its size without sending it or moving the marks, optionally with
// {"tenant_id": …} to see that tenant's entry.
import { z } from "zod";
import type { Sql } from "../_shared/db.ts";
import { optionalEnv } from "../_shared/env.ts";
import {
  jobBodyFields,
  type JobContext,
  type JobDefinition,
  type JobResult,
} from "../_shared/job.ts";
import type { Logger } from "../_shared/log.ts";
import {
  type ChainEntry,
  chainEntry,
  exportFormat,
  exportName,
  exportNamePattern,
  exportSeqOf,
  guards,
  parseExport,
  sealExport,
  type UnsignedExport,
  zeroHash,
} from "./export_doc.ts";
import { type ExportSink, sinkFromEnv } from "./sink.ts";

export const slug = "audit-export";
export const defaultBudgetMs = 25_000;
/**
 * How long after an export its young rows stay protected: the verifier catches the removal
 * of any row younger than the window plus this, as long as the newest export is younger
 * than this (AUDIT_EXPORT_HORIZON_SECONDS).
 */
export const defaultHorizonSeconds = 3600;

export const exportBody = z.strictObject({ ...jobBodyFields }).superRefine((b, ctx) => {
  if (b.tenant_id && !b.dry_run) {
    ctx.addIssue({
      code: "custom",
      path: ["tenant_id"],
      message: "an export covers every chain; tenant_id only selects what a dry run shows",
    });
  }
});
export type ExportBody = z.infer<typeof exportBody>;

export const notConfigured =
  "no audit export sink configured: set AUDIT_EXPORT_URL and AUDIT_EXPORT_TOKEN, or AUDIT_EXPORT_S3_ENDPOINT, _REGION, _BUCKET, _ACCESS_KEY_ID and _SECRET_ACCESS_KEY (docs/audit.md)";

export function horizonSeconds(): number {
  const raw = optionalEnv("AUDIT_EXPORT_HORIZON_SECONDS");
  const n = raw === undefined ? defaultHorizonSeconds : Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`AUDIT_EXPORT_HORIZON_SECONDS must be a whole number of seconds, got ${raw}`);
  }
  return n;
}

interface Previous {
  seq: number;
  hash: string;
}

/**
 * The export to chain after. The database's record names it; the sink has the say: a newer
 * export there (its record lost, e.g. a crash after the upload) is taken, and the hash comes
 * from the sink's copy. Never blocks an export: a damaged predecessor is chained after
 * anyway, and the verifier names it.
 */
export async function previousExport(sql: Sql, sink: ExportSink, log: Logger): Promise<Previous> {
  const [rec] = await sql`
    select seq::int as seq, name, hash from internal.audit_exports order by seq desc limit 1`;
  const later = (await sink.list(rec?.name)).filter((n) => exportNamePattern.test(n));
  const name: string | undefined = later.length ? later[later.length - 1] : rec?.name;
  if (!name) return { seq: 0, hash: zeroHash };
  const text = await sink.get(name);
  const recorded = rec && rec.name === name
    ? { seq: rec.seq as number, hash: rec.hash as string }
    : null;
  if (text === null) {
    log.warn("audit_export_previous_missing", { name, sink: sink.describe });
    return recorded ?? { seq: exportSeqOf(name)!, hash: zeroHash };
  }
  const parsed = await parseExport(text);
  if (!parsed.ok) {
    log.warn("audit_export_previous_damaged", { name, problem: parsed.problem });
    return recorded ?? { seq: exportSeqOf(name)!, hash: zeroHash };
  }
  return { seq: parsed.doc.seq, hash: parsed.doc.hash };
}

const snapshotResult = z.object({
  at: z.string(),
  retention_window_seconds: z.number(),
  horizon_seconds: z.number(),
  chains: z.array(chainEntry),
  guards,
});

export async function runExport(
  ctx: JobContext<ExportBody>,
  sink: ExportSink | null,
  opts: { horizonSeconds?: number } = {},
): Promise<JobResult> {
  const { sql, body, log } = ctx;
  if (!sink && !body.dry_run) throw new Error(notConfigured);
  const lease = await ctx.acquireLease("export", ctx.timeLeft() + 30_000);
  if (!lease) return { skipped: "another export is running" };
  const horizon = opts.horizonSeconds ?? horizonSeconds();
  let prev = sink ? await previousExport(sql, sink, log) : { seq: 0, hash: zeroHash };
  const [{ snap }] = await sql`
    select internal.audit_export_snapshot(make_interval(secs => ${horizon}::float8),
                                          ${!body.dry_run}) as snap`;
  if (!snap) {
    throw new Error(
      `AUDIT_EXPORT_HORIZON_SECONDS (${horizon}) must be below the retention window`,
    );
  }
  const s = snapshotResult.parse(snap);
  ctx.count("chains", s.chains.length);
  const content = {
    format: exportFormat,
    exported_at: s.at,
    retention_window_seconds: s.retention_window_seconds,
    horizon_seconds: s.horizon_seconds,
    chains: s.chains,
    guards: s.guards,
  } satisfies Omit<UnsignedExport, "seq" | "prev_hash">;

  for (let attempt = 1;; attempt++) {
    const doc: UnsignedExport = { ...content, seq: prev.seq + 1, prev_hash: prev.hash };
    const { text, hash } = await sealExport(doc);
    const name = exportName(doc.seq);
    const bytes = new TextEncoder().encode(text).length;
    if (body.dry_run) {
      const entry: ChainEntry | undefined = body.tenant_id
        ? s.chains.find((c) => c.tenant_id === body.tenant_id)
        : undefined;
      return {
        details: {
          would_write: name,
          sink: sink?.describe ?? null,
          ...(sink ? {} : { note: notConfigured }),
          seq: doc.seq,
          bytes,
          chains: s.chains.length,
          ...(body.tenant_id ? { chain: entry ?? null } : {}),
        },
      };
    }
    const put = await sink!.put(name, text, { timeoutMs: Math.max(1000, ctx.timeLeft() - 2000) });
    if (put === "exists") {
      // Another exporter got there, or the record is behind the sink: chain after the sink's
      // newest, from the same snapshot.
      if (attempt >= 3) throw new Error(`${name} already exists at ${sink!.describe}`);
      log.warn("audit_export_name_taken", { name });
      prev = await previousExport(sql, sink!, log);
      continue;
    }
    await sql`
      insert into internal.audit_exports (seq, name, hash, prev_hash, exported_at, chains, bytes)
      values (${doc.seq}, ${name}, ${hash}, ${doc.prev_hash}, ${s.at}::timestamptz,
              ${s.chains.length}, ${bytes})
      on conflict (seq) do update
        set name = excluded.name, hash = excluded.hash, prev_hash = excluded.prev_hash,
            exported_at = excluded.exported_at, chains = excluded.chains,
            bytes = excluded.bytes, recorded_at = now()`;
    ctx.count("exported");
    ctx.count("bytes", bytes);
    log.info("audit_exported", { seq: doc.seq, name, chains: s.chains.length, bytes });
    return { details: { seq: doc.seq, name, hash, bytes, sink: sink!.describe } };
  }
}

export function exportJob(
  getSink: () => ExportSink | null = () => sinkFromEnv(optionalEnv),
  opts: { horizonSeconds?: number } = {},
): JobDefinition<typeof exportBody> {
  return {
    slug,
    schema: exportBody,
    defaultBudgetMs,
    run: (ctx) => runExport(ctx, getSink(), opts),
  };
}
