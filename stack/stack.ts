// The whole local stack in one place, used by `deno task start` (durable, fixed ports) and
// `deno task test` (throwaway folder, free ports).
import postgres from "postgres";
import { join } from "node:path";
import {
  adminUrl,
  type Cluster,
  clusterExists,
  initCluster,
  postgresUrl,
  refreshPlatformSchemas,
  startCluster,
  stopCluster,
} from "./cluster.ts";
import { type AuditSink, startAuditSink } from "./audit_sink.ts";
import { type ComposioSandbox, startComposioSandbox } from "./composio_sandbox.ts";
import { type ApiGateway, startApiGateway } from "./api_gateway.ts";
import { readAuthConfig, startAuthServer } from "./auth_server.ts";
import { createFunctionsRouter, type FunctionsRouter } from "./functions_server.ts";
import {
  anonKey,
  auditSinkS3,
  auditSinkToken,
  jwtSecret,
  publishableKey,
  secretKey,
  serviceRoleKey,
} from "./keys.ts";
import { applyMigrations, applySeed } from "./migrate.ts";
import { functionsDir, projectRoot, seedFile } from "./paths.ts";
import { type StackLayout, stackLayout } from "./layout.ts";
import { PgNetWorker } from "./pg_net_worker.ts";
import { startRealtimeServer } from "./realtime_server.ts";
import { type Pooler, startPooler } from "./pooler.ts";
import { loadSigningKey, publicJwks } from "./signing_key.ts";
import { startStorageServer, storageDbUrl } from "./storage_server.ts";

export interface StackPorts {
  /** Functions at /functions/v1, Auth at /auth/v1, Realtime at /realtime/v1 (the API port). */
  api: number;
  db: number;
  pooler: number;
  /** The Composio sandbox, when COMPOSIO_API_KEY is unset. */
  composio: number;
  /** The audit export sink (stack/audit_sink.ts). */
  auditSink: number;
}

export interface StackOptions {
  dir: string;
  ports: StackPorts;
  durable: boolean;
  /** Where function logs go (default: stdout). */
  functionLog?: (line: string) => void;
  log?: (line: string) => void;
}

