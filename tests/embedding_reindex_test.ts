import assert from "node:assert/strict";
import { type Embedder, hashTestEmbedder } from "../supabase/functions/_shared/embeddings.ts";
import { runJob } from "../supabase/functions/_shared/job.ts";
import { createTenant, quietReindexer, testDb } from "./testing.ts";
import { embeddingMetrics } from "../supabase/functions/embedding-reindexer/metrics.ts";
import {
  reindexJob,
  type ReindexOptions,
} from "../supabase/functions/embedding-reindexer/reindex.ts";

const sql = testDb();
const resume = await quietReindexer(sql);

function job(embedder: Embedder = hashTestEmbedder(), opts: ReindexOptions = {}) {
  return reindexJob(() => Promise.resolve(embedder), opts);
}

async function reindex(tenantId: string, embedder?: Embedder, opts?: ReindexOptions, extra = {}) {
  const s = await runJob(job(embedder, opts), { tenant_id: tenantId, chain: false, ...extra }, {
    sql,
  });
  assert.notEqual(s.status, "failed", s.error);
  return s;
}

async function embeddings(tenantId: string) {
  return await sql`
    select source_type, source_id, chunk, model, content, content_hash, created_at
    from public.evidence_embeddings where tenant_id = ${tenantId}
    order by source_type, source_id, chunk`;
}

async function queued(tenantId: string) {
  return await sql`
    select source_type, source_id, attempts, last_error, claimed_by,
           extract(epoch from next_attempt_at - now())::float8 as due_in
    from internal.embedding_queue where tenant_id = ${tenantId}`;
}

Deno.test("reindexer: embeds new evidence, skips unchanged chunks, re-embeds changed ones", async () => {
  const t = await createTenant(sql);
  const long = Array.from({ length: 900 }, (_, i) => `token${i}`).join(" ");
  const [{ id: short }] = await sql`
    insert into public.evidence (tenant_id, tool_slug, content, content_text)
    values (${t.id}, 'GITHUB_GET_ISSUE', '{}', 'Issue 42: login fails with SSO') returning id::text`;
  const [{ id: big }] = await sql`
    insert into public.evidence (tenant_id, tool_slug, content, content_text)
    values (${t.id}, 'SLACK_HISTORY', '{}', ${long}) returning id::text`;

  const first = await reindex(t.id);
  assert.equal(first.counts.claimed, 2);
  const rows = await embeddings(t.id);
  const bigChunks = rows.filter((r) => r.source_id === big).length;
  assert.ok(bigChunks >= 2, `long text chunked (${bigChunks})`);
  assert.equal(first.counts.embedded, 1 + bigChunks);
  assert.equal(rows.find((r) => r.source_id === short)?.model, "hash-test-v1");
  assert.equal((await queued(t.id)).length, 0, "the queue is empty once embedded");

  // Nothing queued: a second run claims nothing.
  const idle = await reindex(t.id);
  assert.equal(idle.counts.claimed ?? 0, 0);

  // A touched row whose text is the same: claimed, but no chunk is embedded again.
  await sql`update public.evidence set tool_slug = 'GITHUB_GET_ISSUE_V2' where id in (${short}, ${big})`;
  const touched = await reindex(t.id);
  assert.equal(touched.counts.claimed, 2);
  assert.equal(touched.counts.embedded ?? 0, 0);
  assert.equal(touched.counts.unchanged, 1 + bigChunks);
  const after = await embeddings(t.id);
  assert.deepEqual(after.map((r) => r.created_at), rows.map((r) => r.created_at));

  // Changed text: only that source's chunk is embedded; a shorter text drops old chunks.
  await sql`update public.evidence set content_text = 'Issue 42: fixed' where id = ${short}`;
  await sql`update public.evidence set content_text = 'now short' where id = ${big}`;
  const changed = await reindex(t.id);
  assert.equal(changed.counts.embedded, 2);
  const final = await embeddings(t.id);
  assert.deepEqual(
    final.map((r) => [r.source_id, r.chunk, r.content]).sort(),
    [
      [big, 0, "now short"],
      [short, 0, "Issue 42: fixed"],
    ].sort(),
  );

  // Another column (no text change) does not even enqueue.
  await sql`update public.evidence set envelope_id = null where id = ${short}`;
  assert.equal((await queued(t.id)).length, 0);

  // Deleting the source deletes its embeddings.
  await sql`delete from public.evidence where id = ${big}`;
  assert.equal((await embeddings(t.id)).filter((r) => r.source_id === big).length, 0);
});

