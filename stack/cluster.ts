// A project-local PostgreSQL 15 cluster shaped like hosted Supabase: initdb with superuser
// supabase_admin, pg_cron preloaded, roles and platform extensions bootstrapped.
import { basename, dirname, join } from "node:path";
import { isRoot, run, runOrThrow } from "./command.ts";
import { StackError } from "./errors.ts";
import { pgBinDir, projectRoot } from "./paths.ts";

export interface Cluster {
  /** Root folder: data/, run/ (socket), postgres.log. */
  dir: string;
  port: number;
  /** Throwaway clusters trade durability for speed. */
  durable: boolean;
}

const osUser = isRoot ? "postgres" : undefined;
const pg = (bin: string) => join(pgBinDir, bin);

export const dataDir = (c: Cluster) => join(c.dir, "data");
export const socketDir = (c: Cluster) => join(c.dir, "run");
export const logFile = (c: Cluster) => join(c.dir, "postgres.log");

export function adminUrl(c: Cluster, db = "postgres"): string {
  return `postgres://supabase_admin:postgres@127.0.0.1:${c.port}/${db}`;
}
export function postgresUrl(c: Cluster, db = "postgres"): string {
  return `postgres://postgres:postgres@127.0.0.1:${c.port}/${db}`;
}

export function clusterExists(c: Cluster): boolean {
  try {
    Deno.statSync(join(dataDir(c), "PG_VERSION"));
    return true;
  } catch {
    return false;
  }
}

function config(c: Cluster): string {
  return [
    `port = ${c.port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${socketDir(c)}'`,
    `max_connections = 300`,
    `shared_preload_libraries = 'pg_cron'`,
    `cron.database_name = 'postgres'`,
    // pg_cron connects with libpq; the socket with trust auth spares it a password.
    `cron.host = '${socketDir(c)}'`,
    `timezone = 'UTC'`,
    `log_timezone = 'UTC'`,
    `pg_net.ttl = '6 hours'`,
    ...(c.durable ? [] : [`fsync = off`, `synchronous_commit = off`, `full_page_writes = off`]),
    "",
  ].join("\n");
}

// Sockets are local to this cluster's folder; TCP needs a password, as on hosted.
const hba = [
  "local all all trust",
  "host all all 127.0.0.1/32 scram-sha-256",
  "host all all ::1/128 scram-sha-256",
  "",
].join("\n");

/**
 * A SQL file's text with its `\ir <file>` includes (relative to it) written in: psql reads
 * it from stdin, where it could not resolve them, and as the postgres OS user, who may not
 * be able to read them.
 */
export async function sqlWithIncludes(file: string): Promise<string> {
  const text = await Deno.readTextFile(file);
  const parts: string[] = [];
  let at = 0;
  for (const m of text.matchAll(/^\\ir\s+(\S+)\s*$/gm)) {
    parts.push(text.slice(at, m.index), await sqlWithIncludes(join(dirname(file), m[1])));
    at = m.index! + m[0].length;
  }
  parts.push(text.slice(at));
  return parts.join("");
}

/**
 * Runs a SQL file of the project as the superuser. psql runs as the postgres OS user, which
 * may not be able to read the clone (a home folder of mode 0700): the file goes in on stdin.
 */
