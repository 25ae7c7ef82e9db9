// The one test-helper module: what tests need from the stack `deno task test` started (its
// URLs, scratch databases, the served functions, the Composio sandbox's controls, child
// processes), and the fixtures the outbox and embedding tests share (tenants, envelopes).
import postgres from "postgres";
import { createClient } from "@supabase/supabase-js";
import { join } from "node:path";
import {
  adminUrl,
  type Cluster,
  createProjectDatabase,
  freePort,
  psqlAdmin,
} from "../stack/cluster.ts";
import { startFunctionsServer } from "../stack/functions_server.ts";
import { functionsDir, projectRoot } from "../stack/paths.ts";
import type { Claims } from "../supabase/functions/_shared/db.ts";
import { seedUserPassword } from "../stack/keys.ts";

export function need(name: string): string {
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

/** A test body given its own postgres.js client on the test stack, closed after it. */
export function withSql(fn: (sql: postgres.Sql) => Promise<void>): () => Promise<void> {
  return async () => {
    const sql = postgres(need("STACK_POSTGRES_URL"), { max: 2, onnotice: () => {} });
    try {
      await fn(sql);
    } finally {
      await sql.end();
    }
  };
}

/**
 * Deno.test for a file that keeps one client (and the stack's servers) open across its tests:
 * the resource and op sanitizers would count those as leaks of each test.
 */
export const stackTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeResources: false, sanitizeOps: false });

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
 * POSTs a JSON body to a served function with the service key (on the stack, or on the
 * functions server at `baseUrl`); returns the parsed reply.
 */