Deno.test("reindexer: a row whose transaction commits late is still embedded", async () => {
  const t = await createTenant(sql);
  const t1 = await sql.reserve();
  let open = false;
  try {
    // T1 inserts and stays open; T2 inserts and commits.
    await t1`begin`;
    open = true;
    const [{ id: late }] = await t1`
      insert into public.evidence (tenant_id, content, content_text, created_at)
      values (${t.id}, '{}', 'written by the slow transaction', now() - interval '1 minute')
      returning id::text`;
    const [{ id: early }] = await sql`
      insert into public.evidence (tenant_id, content, content_text)
      values (${t.id}, '{}', 'written by the quick transaction') returning id::text`;
    const run1 = await reindex(t.id);
    assert.equal(run1.counts.embedded, 1);
    await t1`commit`;
    open = false;
    const run2 = await reindex(t.id);
    assert.equal(run2.counts.embedded, 1);
    const ids = (await embeddings(t.id)).map((r) => r.source_id).sort();
    assert.deepEqual(ids, [early, late].sort());
  } finally {
    // Never hand a connection back inside a transaction.
    if (open) await t1`rollback`.catch(() => {});
    t1.release();
  }
});

Deno.test("reindexer: a failed batch stays queued with its error and a backoff", async () => {
  const t = await createTenant(sql);
  await sql`insert into public.evidence (tenant_id, content, content_text)
            values (${t.id}, '{}', 'will fail once')`;
  const broken: Embedder = {
    ...hashTestEmbedder(),
    embed: () => Promise.reject(new Error("provider unavailable (503)")),
  };
  const failed = await reindex(t.id, broken, {
    backoff: { baseMs: 60_000, maxMs: 60_000 },
    random: () => 0.5,
  });
  assert.equal(failed.status, "succeeded");
  assert.equal(failed.counts.failed, 1);
  const [q] = await queued(t.id);
  assert.equal(q.attempts, 1);
  assert.equal(q.last_error, "provider unavailable (503)");
  assert.equal(q.claimed_by, null);
  assert.ok(q.due_in > 20 && q.due_in <= 31, `due in ${q.due_in} s`);
  assert.equal((await embeddings(t.id)).length, 0);

  // Not due yet: nothing to claim. Once due, it is embedded and leaves the queue.
  assert.equal((await reindex(t.id)).counts.claimed ?? 0, 0);
  await sql`update internal.embedding_queue set next_attempt_at = now() where tenant_id = ${t.id}`;
  const ok = await reindex(t.id);
  assert.equal(ok.counts.embedded, 1);
  assert.equal((await queued(t.id)).length, 0);
});

Deno.test("reindexer: content changed while it was being embedded is embedded again", async () => {
  const t = await createTenant(sql);
  const [{ id }] = await sql`
    insert into public.evidence (tenant_id, content, content_text)
    values (${t.id}, '{}', 'first version') returning id::text`;
  const base = hashTestEmbedder();
  let edited = false;
  const editing: Embedder = {
    ...base,
    embed: async (texts) => {
      if (!edited) {
        edited = true;
        await sql`update public.evidence set content_text = 'second version' where id = ${id}`;
      }
      return await base.embed(texts);
    },
  };
  // One run: the first pass stores 'first version', then the bumped generation makes the
  // row due again and the same run embeds the second version.
  await reindex(t.id, editing);
  const rows = await embeddings(t.id);
  assert.deepEqual(rows.map((r) => r.content), ["second version"]);
  assert.equal((await queued(t.id)).length, 0);
});