export interface Stack {
  cluster: Cluster;
  pooler: Pooler;
  /** The API port: /functions/v1 and the other services under their prefixes. */
  api: ApiGateway;
  functions: FunctionsRouter;
  composio: ComposioSandbox | null;
  auditSink: AuditSink;
  /** True when this start created the cluster (and so seeded it). */
  created: boolean;
  layout: StackLayout;
  adminUrl: string;
  postgresUrl: string;
  /** Environment handed to tests and tools: where everything is. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A new cluster is marked pending from before initdb until its seed is in. A cluster still
 * marked is a first start that was interrupted (Ctrl-C while migrations applied, a failed
 * seed): it holds nothing of the user's yet, so it is rebuilt from scratch.
 */
const pendingMark = (cluster: Cluster) => join(cluster.dir, "FIRST_START_PENDING");

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates (first time) or starts the cluster, applies new migrations and seeds a new
 * cluster. Leaves Postgres running.
 */
export async function prepareDatabase(
  opts: Pick<StackOptions, "dir" | "ports" | "durable" | "log">,
): Promise<{ cluster: Cluster; created: boolean; pgUrl: string; layout: StackLayout }> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const layout = stackLayout(opts.dir);
  const cluster: Cluster = { dir: layout.clusterDir, port: opts.ports.db, durable: opts.durable };
  await Deno.mkdir(cluster.dir, { recursive: true });
  if (clusterExists(cluster) && exists(pendingMark(cluster))) {
    log(`the first start of ${cluster.dir} did not finish (no seed yet): rebuilding it`);
    await stopCluster(cluster, "immediate").catch(() => {});
    await Deno.remove(cluster.dir, { recursive: true });
    await Deno.mkdir(cluster.dir, { recursive: true });
  }
  const created = !clusterExists(cluster);
  if (created) {
    log(`creating cluster in ${cluster.dir}`);
    await Deno.writeTextFile(pendingMark(cluster), `${new Date().toISOString()}\n`);
    await initCluster(cluster);
  } else {
    await startCluster(cluster);
    await refreshPlatformSchemas(cluster);
  }
  const pgUrl = postgresUrl(cluster);
  try {
    const applied = await applyMigrations(pgUrl, {
      log: (l) => log(`  ${l}`),
      adminUrl: adminUrl(cluster),
    });
    if (applied.length === 0) log("migrations: up to date");
    if (created) {
      if (exists(seedFile)) {
        await applySeed(pgUrl, seedFile);
        log("seeded the new cluster from supabase/seed.sql");
      }
      await Deno.remove(pendingMark(cluster));
    }
  } catch (err) {
    await stopCluster(cluster);
    throw err;
  }
  return { cluster, created, pgUrl, layout };
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const { cluster, created, pgUrl, layout } = await prepareDatabase(opts);
  const stops: Array<() => Promise<void>> = [() => stopCluster(cluster)];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((e) => log(`stop: ${e.message}`));
  };
  try {
    const pooler = await startPooler({
      dir: layout.poolerDir,
      port: opts.ports.pooler,
      dbPort: cluster.port,
    });
    stops.push(() => pooler.stop());

    const pgNet = new PgNetWorker({ url: adminUrl(cluster), log });
    await pgNet.start();
    stops.push(() => pgNet.stop());

    // A real Composio when a key is given; else the loopback sandbox.
    let composio: ComposioSandbox | null = null;
    let composioEnv: Record<string, string>;
    const realKey = Deno.env.get("COMPOSIO_API_KEY");
    if (realKey) {
      composioEnv = {
        COMPOSIO_API_KEY: realKey,
        COMPOSIO_BASE_URL: Deno.env.get("COMPOSIO_BASE_URL") ?? "https://backend.composio.dev",
      };
    } else {
      composio = await startComposioSandbox({ port: opts.ports.composio });
      stops.push(() => composio!.close());
      composioEnv = { COMPOSIO_API_KEY: composio.apiKey, COMPOSIO_BASE_URL: composio.url };
    }

    // Where audit exports go: a process of another OS user, outside what the functions and
    // the database can change.
    const auditSink = await startAuditSink({
      stackDir: layout.dir,
      port: opts.ports.auditSink,
      log,
    });
    stops.push(() => auditSink.stop());

    const apiUrl = `http://127.0.0.1:${opts.ports.api}`;
    // Kept in the stack folder: user tokens stay valid across restarts.
    const signingKey = await loadSigningKey(join(opts.dir, "auth"));
    const functionsEnv: Record<string, string> = {
      SUPABASE_URL: apiUrl,
      SUPABASE_DB_URL: pooler.url(),
      SUPABASE_ANON_KEY: anonKey,
      SUPABASE_SERVICE_ROLE_KEY: serviceRoleKey,
      SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: publishableKey }),
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: secretKey }),
      SUPABASE_JWT_SECRET: jwtSecret,
      // As hosted injects it: the public keys user tokens are signed with.
      SUPABASE_JWKS: JSON.stringify(publicJwks(signingKey)),
      ...composioEnv,
      // As an operator sets them with `supabase secrets set` (docs/audit.md).
      AUDIT_EXPORT_URL: auditSink.exportsUrl,
      AUDIT_EXPORT_TOKEN: auditSinkToken,
    };
    const configFile = join(projectRoot, "supabase", "config.toml");
    const auth = await startAuthServer({
      dbUrl: adminUrl(cluster),
      apiUrl,
      signingKey,
      legacySecret: jwtSecret,
      apiKeys: [anonKey, serviceRoleKey, publishableKey, secretKey],
      config: readAuthConfig(configFile),
      log,
    });
    stops.push(() => auth.stop());
    const storage = await startStorageServer({
      dbUrl: storageDbUrl(pgUrl),
      root: join(layout.dir, "storage"),
      jwtSecret,
      jwks: publicJwks(signingKey),
      secretKeys: [secretKey],
      publishableKeys: [publishableKey],
      log,
    });
    stops.push(() => storage.stop());
    const realtime = await startRealtimeServer({
      dbUrl: adminUrl(cluster),
      jwks: publicJwks(signingKey),
      legacySecret: jwtSecret,
      apiKeys: {
        [anonKey]: anonKey,
        [publishableKey]: anonKey,
        [serviceRoleKey]: serviceRoleKey,
        [secretKey]: serviceRoleKey,
      },
      log,
    });
    stops.push(() => realtime.stop());
    const api = startApiGateway({ port: opts.ports.api });
    const functions = await createFunctionsRouter({
      functionsDir,
      configFile,
      env: functionsEnv,
      log: opts.functionLog,
    });
    stops.push(() => functions.stop());
    // Stopped first (stops run in reverse): no request reaches a stopping service.
    stops.push(() => api.stop());
    api.mount("/functions/v1", functions.handle);
    api.mount("/auth/v1", auth.handle);
    api.mount("/storage/v1", storage.handle);
    api.mount("/realtime/v1", realtime.handle);

    // What jobs.invoke reads to call the functions from pg_cron through pg_net.
    await storeVaultSecrets(pgUrl, { project_url: apiUrl, service_role_key: serviceRoleKey });

    const env: Record<string, string> = {
      ...functionsEnv,
      STACK_DIR: layout.dir,
      STACK_SERVER_DIR: layout.serverDir,
      STACK_DB_PORT: String(cluster.port),
      STACK_ADMIN_URL: adminUrl(cluster),
      STACK_POSTGRES_URL: pgUrl,
      STACK_POOLER_URL: pooler.url(),
      STACK_AUDIT_SINK_URL: auditSink.url,
      STACK_AUDIT_SINK_DIR: auditSink.dir,
      STACK_AUDIT_SINK_USER: auditSink.user,
      STACK_AUDIT_SINK_S3_ENDPOINT: auditSink.s3Endpoint,
      STACK_AUDIT_SINK_S3_BUCKET: auditSinkS3.bucket,
    };
    return {
      cluster,
      pooler,
      api,
      functions,
      composio,
      auditSink,
      created,
      layout,
      adminUrl: adminUrl(cluster),
      postgresUrl: pgUrl,
      env,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Creates or updates Vault secrets by name. */
async function storeVaultSecrets(url: string, secrets: Record<string, string>) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    for (const [name, value] of Object.entries(secrets)) {
      await sql`
        select case
          when exists (select 1 from vault.secrets where name = ${name})
          then (select vault.update_secret(id, ${value}) from vault.secrets where name = ${name})::text
          else vault.create_secret(${value}, ${name}, 'set by the local stack')::text
        end`;
    }
  } finally {
    await sql.end();
  }
}

/**
 * Pauses the jobs' own pg_cron schedules. They would fire every minute during a test suite
 * and race the tests that drive the same jobs, or run during a benchmark and take CPU from
 * what it measures (the embedding reindexer embedding the audit rows a drain bench wrote).
 * Tests that exercise pg_cron create schedules of their own; housekeeping schedules stay.
 * Runs as postgres through jobs.pause (cron.alter_job), as an operator on hosted would.
 */
export async function pauseJobSchedules(postgresUrl: string) {
  const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`select jobs.pause(slug) from jobs.registry`;
  } finally {
    await sql.end();
  }
}
