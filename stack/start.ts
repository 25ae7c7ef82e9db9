// `deno task start`: installs what is missing, creates or reuses the project's cluster,
// applies new migrations, seeds a new cluster, then serves the functions, Auth and Realtime,
// delivers pg_net requests, runs the pooler and (without COMPOSIO_API_KEY) the Composio
// sandbox, until Ctrl-C, which stops everything.
// `deno task db:reset` (--reset-only): rebuilds the database from migrations and seed.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isRunning, stopCluster } from "./cluster.ts";
import { reportFailure } from "./errors.ts";
import { install } from "./install.ts";
import { seedUserPassword } from "./keys.ts";
import { stackLayout } from "./layout.ts";
import { stackDir } from "./paths.ts";
import { prepareDatabase, type Stack, type StackPorts, startStack } from "./stack.ts";

// --dir and --base-port let tests run a second stack beside a developer's.
const args = parseArgs({
  args: Deno.args,
  options: {
    dir: { type: "string" },
    "base-port": { type: "string" },
    "reset-only": { type: "boolean" },
    /** Print every failure in full instead of one line (it is always in logs/start.log). */
    verbose: { type: "boolean" },
  },
}).values;
/** Supabase CLI's local ports where there is one (API 54321, DB 54322, pooler 54329). */
const base = Number(args["base-port"] ?? 54321);
const ports: StackPorts = {
  api: base,
  db: base + 1,
  pooler: base + 8,
  composio: base + 9,
  auditSink: base + 10,
};
const dir = args.dir ?? join(stackDir, "local");

const layout = stackLayout(dir);
Deno.mkdirSync(layout.logDir, { recursive: true });
const failureLog = join(layout.logDir, "start.log");

async function fail(err: unknown): Promise<never> {
  await reportFailure(err, { logFile: failureLog, verbose: args.verbose });
  Deno.exit(1);
}

if (args["reset-only"]) {
  try {
    await install();
    const cluster = { dir: layout.clusterDir, port: ports.db, durable: true };
    if (await isRunning(cluster)) {
      console.error("error: the local stack is running — stop `deno task start` (Ctrl-C) first");
      Deno.exit(1);
    }
    await Deno.remove(cluster.dir, { recursive: true }).catch(() => {});
    const db = await prepareDatabase({ dir, ports, durable: true });
    await stopCluster(db.cluster);
    console.error(`database rebuilt from migrations and seed (data in ${layout.clusterDir})`);
    Deno.exit(0);
  } catch (err) {
    await fail(err);
  }
}

let stack!: Stack;
try {
  await install();
  stack = await startStack({ dir, ports, durable: true });
} catch (err) {
  await fail(err);
}
console.log(`
Local stack is running. Ctrl-C stops it.
  Functions   ${stack.api.url}/functions/v1/<slug>   (${
  stack.functions.slugs.join(", ") || "none yet"
})
  Auth        ${stack.api.url}/auth/v1   (seed users, password ${seedUserPassword})
  Storage     ${stack.api.url}/storage/v1   (bytes in ${join(stack.layout.dir, "storage")})
  Realtime    ${stack.api.url.replace(/^http/, "ws")}/realtime/v1   (Broadcast, private channels)
  Postgres    ${stack.postgresUrl}   (data in ${stack.layout.clusterDir})
  Pooler      ${stack.pooler.url()}   (transaction mode, like Supavisor :6543)
  Superuser   ${stack.adminUrl}
  Audit sink  ${stack.auditSink.exportsUrl}   (runs as ${stack.auditSink.user}, files in ${stack.auditSink.dir})
  Composio    ${
  stack.composio
    ? `${stack.composio.url} (sandbox, x-api-key: ${stack.composio.apiKey})`
    : stack.env.COMPOSIO_BASE_URL
}
  anon key          ${stack.env.SUPABASE_ANON_KEY}
  service_role key  ${stack.env.SUPABASE_SERVICE_ROLE_KEY}
`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  console.error("stopping…");
  await stack.stop();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
// Keep the process alive until a signal arrives.
setInterval(() => {}, 1 << 30);
