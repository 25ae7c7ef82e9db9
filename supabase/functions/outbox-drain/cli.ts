// `deno task outbox <verb>`: the operator routes of outbox-drain from a terminal.
//
//   status [--tenant ID] [--dlq-threshold N]   queue depth, DLQ size, oldest due age;
//                                              exits 1 when the DLQ is over the threshold
//   requeue-dlq [--tenant ID] [--limit N]      requeue dead letters (oldest first);
//                                              `drain`, its first name, still works
//   retry-dlq ID                               requeue one dead letter
//   resolve ID done|retry [--note TEXT]        settle an unknown_outcome envelope
//   run [--tenant ID] [--limit N] [--dry-run]  run one drain now
//
// SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY come from the environment; without them the
// local stack (http://127.0.0.1:54321, its well-known service key) is used.
import { parseArgs } from "node:util";

const LOCAL_URL = "http://127.0.0.1:54321";
// Supabase's well-known local demo service key (stack/keys.ts), not a secret.
const LOCAL_SERVICE_KEY =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

const USAGE = `usage: deno task outbox <verb> [options]
  status [--tenant ID] [--dlq-threshold N]
  requeue-dlq [--tenant ID] [--limit N]
  retry-dlq ID
  resolve ID done|retry [--note TEXT]
  run [--tenant ID] [--limit N] [--dry-run]`;

export interface CliResult {
  code: number;
  output: string;
}

export async function main(argv: string[], env = Deno.env.toObject()): Promise<CliResult> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      limit: { type: "string" },
      note: { type: "string" },
      "dlq-threshold": { type: "string" },
      "dry-run": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [verb, ...rest] = positionals;
  if (values.help || !verb) return { code: verb ? 0 : 2, output: USAGE };
  const base = `${(env.SUPABASE_URL ?? LOCAL_URL).replace(/\/+$/, "")}/functions/v1/outbox-drain`;
  const key = env.SUPABASE_SERVICE_ROLE_KEY ?? LOCAL_SERVICE_KEY;
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !Number.isInteger(limit)) {
    return { code: 2, output: `--limit must be an integer, got ${values.limit}` };
  }

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let pretty = text;
    try {
      pretty = JSON.stringify(JSON.parse(text), null, 2);
    } catch { /* not JSON */ }
    return { status: res.status, output: pretty };
  };
  const done = (r: { status: number; output: string }): CliResult => ({
    code: r.status >= 200 && r.status < 300 ? 0 : 1,
    output: r.output,
  });

  switch (verb) {
    case "status": {
      const q = new URLSearchParams();
      if (values.tenant) q.set("tenant_id", values.tenant);
      if (values["dlq-threshold"]) q.set("dlq_threshold", values["dlq-threshold"]);
      const qs = q.size > 0 ? `?${q}` : "";
      return done(await call("GET", `/status${qs}`));
    }
    case "requeue-dlq":
    case "drain":
      return done(
        await call("POST", "/requeue-dlq", { tenant_id: values.tenant, limit, actor: "cli" }),
      );
    case "retry-dlq":
      if (!rest[0]) return { code: 2, output: "retry-dlq needs the envelope id" };
      return done(await call("POST", "/retry-dlq", { id: rest[0], actor: "cli" }));
    case "resolve":
      if (!rest[0] || !rest[1]) return { code: 2, output: "resolve needs: ID done|retry" };
      return done(
        await call("POST", "/resolve", {
          id: rest[0],
          resolution: rest[1],
          note: values.note,
          actor: "cli",
        }),
      );
    case "run":
      return done(
        await call("POST", "", {
          tenant_id: values.tenant,
          limit,
          dry_run: values["dry-run"],
          trigger: "manual",
        }),
      );
    default:
      return { code: 2, output: `unknown verb ${verb}\n${USAGE}` };
  }
}

if (import.meta.main) {
  try {
    const { code, output } = await main(Deno.args);
    (code === 0 ? console.log : console.error)(output);
    Deno.exit(code);
  } catch (err) {
    console.error((err as Error).message);
    Deno.exit(2);
  }
}
