// Test support for the reindexer's tests (never imported by the function): a tenant with a
// member of its own, claims to search as that member, and a quiet reindexer schedule so
// the every-minute tick does not claim a test's rows.
import postgres from "postgres";
import type { Claims } from "../_shared/db.ts";

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
  // As the superuser: the local pg_cron 1.4 does not grant cron.alter_job to postgres.
  const admin = postgres(Deno.env.get("STACK_ADMIN_URL")!, { max: 1, onnotice: () => {} });
  await admin`select jobs.pause('embedding-reindexer')`;
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
    await admin`select jobs.resume('embedding-reindexer')`;
    await admin.end();
  };
}
