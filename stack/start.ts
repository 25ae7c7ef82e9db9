// `deno task start`: installs what is missing, creates or reuses the project's cluster,
// applies new migrations, seeds a new cluster, and runs until Ctrl-C.
// `deno task db:reset` (--reset-only): rebuilds the cluster from migrations and seed.
import { join } from "node:path";
import { isRunning } from "./cluster.ts";
import { install } from "./install.ts";
import { stackDir } from "./paths.ts";
import { startStack } from "./stack.ts";

export const ports = { db: 54322 };

const resetOnly = Deno.args.includes("--reset-only");
const dir = join(stackDir, "local");

await install();
if (resetOnly) {
  const cluster = { dir: join(dir, "db"), port: ports.db, durable: true };
  if (await isRunning(cluster)) {
    console.error("the local stack is running: stop `deno task start` (Ctrl-C) before db:reset");
    Deno.exit(1);
  }
  await Deno.remove(cluster.dir, { recursive: true }).catch(() => {});
}

const stack = await startStack({ dir, dbPort: ports.db, durable: true });
if (resetOnly) {
  await stack.stop();
  console.error("database rebuilt from migrations and seed");
  Deno.exit(0);
}

console.log(`
Local stack is running. Ctrl-C stops it.
  Postgres   ${stack.postgresUrl}
  superuser  ${stack.adminUrl}
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
