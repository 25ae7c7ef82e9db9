// Operator routes of audit-export (service key): GET /audit-export/verify compares the
// database with the exports at the configured sink and names the first divergence; and
// the export's metrics, from internal.audit_exports.
import { z } from "zod";
import type { Hono } from "hono";
import { type AppContext, type AppEnv, parseQuery } from "../_shared/app.ts";
import { serviceDb, type Sql, type Tx } from "../_shared/db.ts";
import { optionalEnv } from "../_shared/env.ts";
import { ApiError, errorBody } from "../_shared/errors.ts";
import type { MetricsSource } from "../_shared/metrics.ts";
import { serviceCaller } from "../_shared/middleware/caller.ts";
import { withDbState } from "./db_state.ts";
import { type ExportSink, sinkFromEnv } from "./sink.ts";
import { notConfigured } from "./export.ts";
import {
  defaultMaxAgeSeconds,
  defaultWindowSeconds,
  readExports,
  systemChain,
  verifyAudit,
  type VerifyOptions,
  type VerifyReport,
} from "./verify.ts";

/** Exports first, then the database (see verifyAudit). */
export async function verifyNow(
  sql: Sql | Tx,
  sink: ExportSink,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const exports = await readExports(sink, opts.fromExport ?? 1);
  return await withDbState(sql, (db) => verifyAudit(exports, db, opts));
}

function envSeconds(name: string, fallback: number): number {
  const raw = optionalEnv(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number of seconds`);
  return n;
}

/** AUDIT_VERIFY_WINDOW_SECONDS, AUDIT_EXPORT_MAX_AGE_SECONDS: what the verifier expects. */
export function verifyDefaults(): { windowSeconds: number; maxAgeSeconds: number } {
  return {
    windowSeconds: envSeconds("AUDIT_VERIFY_WINDOW_SECONDS", defaultWindowSeconds),
    maxAgeSeconds: envSeconds("AUDIT_EXPORT_MAX_AGE_SECONDS", defaultMaxAgeSeconds),
  };
}

const verifyQuery = z.strictObject({
  from_export: z.coerce.number().int().min(1).optional(),
  from_hash: z.string().regex(/^[0-9a-f]{64}$/, "a 64-digit hex hash").optional(),
  tenant_id: z.union([z.guid(), z.literal(systemChain)]).optional(),
  max_age_seconds: z.coerce.number().int().min(0).optional(),
  budget_ms: z.coerce.number().int().min(1000).max(120_000).optional(),
});

export function mountVerifyRoute(app: Hono<AppEnv>, getSink = () => sinkFromEnv(optionalEnv)) {
  app.get("/verify", serviceCaller(), async (c: AppContext) => {
    const q = parseQuery(c, verifyQuery);
    let sink: ExportSink | null;
    try {
      sink = getSink();
    } catch (err) {
      throw new ApiError(503, "not_configured", (err as Error).message);
    }
    if (!sink) throw new ApiError(503, "not_configured", notConfigured);
    const defaults = verifyDefaults();
    const report = await verifyNow(serviceDb(), sink, {
      windowSeconds: defaults.windowSeconds,
      maxAgeSeconds: q.max_age_seconds ?? defaults.maxAgeSeconds,
      fromExport: q.from_export,
      fromHash: q.from_hash,
      chains: q.tenant_id ? [q.tenant_id] : undefined,
      deadline: Date.now() + (q.budget_ms ?? 60_000),
    });
    if (report.valid) return c.json(report, 200);
    if (!report.complete && report.divergence_count === 0) {
      return c.json(
        errorBody(
          "verify_incomplete",
          `the time budget ran out after ${report.chains_checked} chains; run deno task audit:verify, or narrow with tenant_id`,
          report,
        ),
        503,
      );
    }
    return c.json(errorBody("audit_divergence", report.first!.message, report), 409);
  });
}

export const auditExportMetrics: MetricsSource = async (sql) => {
  const [r] = await sql`
    select max(seq)::float8 as seq, extract(epoch from max(exported_at))::float8 as at,
           (select chains from internal.audit_exports order by seq desc limit 1)::float8 as chains
      from internal.audit_exports`;
  const one = (v: number | null) => (v === null ? [] : [{ value: v }]);
  return [
    {
      name: "audit_export_last_seq",
      help: "Sequence number of the newest audit export the sink accepted.",
      type: "gauge",
      samples: one(r.seq),
    },
    {
      name: "audit_export_last_timestamp_seconds",
      help: "Database time of the newest audit export's snapshot.",
      type: "gauge",
      samples: one(r.at),
    },
    {
      name: "audit_export_chains",
      help: "Chains in the newest audit export.",
      type: "gauge",
      samples: one(r.chains),
    },
  ];
};