Deno.test("reindexer: proposal summaries and audit entries are embedded too", async () => {
  const t = await createTenant(sql);
  const [{ id: approval }] = await sql`
    insert into public.approvals (tenant_id, decision, proposal_summary)
    values (${t.id}, 'approved', 'Close stale issues older than a year') returning id::text`;
  await sql`insert into public.approvals (tenant_id, decision) values (${t.id}, 'rejected')`;
  const [{ id: audit }] = await sql`
    insert into public.audit_log (tenant_id, actor_type, category, payload)
    values (${t.id}, 'job', 'outbox_succeeded', '{"tool": "GITHUB_CLOSE_ISSUE"}')
    returning id::text`;
  await reindex(t.id);
  // (Audited writes may add audit entries of their own, e.g. for the approvals: not counted.)
  const rows = await embeddings(t.id);
  const mine = rows.filter((r) => r.source_type === "approval" || r.source_id === audit);
  assert.deepEqual(mine.map((r) => [r.source_type, r.source_id, r.content]), [
    ["approval", approval, "Close stale issues older than a year"],
    ["audit", audit, "outbox succeeded: GITHUB_CLOSE_ISSUE"],
  ]);
  assert.equal((await queued(t.id)).length, 0);
});

Deno.test("reindexer nightly: re-embeds the recent window and sources of another model only", async () => {
  const t = await createTenant(sql);
  const [{ id: recent }] = await sql`
    insert into public.evidence (tenant_id, content, content_text)
    values (${t.id}, '{}', 'recent evidence') returning id::text`;
  const [{ id: old }] = await sql`
    insert into public.evidence (tenant_id, content, content_text, created_at)
    values (${t.id}, '{}', 'old evidence', now() - interval '30 days') returning id::text`;
  await reindex(t.id);
  // The old source is known only to another model (as after a provider switch).
  await sql`update public.evidence_embeddings set model = 'gte-small'
            where tenant_id = ${t.id} and source_id = ${old}`;
  // Audited writes (creating the tenant) may have left audit entries of the tenant.
  const [{ n: audits }] = await sql`
    select count(*)::int as n from public.audit_log where tenant_id = ${t.id}`;
  const nightly = await reindex(t.id, undefined, {}, { mode: "nightly", window_days: 7 });
  // Every source of the tenant recorded in the window, and the old one (outside it, but
  // without a vector of the active model).
  assert.equal(nightly.counts.enqueued, 2 + audits);
  // Forced: the recent evidence is embedded again although its hash is unchanged.
  assert.equal(nightly.counts.embedded, 2 + audits);
  const rows = (await embeddings(t.id)).filter((r) => r.source_type === "evidence");
  assert.deepEqual(
    rows.map((r) => [r.source_id, r.model]).sort(),
    [
      [old, "gte-small"],
      [old, "hash-test-v1"],
      [recent, "hash-test-v1"],
    ].sort(),
  );
  // Idempotent: the other-model source now has an active-model vector.
  const again = await reindex(t.id, undefined, {}, { mode: "nightly", window_days: 0 });
  assert.equal(again.counts.enqueued ?? 0, 0);
});

Deno.test("reindexer: dry run reports what is due and claims nothing", async () => {
  const t = await createTenant(sql);
  await sql`insert into public.evidence (tenant_id, content, content_text)
            values (${t.id}, '{}', 'x'), (${t.id}, '{}', 'y')`;
  const dry = await reindex(t.id, undefined, {}, { dry_run: true });
  assert.equal(dry.details?.due, 2);
  assert.equal((await queued(t.id)).filter((q) => q.claimed_by === null).length, 2);
});

Deno.test("metrics: queue size by state and stored vectors by model, from the database", async () => {
  const t = await createTenant(sql);
  await sql`insert into public.evidence (tenant_id, content, content_text)
            values (${t.id}, '{}', 'counted')`;
  const metrics = await embeddingMetrics(sql as never);
  const byName = Object.fromEntries(metrics.map((m) => [m.name, m]));
  const queue = byName.embedding_queue_size.samples;
  const [{ queued, due }] = await sql`
    select count(*)::float8 as queued,
           count(*) filter (where next_attempt_at <= now())::float8 as due
    from internal.embedding_queue`;
  assert.equal(queue.find((s) => s.labels?.state === "queued")?.value, queued);
  assert.ok((queue.find((s) => s.labels?.state === "due")?.value ?? 0) <= due);
  assert.ok(byName.embedding_queue_oldest_due_seconds.samples[0].value >= 0);
  const models = byName.evidence_embeddings_rows.samples.map((s) => s.labels?.model);
  assert.ok(models.includes("hash-test-v1"), models.join(","));
});

Deno.test({
  name: "reindexer tests: resume the schedules",
  fn: async () => {
    await resume();
    await sql.end();
  },
  sanitizeOps: false,
  sanitizeResources: false,
});
