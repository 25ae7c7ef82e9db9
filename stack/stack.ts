// The whole local stack in one place, used by `deno task start` (durable, fixed ports) and
// `deno task test` (throwaway folder, free ports).
import { join } from "node:path";
import {
  adminUrl,
  type Cluster,
  clusterExists,
  initCluster,
  postgresUrl,
  startCluster,
  stopCluster,
} from "./cluster.ts";
import { applyMigrations, applySeed } from "./migrate.ts";
import { seedFile } from "./paths.ts";

export interface StackOptions {
  dir: string;
  dbPort: number;
  durable: boolean;
  log?: (line: string) => void;
}

export interface Stack {
  cluster: Cluster;
  /** True when this start created the cluster (and so seeded it). */
  created: boolean;
  adminUrl: string;
  postgresUrl: string;
  /** Environment handed to tests and tools: where everything is. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const cluster: Cluster = { dir: join(opts.dir, "db"), port: opts.dbPort, durable: opts.durable };
  await Deno.mkdir(cluster.dir, { recursive: true });
  // The server runs as the postgres OS user, which must reach the data folder.
  await Deno.chmod(opts.dir, 0o755);
  const created = !clusterExists(cluster);
  if (created) {
    log(`creating cluster in ${cluster.dir}`);
    await initCluster(cluster);
  } else {
    await startCluster(cluster);
  }
  const pgUrl = postgresUrl(cluster);
  try {
    const applied = await applyMigrations(pgUrl, { log: (l) => log(`  ${l}`) });
    if (applied.length === 0) log("migrations: up to date");
    if (created) {
      if (await Deno.stat(seedFile).then(() => true, () => false)) {
        await applySeed(pgUrl, seedFile);
        log("seeded the new cluster from supabase/seed.sql");
      }
    }
  } catch (err) {
    await stopCluster(cluster);
    throw err;
  }

  const env: Record<string, string> = {
    STACK_DIR: opts.dir,
    STACK_DB_PORT: String(cluster.port),
    STACK_ADMIN_URL: adminUrl(cluster),
    STACK_POSTGRES_URL: pgUrl,
  };
  return {
    cluster,
    created,
    adminUrl: adminUrl(cluster),
    postgresUrl: pgUrl,
    env,
    stop: () => stopCluster(cluster),
  };
}
