// End to end: a real pg_cron tick runs jobs.invoke, pg_net delivers the POST with the
// service key from Vault, the "function" records a job_runs row, and jobs.health sees it.
// The function is a loopback server of this test: Vault's project_url points at it for the
// duration of the test (restored afterwards); it answers /functions/v1/<our slug> and
// forwards every other path to the real functions server, so the project's own schedules
// that fire meanwhile still reach their functions. Waits for the next minute boundary
// (up to ~60 s): the one slow test of the plumbing.
import assert from "node:assert/strict";
import { connect, env } from "./testing.ts";

Deno.test("a pg_cron tick reaches a job through pg_net and leaves a job_runs row", async () => {
  const supabaseUrl = Deno.env.get("SUPABASE_URL")!;
  const serviceKey = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!;
  const slug = `e2e-${crypto.randomUUID().slice(0, 8)}`;
  const jobName = `${slug}-every-minute`;
  const sql = connect(env.postgresUrl);
  const calls: Array<{ auth: string | null; body: unknown }> = [];

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === `/functions/v1/${slug}`) {
      const body = await req.json();
      calls.push({ auth: req.headers.get("authorization"), body });
      if (req.headers.get("authorization") !== `Bearer ${serviceKey}`) {
        return Response.json({ error: { code: "unauthorized", message: "bad key" } }, {
          status: 401,
        });
      }
      // What a job function does first and last: record its run.
      await sql`insert into public.job_runs (job, status, finished_at, invocation)
                values (${slug}, 'succeeded', now(), ${sql.json({ trigger: "cron", body })})`;
      return Response.json({ ok: true });
    }
    const url = new URL(req.url);
    return fetch(`${supabaseUrl}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      body: req.body ? await req.arrayBuffer() : undefined,
    });
  });
  const loopback = `http://127.0.0.1:${server.addr.port}`;

  const [{ original }] = await sql`
    select decrypted_secret as original from vault.decrypted_secrets where name = 'project_url'`;
  assert.ok(original, "the stack stores project_url in Vault at start");
  try {
    await sql`select vault.update_secret(id, ${loopback}) from vault.secrets
              where name = 'project_url'`;
    await sql`select jobs.register(${slug}, 5000, 60)`;
    await sql`select jobs.schedule(${jobName}, '* * * * *', ${slug}, '{"e2e": true}'::jsonb)`;

    // The next minute boundary, then pg_net's delivery: poll the table the function writes.
    const deadline = Date.now() + 90_000;
    let runs: Array<{ job: string; invocation: unknown }> = [];
    while (Date.now() < deadline) {
      runs = await sql`select job, invocation from public.job_runs where job = ${slug}`;
      if (runs.length > 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(runs.length, 1, "no job_runs row: the cron tick did not reach the function");
    assert.deepEqual(runs[0].invocation, { trigger: "cron", body: { e2e: true } });
    assert.equal(calls[0].auth, `Bearer ${serviceKey}`);

    // pg_net recorded the answer under the request jobs.invoke mapped to the job.
    let responses: Array<{ status_code: number | null }> = [];
    while (Date.now() < deadline) {
      responses = await sql`select r.status_code from jobs.invocations i
                            join net._http_response r on r.id = i.request_id
                            where i.slug = ${slug}`;
      if (responses.length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(responses.map((r) => r.status_code), [200]);
    const [{ cron_runs }] = await sql`
      select count(*)::int as cron_runs from cron.job_run_details d
        join cron.job j on j.jobid = d.jobid
       where j.jobname = ${jobName} and d.status = 'succeeded'`;
    assert.ok(cron_runs >= 1, "pg_cron recorded its run");

    const [health] = await sql`select * from jobs.health where job = ${slug}`;
    assert.ok(health.last_run_at !== null);
    assert.equal(health.failing, false);
    assert.equal(health.silent, false);
    assert.equal(health.consecutive_failures, 0);
  } finally {
    await sql`select jobs.unschedule(${jobName})`.catch(() => {});
    await sql`delete from jobs.registry where slug = ${slug}`.catch(() => {});
    await sql`delete from public.job_runs where job = ${slug}`.catch(() => {});
    await sql`select vault.update_secret(id, ${original}) from vault.secrets
              where name = 'project_url'`;
    await sql.end();
    await server.shutdown();
  }
});
