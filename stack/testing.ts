// What tests need from the stack `deno task test` started: its URLs and scratch databases.
import postgres from "postgres";
import { join } from "node:path";
import { adminUrl, type Cluster, createProjectDatabase, psqlAdmin } from "./cluster.ts";

function need(name: string): string {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`${name} is not set: run the tests through \`deno task test\``);
  return v;
}

export function testCluster(): Cluster {
  return {
    dir: join(need("STACK_DIR"), "db"),
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
};

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
