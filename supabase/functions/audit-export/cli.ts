// `deno task audit:verify`: compares the database's audit chains with the exports at the
// sink and names the first divergence. Exit 0 when everything agrees, 1 on a divergence
// (or an incomplete check), 2 on a usage or connection error.
//
//   deno task audit:verify [--from N [--from-hash H]] [--tenant ID|system]
//                          [--max-age SECONDS|none] [--window-days D] [--json] [--route]
//
// By default it runs here: the database from SUPABASE_DB_URL (a direct postgres URL is best:
// one long snapshot), the sink from the same AUDIT_EXPORT_* variables the function reads
// (docs/audit.md); without them, the local stack (its database on 54322, its sink on 54331).
// Run it from a machine of your own: it then trusts neither the project's functions nor its
// database code. --route asks the deployed operator route instead (SUPABASE_URL,
// SUPABASE_SERVICE_ROLE_KEY; local stack defaults).
//
// Every export holds every chain, so a scheduled run can start where the last valid one
// ended: it prints `--from N --from-hash H` for that.
import { parseArgs } from "node:util";
import postgres from "postgres";
import { sinkFromEnv } from "./sink.ts";
import { verifyNow } from "./routes.ts";
import { defaultMaxAgeSeconds, defaultWindowSeconds, type VerifyReport } from "./verify.ts";

const LOCAL_DB = "postgres://postgres:postgres@127.0.0.1:54322/postgres";
const LOCAL_SINK = "http://127.0.0.1:54331/exports";
// The local stack's sink token (stack/keys.ts), not a secret.
const LOCAL_SINK_TOKEN = "local-audit-sink-token";
const LOCAL_URL = "http://127.0.0.1:54321";
// Supabase's well-known local demo service key (stack/keys.ts), not a secret.
const LOCAL_SERVICE_KEY =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

const USAGE = `usage: deno task audit:verify [--from N [--from-hash H]] [--tenant ID|system]
                              [--max-age SECONDS|none] [--window-days D] [--json] [--route]`;

export interface CliResult {
  code: number;
  output: string;
}

export function describeReport(r: VerifyReport): string {
  const ex = r.exports;
  const head = r.valid
    ? `valid: ${r.chains_checked} chains, ${r.rows_checked} rows agree with ${ex.read} exports` +
      (ex.read
        ? ` (#${ex.first_seq}–#${ex.last_seq}, newest ${ex.newest_at}); next run: --from ${ex.last_seq} --from-hash ${ex.last_hash}`
        : "")
    : !r.complete && r.divergence_count === 0
    ? `incomplete: the time budget ran out after ${r.chains_checked} chains`
    : `DIVERGED (${r.divergence_count}): ${r.first!.message}`;
  const rest = r.valid ? [] : r.divergences.slice(1).map((d) => `  ${d.message}`);
  if (r.divergence_count > r.divergences.length) {
    rest.push(`  … ${r.divergence_count - r.divergences.length} more`);
  }
  return [head, ...rest].join("\n");
}

export async function main(argv: string[], env = Deno.env.toObject()): Promise<CliResult> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        from: { type: "string" },
        "from-hash": { type: "string" },
        tenant: { type: "string" },
        "max-age": { type: "string" },
        "window-days": { type: "string" },
        json: { type: "boolean" },
        route: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    return { code: 2, output: `${(err as Error).message}\n${USAGE}` };
  }
  if (values.help) return { code: 0, output: USAGE };
  const from = values.from === undefined ? undefined : Number(values.from);
  if (from !== undefined && !(Number.isInteger(from) && from >= 1)) {
    return { code: 2, output: `--from must be an export number (1, 2, …), got ${values.from}` };
  }
  const fromHash = values["from-hash"];
  if (fromHash !== undefined && (from === undefined || !/^[0-9a-f]{64}$/.test(fromHash))) {
    return { code: 2, output: "--from-hash needs --from and a 64-digit hex hash" };
  }
  const maxAge = values["max-age"] === undefined
    ? Number(env.AUDIT_EXPORT_MAX_AGE_SECONDS ?? defaultMaxAgeSeconds)
    : values["max-age"] === "none"
    ? null
    : Number(values["max-age"]);
  if (maxAge !== null && !(Number.isInteger(maxAge) && maxAge >= 0)) {
    return { code: 2, output: `--max-age must be seconds or none, got ${values["max-age"]}` };
  }
  const windowSeconds = values["window-days"] === undefined
    ? Number(env.AUDIT_VERIFY_WINDOW_SECONDS ?? defaultWindowSeconds)
    : Number(values["window-days"]) * 86400;
  if (!(Number.isInteger(windowSeconds) && windowSeconds > 0)) {
    return { code: 2, output: `--window-days must be a whole number of days` };
  }
  const tenant = values.tenant;
  if (tenant !== undefined && tenant !== "system" && !/^[0-9a-f-]{36}$/i.test(tenant)) {
    return { code: 2, output: `--tenant must be a tenant id or system, got ${tenant}` };
  }

  let report: VerifyReport;
  if (values.route) {
    const q = new URLSearchParams();
    if (from) q.set("from_export", String(from));
    if (fromHash) q.set("from_hash", fromHash);
    if (tenant) q.set("tenant_id", tenant.toLowerCase());
    if (maxAge !== null) q.set("max_age_seconds", String(maxAge));
    q.set("budget_ms", "120000");
    const base = (env.SUPABASE_URL ?? LOCAL_URL).replace(/\/+$/, "");
    const res = await fetch(`${base}/functions/v1/audit-export/verify?${q}`, {
      headers: { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY ?? LOCAL_SERVICE_KEY}` },
    }).catch((err) => err as Error);
    if (res instanceof Error) return { code: 2, output: `route: ${res.message}` };
    const body = await res.json().catch(() => null);
    if (res.status === 200) report = body;
    else if ((res.status === 409 || res.status === 503) && body?.error?.details?.divergences) {
      report = body.error.details;
    } else return { code: 2, output: `route answered ${res.status}: ${JSON.stringify(body)}` };
  } else {
    const local = !env.AUDIT_EXPORT_URL && !env.AUDIT_EXPORT_S3_BUCKET;
    const sinkEnv: Record<string, string | undefined> = local
      ? { AUDIT_EXPORT_URL: LOCAL_SINK, AUDIT_EXPORT_TOKEN: LOCAL_SINK_TOKEN }
      : env;
    let sink;
    try {
      sink = sinkFromEnv((n) => sinkEnv[n] || undefined)!;
    } catch (err) {
      return { code: 2, output: (err as Error).message };
    }
    const sql = postgres(env.SUPABASE_DB_URL ?? LOCAL_DB, {
      max: 1,
      prepare: false,
      onnotice: () => {},
      connection: { application_name: "audit-verify" },
    });
    try {
      report = await verifyNow(sql, sink, {
        windowSeconds,
        maxAgeSeconds: maxAge,
        fromExport: from,
        fromHash,
        chains: tenant ? [tenant.toLowerCase()] : undefined,
        maxDivergences: 1000,
      });
    } catch (err) {
      return { code: 2, output: `verify: ${(err as Error).message}` };
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  return {
    code: report.valid ? 0 : 1,
    output: values.json ? JSON.stringify(report, null, 2) : describeReport(report),
  };
}

if (import.meta.main) {
  const { code, output } = await main(Deno.args);
  console.log(output);
  Deno.exit(code);
}
