// Large tool outputs as artifacts, end to end on the test stack: the served outbox-drain
// uploads an output above its threshold to evidence-artifacts, evidence and the audit row
// name bucket and path (never the bytes), a member of the tenant downloads it with
// supabase-js and gets an expiring link from /artifacts/sign, another tenant's member gets
// 404. An upload that fails leaves the envelope settled and the artifact pending; the next
// drain uploads it without running the tool again.
import assert from "node:assert/strict";
import { seedUserPassword } from "../stack/keys.ts";
import { runJob } from "../supabase/functions/_shared/job.ts";
import { setLogSink } from "../supabase/functions/_shared/log.ts";
import { defaultBudgetMs, drainBody, runDrain } from "../supabase/functions/outbox-drain/drain.ts";
import {
  connect,
  drain,
  enqueue,
  env,
  executions,
  ISSUE,
  LIST,
  makeTenant,
  pauseDrain,
  resetSandbox,
  row,
  sandboxControl,
  sleep,
  stackTest,
  supabaseClient,
} from "./testing.ts";

const sql = connect(env.postgresUrl);
const BUCKET = "evidence-artifacts";

// An output well above the drain's default threshold (256 KiB).
const bigOutput = {
  issues: Array.from({ length: 3000 }, (_, i) => ({
    number: i,
    title: `Issue ${i}: ${"lorem ipsum ".repeat(8)}`,
  })),
};

let tenant = "";
let memberEmail = "";

/** A user with a password, member of `tenantId` only (so their token names it). */
async function makeMember(tenantId: string): Promise<string> {
  const id = crypto.randomUUID();
  const email = `artifacts-${id}@example.com`;
  await sql`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                            email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
    values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated',
            ${email}, extensions.crypt(${seedUserPassword}, extensions.gen_salt('bf', 4)), now(),
            '{"provider":"email"}', '{}')`;
  await sql`
    insert into public.tenant_members (tenant_id, user_id, role, accepted_at)
    values (${tenantId}, ${id}, 'member', now())`;
  return email;
}

async function signIn(email: string) {
  const client = supabaseClient();
  const { data, error } = await client.auth.signInWithPassword({
    email,
    password: seedUserPassword,
  });
  assert.equal(error, null, `sign-in of ${email}: ${error?.message}`);
  return { client, token: data.session!.access_token };
}

