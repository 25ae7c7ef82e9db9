// Database access for the functions: postgres.js on SUPABASE_DB_URL, written for a
// transaction pooler (Supavisor :6543 on hosted, pgbouncer locally): no named prepared
// statements, no session state, no LISTEN, no session advisory locks.
import postgres from "postgres";
import { requireEnv } from "./env.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

let shared: Sql | null = null;

/**
 * The isolate's pool, connecting as `postgres` (BYPASSRLS on hosted): the service context
 * for jobs. Small, because many isolates share the pooler's connections.
 */
export function serviceDb(): Sql {
  shared ??= postgres(requireEnv("SUPABASE_DB_URL"), {
    prepare: false,
    max: 4,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: "edge-function" },
  });
  return shared;
}

/** Closes the isolate's pool (tests, shutdown). */
export async function closeServiceDb(): Promise<void> {
  const s = shared;
  shared = null;
  await s?.end({ timeout: 5 });
}

/** JWT claims as PostgREST passes them to Postgres. */
export type Claims = Record<string, unknown> & { sub?: string; role?: string };

/**
 * Runs `fn` in a transaction as the caller, exactly as PostgREST does: `set local role`
 * to the token's role and `request.jwt.claims` from the verified JWT, so RLS decides what
 * the caller sees. Both settings are transaction-local, which the pooler preserves.
 */
export async function withUserContext<T>(
  sql: Sql,
  claims: Claims,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  const role = claims.role === "anon" ? "anon" : "authenticated";
  return await sql.begin(async (tx) => {
    await tx.unsafe(`set local role ${role}`);
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
    return await fn(tx);
  }) as T;
}
