// What tests need from the stack `deno task test` started: its URLs and scratch databases.
import postgres from "postgres";
import { createClient } from "@supabase/supabase-js";
import { join } from "node:path";
import { adminUrl, type Cluster, createProjectDatabase, psqlAdmin } from "./cluster.ts";

function need(name: string): string {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`${name} is not set: run the tests through \`deno task test\``);
  return v;
}

export function testCluster(): Cluster {
  return {
    dir: join(need("STACK_SERVER_DIR"), "db"),
    port: Number(need("STACK_DB_PORT")),
    durable: false,
  };
}

export const env = {
  get adminUrl() {
    return need("STACK_ADMIN_URL");
  },
  get postgresUrl() {
    return need("STACK_POSTGRES_URL");
  },
  /** Where the served functions' log lines go (one JSON object per line). */
  get functionsLog() {
    return need("STACK_FUNCTIONS_LOG");
  },
  /** The API URL (SUPABASE_URL): /functions/v1, /auth/v1. */
  get apiUrl() {
    return need("SUPABASE_URL");
  },
  get anonKey() {
    return need("SUPABASE_ANON_KEY");
  },
  /** The public key set user tokens are signed with, as the functions get it. */
  get jwks(): { keys: Array<Record<string, string>> } {
    return JSON.parse(need("SUPABASE_JWKS"));
  },
};

/**
 * A supabase-js client on the test stack with the anon key. Its session lives in memory
 * only and is never refreshed behind the test's back (no timers left running).
 */
export function supabaseClient(key = env.anonKey) {
  return createClient(env.apiUrl, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

/** A postgres.js client for a test; close it with `await sql.end()`. */
export function connect(url: string, opts: postgres.Options<Record<string, never>> = {}) {
  return postgres(url, { max: 4, onnotice: () => {}, ...opts });
}

let scratchCount = 0;

/** A fresh project-shaped database in the shared test cluster, dropped by `drop()`. */
export async function scratchDatabase(): Promise<{
  name: string;
  postgresUrl: string;
  adminUrl: string;
  drop(): Promise<void>;
}> {
  const c = testCluster();
  const name = `scratch_${Date.now().toString(36)}_${++scratchCount}`;
  await createProjectDatabase(c, name);
  return {
    name,
    postgresUrl: `postgres://postgres:postgres@127.0.0.1:${c.port}/${name}`,
    adminUrl: adminUrl(c, name),
    drop: async () => {
      await psqlAdmin(c, `drop database if exists "${name}" with (force)`);
    },
  };
}

/**
 * A cluster of its own for tests that need a whole cluster (pg_cron lives in one database
 * per cluster). Bootstrapped like the stack's, nothing migrated; `stop()` removes it.
 */
export async function throwawayCluster(): Promise<{
  cluster: Cluster;
  postgresUrl: string;
  adminUrl: string;
  stop(): Promise<void>;
}> {
  const { initCluster, stopCluster, freePort } = await import("./cluster.ts");
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

/** POSTs a JSON body to a served function with the service key; returns the parsed reply. */
export async function callFunction(
  slug: string,
  body: unknown,
  // deno-lint-ignore no-explicit-any -- job summaries are wire JSON
): Promise<Record<string, any>> {
  const res = await fetch(`${need("SUPABASE_URL")}/functions/v1/${slug}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${need("SUPABASE_SERVICE_ROLE_KEY")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
  return await res.json();
}

/** Calls a control route of the Composio sandbox (`/_sandbox/<path>`); throws on failure. */
// deno-lint-ignore no-explicit-any -- sandbox replies are wire JSON
export async function sandboxControl(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${need("COMPOSIO_BASE_URL")}/_sandbox/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Whether something accepts TCP connections on the loopback port. */
export async function canConnect(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** A base port whose stack ports (base, +1, +8, +9, +10) are all free. */
export async function freeBasePort(): Promise<number> {
  for (;;) {
    const base = 30000 + Math.floor(Math.random() * 10000);
    const taken = await Promise.all([0, 1, 8, 9, 10].map((o) => canConnect(base + o)));
    if (!taken.some(Boolean)) return base;
  }
}

/**
 * A child process whose stdout and stderr are collected as they come, so a test can wait
 * for a line and still read everything afterwards.
 */
export function spawnCollecting(
  cmd: string[],
  opts: { cwd?: string; env?: Record<string, string> },
) {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: opts.env !== undefined,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s.pipeThrough(new TextDecoderStream())) output += c;
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]);
  return {
    child,
    output: () => output,
    /** Resolves when `pattern` appears in the output; rejects on exit or after `ms`. */
    async waitFor(pattern: RegExp, ms = 120_000): Promise<void> {
      const until = Date.now() + ms;
      let exited = false;
      child.status.then(() => exited = true);
      while (!pattern.test(output)) {
        if (exited) {
          await done;
          if (pattern.test(output)) return;
          throw new Error(`exited before ${pattern}:\n${output}`);
        }
        if (Date.now() > until) throw new Error(`no ${pattern} within ${ms} ms:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** Waits for the process to end; returns its exit code. */
    async finished(): Promise<number> {
      const s = await child.status;
      await done;
      return s.code;
    },
  };
}