function sign(token: string | null, body: unknown) {
  return fetch(`${env.apiUrl}/functions/v1/outbox-drain/artifacts/sign`, {
    method: "POST",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
}

async function evidenceOf(envelope: string) {
  const [e] = await sql`
    select content, content_text, artifact_bucket, artifact_path, artifact_size,
           artifact_sha256, artifact_status, id::text
      from public.evidence where envelope_id = ${envelope}`;
  return e;
}

stackTest(
  "artifacts: setup (drain paused, a tenant with a member, a large tool output)",
  async () => {
    await pauseDrain(true);
    await resetSandbox();
    tenant = await makeTenant(sql);
    memberEmail = await makeMember(tenant);
    await sandboxControl("PUT", "execute-result/GITHUB_LIST_ISSUES", bigOutput);
  },
);

let artifactPath = "";

stackTest(
  "artifacts: a large output is uploaded; evidence and the audit row name it, not its bytes",
  async () => {
    const big = await enqueue(sql, tenant, "GITHUB_LIST_ISSUES", LIST);
    const small = await enqueue(sql, tenant, "GITHUB_CREATE_ISSUE", ISSUE);
    const res = await drain({ tenant_id: tenant });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const counts = (res.json as { counts: Record<string, number> }).counts;
    assert.equal(counts.artifacts_uploaded, 1, JSON.stringify(counts));
    assert.equal((await row(sql, big)).status, "succeeded");
    assert.equal((await executions())[big], 1);

    artifactPath = `${tenant}/${big}/output.json`;
    const bytes = new TextEncoder().encode(JSON.stringify(bigOutput));
    const e = await evidenceOf(big);
    assert.equal(e.artifact_bucket, BUCKET);
    assert.equal(e.artifact_path, artifactPath);
    assert.equal(e.artifact_status, "uploaded");
    assert.equal(Number(e.artifact_size), bytes.byteLength);
    assert.equal(e.content_text, null, "no text of the output in evidence");
    assert.deepEqual(Object.keys(e.content), ["artifact"]);
    assert.equal(e.content.artifact.path, artifactPath);
    assert.ok(!JSON.stringify(e.content).includes("lorem"), "no bytes of the output in evidence");
    const [o] = await sql`select result from public.outbox where id = ${big}`;
    assert.equal(o.result.artifact.path, artifactPath, "the outbox row keeps the reference");
    assert.ok(!("data" in o.result) && !JSON.stringify(o.result).includes("lorem"));

    const [a] = await sql`
    select payload from public.audit_log where envelope_id = ${big} and category = 'outbox_succeeded'`;
    assert.deepEqual(a.payload.artifact, {
      bucket: BUCKET,
      path: artifactPath,
      size: bytes.byteLength,
      status: "uploaded",
    });

    const s = await evidenceOf(small);
    assert.equal(s.artifact_status, null, "a small output stays in evidence");
    assert.equal(s.content.ok, true);
  },
);

stackTest(
  "artifacts: a member downloads it and gets an expiring link; another tenant gets 404",
  async () => {
    const { client, token } = await signIn(memberEmail);
    const got = await client.storage.from(BUCKET).download(artifactPath);
    assert.equal(got.error, null, got.error?.message);
    assert.deepEqual(JSON.parse(await got.data!.text()), bigOutput);

    const res = await sign(token, { path: artifactPath, expires_in: 2 });
    assert.equal(res.status, 200);
    const link = await res.json();
    assert.ok(link.signedUrl.startsWith(`${env.apiUrl}/storage/v1/object/sign/${BUCKET}/`));
    const expiresIn = Date.parse(link.expiresAt) - Date.now();
    assert.ok(expiresIn > 0 && expiresIn <= 2_000, link.expiresAt);
    const fetched = await fetch(link.signedUrl);
    assert.equal(fetched.status, 200);
    assert.deepEqual(await fetched.json(), bigOutput);

    const outsider = await signIn("member.b@example.com");
    const refused = await sign(outsider.token, { path: artifactPath });
    assert.equal(refused.status, 404);
    assert.equal((await refused.json()).error.code, "not_found");
    assert.ok((await outsider.client.storage.from(BUCKET).download(artifactPath)).error);

    for (
      const [body, status] of [
        [{ path: artifactPath, expires_in: 0 }, 400],
        [{ path: artifactPath, expires_in: 3601 }, 400],
        [{ path: artifactPath, bucket: "other" }, 400],
        [{}, 400],
      ] as const
    ) {
      const bad = await sign(token, body);
      assert.equal(bad.status, status, JSON.stringify(body));
      assert.equal((await bad.json()).error.code, "invalid_body");
    }
    assert.equal((await sign(null, { path: artifactPath })).status, 401);

    await sleep(Math.max(0, Date.parse(link.expiresAt) - Date.now()) + 1_000);
    const late = await fetch(link.signedUrl);
    assert.equal(late.status, 400, "the link no longer works once expired");
    assert.equal((await late.json()).code, "InvalidJWT");
  },
);

stackTest(
  "artifacts: a failed upload leaves the envelope settled and the artifact pending; the next drain uploads it",
  async () => {
    const env1 = await enqueue(sql, tenant, "GITHUB_LIST_ISSUES", LIST);
    const lines: string[] = [];
    const prev = setLogSink((l) => lines.push(l));
    let summary;
    try {
      summary = await runJob(
        {
          slug: "outbox-drain",
          schema: drainBody,
          defaultBudgetMs,
          run: (ctx) =>
            runDrain(ctx, {
              upload: () => Promise.reject(new Error("storage unreachable (test)")),
            }),
        },
        { tenant_id: tenant, chain: false },
        { sql },
      );
    } finally {
      setLogSink(prev);
    }
    assert.equal(summary.status, "succeeded", JSON.stringify(summary));
    assert.equal(summary.counts.artifacts_pending, 1);
    assert.ok(lines.some((l) => JSON.parse(l).event === "outbox_artifact_pending"));

    const r = await row(sql, env1);
    assert.equal(r.status, "succeeded", "the envelope is settled whatever its artifact did");
    assert.equal(r.attempts, 1);
    const path = `${tenant}/${env1}/output.json`;
    const e = await evidenceOf(env1);
    assert.equal(e.artifact_status, "pending");
    assert.equal(e.artifact_path, path);
    const [p] = await sql`
    select size, name, convert_from(content, 'UTF8') as text from internal.artifact_pending
     where evidence_id = ${e.id}`;
    assert.equal(p.name, path);
    assert.deepEqual(JSON.parse(p.text), bigOutput, "the bytes wait in the pending store");
    const [a] = await sql`
    select payload from public.audit_log where envelope_id = ${env1} and category = 'outbox_succeeded'`;
    assert.equal(a.payload.artifact.status, "pending");
    assert.equal(a.payload.artifact.path, path);

    const { client, token } = await signIn(memberEmail);
    const early = await sign(token, { path });
    assert.equal(early.status, 409, "no link while it is pending");
    assert.ok((await client.storage.from(BUCKET).download(path)).error, "not in Storage yet");

    // The next drain, the served one, with nothing else to do: it uploads the bytes first.
    const res = await drain({ tenant_id: tenant });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal((res.json as { counts: Record<string, number> }).counts.artifacts_reuploaded, 1);
    assert.equal((await evidenceOf(env1)).artifact_status, "uploaded");
    const [{ n }] = await sql`
    select count(*)::int as n from internal.artifact_pending where evidence_id = ${e.id}`;
    assert.equal(n, 0, "the bytes left the pending store");
    const cats = await sql`
    select category, payload from public.audit_log where envelope_id = ${env1} order by id`;
    assert.deepEqual(cats.map((c) => c.category), ["outbox_succeeded", "artifact_uploaded"]);
    assert.equal(cats[1].payload.artifact.path, path);
    assert.equal((await executions())[env1], 1, "the tool ran once");
    const got = await client.storage.from(BUCKET).download(path);
    assert.equal(got.error, null, got.error?.message);
    assert.deepEqual(JSON.parse(await got.data!.text()), bigOutput);
    assert.equal((await sign(token, { path })).status, 200);
  },
);

stackTest("artifacts: clean up", async () => {
  await resetSandbox();
  const svc = supabaseClient(Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!).storage.from(BUCKET);
  const { data } = await svc.list(tenant, { limit: 100 });
  const names = [];
  for (const folder of data ?? []) names.push(`${tenant}/${folder.name}/output.json`);
  if (names.length) await svc.remove(names);
  await sql.end();
});
