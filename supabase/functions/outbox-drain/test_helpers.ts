// Helpers for the outbox-drain tests: fresh tenants shaped like the seed's, envelopes through
// enqueue_envelope, the function over HTTP, and the Composio sandbox's controls.
import postgres from "postgres";
import { sandboxControl } from "../../../stack/testing.ts";

const postgresClient = (url: string) => postgres(url, { max: 1, onnotice: () => {} });

export const TENANT_A = "00000000-0000-0000-0000-00000000000a";

export function need(name: string): string {
  const v = Deno.env.get(name);
  if (!v) throw new Error(`${name} is not set: run the tests through \`deno task test\``);
  return v;
}

export const fnUrl = () => `${need("SUPABASE_URL")}/functions/v1/outbox-drain`;
export const serviceKey = () => need("SUPABASE_SERVICE_ROLE_KEY");

export interface TenantOpts {
  cap?: number;
  quietHours?: unknown;
  maxAttempts?: Record<string, number>;
  allowedToolkits?: string[] | null;
  approvalTiers?: string[];
}

/** A tenant with guardrails, an active GitHub account (all scopes) and A's GitHub tools. */
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
  await sql`
    insert into public.connected_accounts (tenant_id, toolkit, external_account_id, status, scopes)
    values (${id}, 'github', ${"ca_" + id}, 'active', '{repo,public_repo,delete_repo}')`;
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
export const sandbox = sandboxControl;

export const resetSandbox = () => sandbox("POST", "reset");
export const fault = (spec: Record<string, unknown>) => sandbox("POST", "faults", spec);

/** Execute calls per envelope id, as the sandbox counted them. */
export async function executions(): Promise<Record<string, number>> {
  const r = await sandbox("GET", "executions") as { by_envelope: Record<string, number> };
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