async function psqlFile(c: Cluster, file: string, db: string, vars: Record<string, string> = {}) {
  const args = [pg("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDir(c), "-p"];
  args.push(String(c.port), "-U", "supabase_admin", "-d", db, "-f", "-");
  for (const [k, v] of Object.entries(vars)) args.push("-v", `${k}=${v}`);
  await runOrThrow(args, {
    user: osUser,
    stdin: await sqlWithIncludes(file),
    what: `bootstrapping database ${db} (${basename(file)})`,
    fix: "this is a bug of the local stack; the full output says which statement",
  });
}

/** Runs SQL as the superuser through the cluster's socket. */
export async function psqlAdmin(c: Cluster, sql: string, db = "postgres"): Promise<string> {
  const args = [pg("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", socketDir(c)];
  args.push("-p", String(c.port), "-U", "supabase_admin", "-d", db, "-f", "-");
  return (await runOrThrow(args, { user: osUser, stdin: sql, what: "running SQL as superuser" }))
    .stdout.trim();
}

/** initdb, configuration and role bootstrap; leaves the cluster running. */
export async function initCluster(c: Cluster): Promise<void> {
  await Deno.mkdir(socketDir(c), { recursive: true });
  if (osUser) await runOrThrow(["chown", "-R", `${osUser}:`, c.dir]);
  await runOrThrow([
    pg("initdb"),
    "-D",
    dataDir(c),
    "-U",
    "supabase_admin",
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    ...(c.durable ? [] : ["--no-sync"]),
  ], {
    user: osUser,
    what: `creating the cluster in ${c.dir}`,
    fix: osUser
      ? `the ${osUser} OS user must be able to enter every folder above it`
      : "check that the folder is writable",
  });
  await Deno.writeTextFile(join(dataDir(c), "postgresql.auto.conf"), config(c), { append: true });
  await Deno.writeTextFile(join(dataDir(c), "pg_hba.conf"), hba);
  await startCluster(c);
  await psqlFile(c, join(projectRoot, "stack", "sql", "bootstrap_roles.sql"), "postgres");
  await psqlAdmin(c, "alter database postgres owner to postgres");
  await bootstrapDatabase(c, "postgres", true);
}

/** Gives a database the hosted shape: platform extensions, auth schema, default grants. */
export async function bootstrapDatabase(c: Cluster, db: string, withCron: boolean) {
  await psqlFile(c, join(projectRoot, "stack", "sql", "bootstrap_database.sql"), db, {
    with_cron: withCron ? "on" : "off",
  });
}

/**
 * Brings an existing cluster's platform schemas up to date in `db` before migrations run
 * (idempotent SQL), as hosted Storage migrates its schema on boot and Realtime when it
 * connects: a cluster bootstrapped before one existed gets it before the migrations that put
 * policies on it.
 */
export async function refreshPlatformSchemas(c: Cluster, db = "postgres"): Promise<void> {
  await psqlFile(c, join(projectRoot, "stack", "sql", "storage_schema.sql"), db);
  await psqlFile(c, join(projectRoot, "stack", "sql", "realtime_schema.sql"), db);
}

/** A fresh database in this cluster, owned by postgres, shaped like a project database. */
export async function createProjectDatabase(c: Cluster, db: string): Promise<void> {
  await psqlAdmin(c, `create database "${db}" owner postgres`);
  await bootstrapDatabase(c, db, false);
}

export async function isRunning(c: Cluster): Promise<boolean> {
  const res = await run([pg("pg_ctl"), "status", "-D", dataDir(c)], { user: osUser });
  return res.code === 0;
}

export async function startCluster(c: Cluster): Promise<void> {
  if (await isRunning(c)) return;
  const started = await run(
    [pg("pg_ctl"), "start", "-w", "-t", "60", "-D", dataDir(c), "-l", logFile(c)],
    { user: osUser },
  );
  if (started.code !== 0) {
    const log = await Deno.readTextFile(logFile(c)).catch(() => "");
    const fatal = log.split("\n").filter((l) => /FATAL|PANIC|could not/.test(l)).pop();
    const portTaken = /could not bind|Address already in use/i.test(log);
    throw new StackError(
      `starting Postgres on port ${c.port}`,
      portTaken
        ? `port ${c.port} is already in use`
        : (fatal?.replace(/^.*?(FATAL|PANIC):\s*/, "") ?? `pg_ctl exited with ${started.code}`),
      portTaken
        ? "stop whatever listens there (another `deno task start`?) or pass --base-port"
        : `see ${logFile(c)}`,
      `${started.stderr}${started.stdout}\n--- ${logFile(c)} ---\n${
        log.split("\n").slice(-30).join("\n")
      }`,
    );
  }
}

export async function stopCluster(c: Cluster, mode: "fast" | "immediate" = "fast") {
  if (!(await isRunning(c))) return;
  await runOrThrow([pg("pg_ctl"), "stop", "-w", "-t", "60", "-m", mode, "-D", dataDir(c)], {
    user: osUser,
  });
}

/** A free TCP port on loopback, for throwaway clusters and servers. */
export function freePort(): number {
  // Below Linux's ephemeral range (32768 and up): a port the OS hands out for outgoing
  // connections could be taken by one in the seconds between this check and the bind.
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // taken; try another
    }
  }
}

/**
 * A cluster of its own in a temp folder, for what needs a whole cluster (pg_cron lives in one
 * database per cluster): tests, db:diff. Bootstrapped like the stack's, nothing migrated;
 * `stop()` removes it.
 */
export async function throwawayCluster(): Promise<{
  cluster: Cluster;
  postgresUrl: string;
  adminUrl: string;
  stop(): Promise<void>;
}> {
  const root = await Deno.makeTempDir({ prefix: "stack-cluster-" });
  await Deno.chmod(root, 0o755);
  const cluster: Cluster = { dir: join(root, "db"), port: freePort(), durable: false };
  await Deno.mkdir(cluster.dir);
  await initCluster(cluster);
  return {
    cluster,
    postgresUrl: `postgres://postgres:postgres@127.0.0.1:${cluster.port}/postgres`,
    adminUrl: adminUrl(cluster),
    stop: async () => {
      await stopCluster(cluster, "immediate");
      await Deno.remove(root, { recursive: true });
    },
  };
}
