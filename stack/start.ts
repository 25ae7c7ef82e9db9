// `deno task start`: installs what is missing, creates or reuses the project's cluster,
// applies new migrations, seeds a new cluster, then serves the functions and Auth, delivers
// pg_net requests, runs the pooler and (without COMPOSIO_API_KEY) the Composio sandbox,
// until Ctrl-C, which stops everything.
// `deno task db:reset` (--reset-only): rebuilds the database from migrations and seed.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isRunning } from "./cluster.ts";
import { install } from "./install.ts";
import { seedUserPassword } from "./keys.ts";
import { stackDir } from "./paths.ts";
import { prepareDatabase, type StackPorts, startStack } from "./stack.ts";
import { stopCluster } from "./cluster.ts";

// --dir and --base-port let tests run a second stack beside a developer's.
const args = parseArgs({
  args: Deno.args,
  options: {
    dir: { type: "string" },
    "base-port": { type: "string" },
    "reset-only": { type: "boolean" },
  },
}).values;
/** Supabase CLI's local ports where there is one (API 54321, DB 54322, pooler 54329). */
const base = Number(args["base-port"] ?? 54321);
const ports: StackPorts = { api: base, db: base + 1, pooler: base + 8, composio: base + 9 };
const dir = args.dir ?? join(stackDir, "local");

await install();
if (args["reset-only"]) {
  const cluster = { dir: join(dir, "db"), port: ports.db, durable: true };
  if (await isRunning(cluster)) {
    console.error("the local stack is running: stop `deno task start` (Ctrl-C) before db:reset");
    Deno.exit(1);
  }
  await Deno.remove(cluster.dir, { recursive: true }).catch(() => {});
  const db = await prepareDatabase({ dir, ports, durable: true });
  await stopCluster(db.cluster);
  console.error("database rebuilt from migrations and seed");
  Deno.exit(0);
}

const stack = await startStack({ dir, ports, durable: true });
console.log(`
Local stack is running. Ctrl-C stops it.
  Functions   ${stack.api.url}/functions/v1/<slug>   (${
  stack.functions.slugs.join(", ") || "none yet"
})
  Auth        ${stack.api.url}/auth/v1   (seed users, password ${seedUserPassword})
  Postgres    ${stack.postgresUrl}
  Pooler      ${stack.pooler.url()}   (transaction mode, like Supavisor :6543)
  Superuser   ${stack.adminUrl}
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
