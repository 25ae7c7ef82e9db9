// pgbouncer in transaction mode in front of the cluster, as Supavisor's port 6543 is on
// hosted: code that relies on session state (named prepared statements, LISTEN, session
// advisory locks, SET) fails here as it would there.
import { join } from "node:path";
import { asUser, isRoot, runOrThrow } from "./command.ts";
import { StackError } from "./errors.ts";

export interface Pooler {
  port: number;
  url(user?: string, password?: string, db?: string): string;
  stop(): Promise<void>;
}

export async function startPooler(
  opts: { dir: string; port: number; dbPort: number },
): Promise<Pooler> {
  await Deno.mkdir(opts.dir, { recursive: true });
  const ini = join(opts.dir, "pgbouncer.ini");
  const users = join(opts.dir, "userlist.txt");
  await Deno.writeTextFile(
    users,
    ['"postgres" "postgres"', '"supabase_admin" "postgres"', '"authenticator" "postgres"', ""]
      .join("\n"),
  );
  await Deno.writeTextFile(
    ini,
    [
      "[databases]",
      `* = host=127.0.0.1 port=${opts.dbPort}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${opts.port}`,
      "unix_socket_dir =",
      "auth_type = scram-sha-256",
      `auth_file = ${users}`,
      "pool_mode = transaction",
      "max_client_conn = 1000",
      "default_pool_size = 40",
      "server_reset_query =",
      // pgbouncer waits this long after a failed server login (15 s by default): keep
      // recovery after a Postgres restart quick.
      "server_login_retry = 1",
      "ignore_startup_parameters = extra_float_digits,options",
      "log_connections = 0",
      "log_disconnections = 0",
      "",
    ].join("\n"),
  );
  if (isRoot) await runOrThrow(["chown", "-R", "postgres:", opts.dir]);
  // pgbouncer refuses to run as root.
  const argv = asUser(["pgbouncer", ini], "postgres");
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) stderr = (stderr + dec.decode(chunk)).slice(-4000);
  })();
  // Ready when it accepts TCP connections.
  for (let i = 0;; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port: opts.port })).close();
      break;
    } catch {
      if (i > 100) {
        const last = stderr.trim().split("\n").pop() ?? "";
        throw new StackError(
          `starting the pooler (pgbouncer) on port ${opts.port}`,
          /Address already in use/i.test(stderr)
            ? `port ${opts.port} is already in use`
            : last || "it did not accept connections within 5 s",
          /Address already in use/i.test(stderr)
            ? "stop whatever listens there or pass --base-port"
            : `see ${ini}`,
          stderr,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port: opts.port,
    url: (user = "postgres", password = "postgres", db = "postgres") =>
      `postgres://${user}:${password}@127.0.0.1:${opts.port}/${db}`,
    stop: async () => {
      try {
        child.kill("SIGINT");
      } catch { /* already gone */ }
      await child.status;
    },
  };
}