export async function callFunction(
  slug: string,
  body: unknown,
  baseUrl = need("SUPABASE_URL"),
  // deno-lint-ignore no-explicit-any -- job summaries are wire JSON
): Promise<Record<string, any>> {
  const res = await fetch(`${baseUrl}/functions/v1/${slug}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${need("SUPABASE_SERVICE_ROLE_KEY")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
  return await res.json();
}

/** What stack/stack.ts hands every function (the variables `deno task start` sets). */
const functionEnvNames = [
  "SUPABASE_URL",
  "SUPABASE_DB_URL",
  "SUPABASE_ANON_KEY",
  "SUPABASE_SERVICE_ROLE_KEY",
  "SUPABASE_PUBLISHABLE_KEYS",
  "SUPABASE_SECRET_KEYS",
  "SUPABASE_JWT_SECRET",
  "SUPABASE_JWKS",
  "COMPOSIO_API_KEY",
  "COMPOSIO_BASE_URL",
];

/**
 * A functions server of the test's own, serving only `slugs` on the Edge Runtime's Deno
 * against the test stack, with the stack's function environment plus `extraEnv`: how one
 * test gives a function a variable the stack never sets. Its log lines are kept in `logs`.
 */
export async function startFunctions(
  slugs: string[],
  extraEnv: Record<string, string>,
): Promise<{ url: string; logs: string[]; stop(): Promise<void> }> {
  const env = Object.fromEntries(functionEnvNames.map((n) => [n, need(n)]));
  const logs: string[] = [];
  const server = await startFunctionsServer({
    port: freePort(),
    functionsDir,
    configFile: join(projectRoot, "supabase", "config.toml"),
    env: { ...env, ...extraEnv },
    only: slugs,
    log: (line) => logs.push(line),
  });
  return { url: server.url, logs, stop: () => server.stop() };
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
    // Below Linux's ephemeral range (32768 and up), so no outgoing connection of another
    // process can take one of these ports between this check and the stack binding it.
    const base = 20000 + Math.floor(Math.random() * 12000);
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

// ---------------------------------------------------------------------------------------
// outbox-drain: tenants shaped like the seed's, envelopes through enqueue_envelope, the
// function over HTTP.
const postgresClient = (url: string) => postgres(url, { max: 1, onnotice: () => {} });

export const TENANT_A = "00000000-0000-0000-0000-00000000000a";

export const fnUrl = () => `${need("SUPABASE_URL")}/functions/v1/outbox-drain`;
export const serviceKey = () => need("SUPABASE_SERVICE_ROLE_KEY");

export interface TenantOpts {
  cap?: number;
  quietHours?: unknown;
  maxAttempts?: Record<string, number>;
  allowedToolkits?: string[] | null;
  approvalTiers?: string[];
}

/**
 * A tenant with guardrails, an active GitHub account (all scopes, its owner already checked
 * with Composio, as the connection flow leaves it) and A's GitHub tools.
 */
export async function makeTenant(sql: postgres.Sql, opts: TenantOpts = {}): Promise<string> {
  const id = crypto.randomUUID();
  // Enterprise: the tests set caps and attempts the free plan would refuse.
  await sql`insert into public.tenants (id, name, plan) values (${id}, 'outbox-drain test', 'enterprise')`;
  await sql`
    update public.guardrails
       set concurrency_cap = ${opts.cap ?? 50},
           quiet_hours = ${
    sql.json((opts.quietHours ?? { timezone: "UTC", windows: [] }) as never)
  },
           max_attempts = ${
    sql.json((opts.maxAttempts ?? { low: 5, medium: 3, high: 1 }) as never)
  },
           allowed_toolkits = ${opts.allowedToolkits === undefined ? null : opts.allowedToolkits},
           approval_risk_tiers = ${opts.approvalTiers ?? ["high"]}, trust_threshold = 0.5
     where tenant_id = ${id}`;
  // Rate buckets that never bind (a test of flow control sets its own): the other tests of
  // the drain are not about it.
  await sql`
    insert into public.rate_buckets (tenant_id, toolkit, capacity, tokens, refill_per_second)
    select ${id}, k, 1e9, 1e9, 1e9 from unnest(array['github', 'slack']) k`;
  await sql`
    insert into public.connected_accounts (tenant_id, toolkit, external_account_id, status, scopes,
                                           verified_external_account_id, verified_owned,
                                           verified_at)
    values (${id}, 'github', ${"ca_" + id}, 'active', '{repo,public_repo,delete_repo}',
            ${"ca_" + id}, true, now())`;
  await sql`
    insert into public.tool_catalog (tenant_id, tool_slug, toolkit, display_name, description,
                                     version, input_schema, output_schema, required_scopes, tags,
                                     risk, read_only, content_hash)
    select ${id}, tool_slug, toolkit, display_name, description, version, input_schema,
           output_schema, required_scopes, tags, risk, read_only, content_hash
    from public.tool_catalog
    where tenant_id = ${TENANT_A} and is_current and toolkit in ('github', 'slack')`;
  return id;
}

export const ISSUE = { owner: "acme", repo: "support", title: "Hello" };
export const LIST = { owner: "acme", repo: "support" };

export async function enqueue(
  sql: postgres.Sql,
  tenant: string,
  slug: string,
  args: Record<string, unknown>,
  trust = 0.99,
): Promise<string> {
  const [row] = await sql`
    select id::text from public.enqueue_envelope(${tenant}::uuid, ${slug},
      ${sql.json(args as never)}, null, ${"ca_" + tenant},
      ${sql.json({ score: trust, evidence: [] })})`;
  return row.id;
}

export async function drain(
  body: Record<string, unknown> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(fnUrl(), {
    method: "POST",
    headers: { authorization: `Bearer ${serviceKey()}`, "content-type": "application/json" },
    body: JSON.stringify({ chain: false, ...body }),
    // A hang is a failure, not a stuck suite.
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, json: await res.json() };
}

/** The Composio sandbox's control routes (`/_sandbox/<path>`). */

/**
 * A fresh Composio: the sandbox's state, and what the project's rate-limit bucket learnt from
 * its answers (a 429 of an earlier test would otherwise close it for later ones).
 */
export async function resetSandbox(): Promise<void> {
  await sandboxControl("POST", "reset");
  const sql = postgresClient(need("STACK_POSTGRES_URL"));
  try {
    await sql`delete from internal.composio_rate_limit`;
  } finally {
    await sql.end();
  }
}
export const fault = (spec: Record<string, unknown>) => sandboxControl("POST", "faults", spec);

/** Execute calls per envelope id, as the sandbox counted them. */
export async function executions(): Promise<Record<string, number>> {
  const r = await sandboxControl("GET", "executions") as { by_envelope: Record<string, number> };
  return r.by_envelope;
}

export interface Row {
  status: string;
  attempts: number;
  last_error: string | null;
  outcome: string | null;
  next_run_at: Date;
}

/** The envelope's row: in outbox, or in outbox_dlq (status 'dlq:<reason>'). */
export async function row(sql: postgres.Sql, id: string): Promise<Row> {
  const [o] = await sql`
    select status, attempts, last_error, outcome, next_run_at from public.outbox where id = ${id}`;
  if (o) return o as unknown as Row;
  const [d] = await sql`
    select 'dlq:' || reason as status, attempts, last_error, outcome, next_run_at
    from public.outbox_dlq where id = ${id}`;
  if (!d) throw new Error(`envelope ${id} is lost: neither in outbox nor in outbox_dlq`);
  return d as unknown as Row;
}

/** Audit categories written for the envelope, oldest first. */
export async function audit(sql: postgres.Sql, id: string): Promise<string[]> {
  const rows = await sql`
    select category from public.audit_log where envelope_id = ${id} order by id`;
  return rows.map((r) => r.category);
}

/** Pauses or resumes the drain's schedule (and so the kick), as postgres may on hosted. */
export async function pauseDrain(paused: boolean): Promise<void> {
  const admin = postgresClient(need("STACK_POSTGRES_URL"));
  try {
    if (!paused) {
      await admin`select jobs.resume('outbox-drain')`;
      return;
    }
    await admin`select jobs.pause('outbox-drain')`;
    // A drain the schedule or a kick started before the pause may still be running (and
    // would claim this test's envelopes): wait until none is.
    for (let i = 0; i < 240; i++) {
      const [r] = await admin`
        select count(*)::int as n from public.job_runs
        where job = 'outbox-drain' and status = 'running'
          -- A drain ends within its budget (45 s); older 'running' rows are drains a test
          -- killed on purpose.
          and started_at > now() - interval '50 seconds'`;
      if (r.n === 0) break;
      await new Promise((res) => setTimeout(res, 250));
    }
  } finally {
    await admin.end();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true (at most `tries` × `everyMs`). */
export async function until(
  check: () => Promise<boolean>,
  { tries = 100, everyMs = 100 } = {},
): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// embedding-reindexer: a tenant with a member of its own, and a quiet reindexer schedule.
export function testDb(): postgres.Sql {
  const url = Deno.env.get("STACK_POSTGRES_URL");
  if (!url) {
    throw new Error("STACK_POSTGRES_URL is not set: run the tests through `deno task test`");
  }
  return postgres(url, { max: 6, onnotice: () => {}, prepare: false });
}

export interface TestTenant {
  id: string;
  userId: string;
  claims: Claims & { tenant_id: string };
}

export async function createTenant(
  sql: postgres.Sql,
  name = "embeddings test",
): Promise<TestTenant> {
  const id = crypto.randomUUID();
  const userId = crypto.randomUUID();
  await sql`insert into public.tenants (id, name) values (${id}, ${name})`;
  await sql`insert into auth.users (id, aud, role, email)
            values (${userId}, 'authenticated', 'authenticated', ${`${userId}@example.com`})`;
  await sql`insert into public.tenant_members (tenant_id, user_id, role)
            values (${id}, ${userId}, 'member')`;
  // Creating a tenant and its member may write audit entries (audited configuration), which
  // the queue picks up; tests start from an empty queue for their tenant.
  await sql`delete from internal.embedding_queue where tenant_id = ${id}`;
  return {
    id,
    userId,
    claims: {
      sub: userId,
      aud: "authenticated",
      role: "authenticated",
      tenant_id: id,
      tenant_role: "member",
    },
  };
}

/**
 * Pauses the reindexer's schedules and waits until no run of it is in flight, so tests
 * see their own counts. Returns a function that resumes them.
 */
export async function quietReindexer(sql: postgres.Sql): Promise<() => Promise<void>> {
  // The test runner pauses every schedule; restore what was, so later files see it too.
  const [{ paused }] = await sql`select jobs.is_paused('embedding-reindexer') as paused`;
  await sql`select jobs.pause('embedding-reindexer')`;
  let quiet = 0;
  for (let i = 0; i < 240 && quiet < 2; i++) {
    const [r] = await sql`
      select count(*)::int as n from public.job_runs
      where job = 'embedding-reindexer' and status = 'running'
        and started_at > now() - interval '5 minutes'`;
    quiet = r.n === 0 ? quiet + 1 : 0;
    if (quiet < 2) await new Promise((res) => setTimeout(res, 250));
  }
  return async () => {
    if (!paused) await sql`select jobs.resume('embedding-reindexer')`;
  };
}

// ---------------------------------------------------------------------------------------
// Users who sign in: a user with the seed users' password (so the Auth stand-in issues its
// ES256 token, as hosted does), a member of a tenant with `role`. The hook picks that tenant
// for a user with no other membership.
export async function makeUser(
  sql: postgres.Sql,
  tenantId: string | null,
  role: "owner" | "member" = "member",
): Promise<{ id: string; email: string }> {
  const id = crypto.randomUUID();
  const email = `${role}-${id}@example.com`;
  await sql`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                            email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
    values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated',
            ${email}, extensions.crypt(${seedUserPassword}, extensions.gen_salt('bf', 4)),
            now(), '{"provider":"email"}', '{}')`;
  if (tenantId) {
    await sql`insert into public.tenant_members (tenant_id, user_id, role)
              values (${tenantId}, ${id}, ${role})`;
  }
  return { id, email };
}
