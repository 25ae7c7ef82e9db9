// The embedding-reindexer job: claim due sources from the queue, extract and chunk their
// text, embed the chunks whose content hash changed, store them in one statement, and
// complete the claims — or keep them queued with their error and a backoff. In nightly
// mode it first enqueues the recent window and the sources embedded only by another model.
import { z } from "zod";
import { backoffDelay, type BackoffPolicy } from "../_shared/backoff.ts";
import { type Embedder, toPgVector } from "../_shared/embeddings.ts";
import {
  chunkText,
  contentHash,
  extractText,
  type SourceFields,
  type SourceType,
} from "../_shared/embeddings_chunk.ts";
import { jobBodyFields, type JobContext, type JobDefinition } from "../_shared/job.ts";
import {
  type ChunkRow,
  claimDueSources,
  type ClaimedSource,
  completeClaims,
  countDue,
  enqueueStale,
  failClaims,
  readSources,
  storeChunks,
} from "./queue.ts";

export const slug = "embedding-reindexer";

export const reindexBody = z.strictObject({
  ...jobBodyFields,
  /** queue: drain the queue (every minute). nightly: enqueue the refresh, then drain. */
  mode: z.enum(["queue", "nightly"]).optional(),
  /** Nightly: re-embed sources recorded in the last window_days days (default 7). */
  window_days: z.number().int().min(0).max(365).optional(),
  /** Sources claimed per batch (default 32). */
  batch_size: z.number().int().min(1).max(500).optional(),
});
export type ReindexBody = z.infer<typeof reindexBody>;

export interface ReindexOptions {
  /** Backoff of a failed batch (default 10 s doubling up to 1 h, full jitter). */
  backoff?: BackoffPolicy;
  /** How long a claim is held before another run may take it (default 120 s). */
  leaseMs?: number;
  /** Texts per embed() call (default 64). */
  embedBatch?: number;
  /** Randomness of the backoff's jitter (tests fix it). */
  random?: () => number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 10_000, maxMs: 3_600_000 };

const key = (s: { source_type: string; source_id: string }) => `${s.source_type}:${s.source_id}`;

export function reindexJob(
  getEmbedder: () => Promise<Embedder>,
  opts: ReindexOptions = {},
): JobDefinition<typeof reindexBody> {
  return {
    slug,
    schema: reindexBody,
    defaultBudgetMs: 50_000,
    run: async (ctx) => {
      const { sql, body } = ctx;
      const embedder = await getEmbedder();
      const details: Record<string, unknown> = {
        model: embedder.model,
        mode: body.mode ?? "queue",
      };
      if (body.dry_run) {
        return { details: { ...details, due: await countDue(sql, body.tenant_id) } };
      }
      // Nightly: enqueue once; the runner's re-invocations (depth > 0) only drain.
      if (body.mode === "nightly" && (body.depth ?? 0) === 0) {
        const lease = await ctx.acquireLease(`nightly:${body.tenant_id ?? "all"}`, 600_000);
        if (!lease) return { skipped: "another nightly run is enqueueing" };
        const days = body.window_days ?? 7;
        const since = new Date(Date.now() - days * 86_400_000);
        ctx.count("enqueued", await enqueueStale(sql, embedder.model, since, body.tenant_id));
        details.since = since.toISOString();
      }
      const batch = body.batch_size ?? 32;
      const limit = body.limit ?? Number.POSITIVE_INFINITY;
      let claimedTotal = 0;
      let remaining = false;
      const timings: StepTimings = { claim: 0, read: 0, embed: 0, store: 0, complete: 0 };
      while (true) {
        if (ctx.outOfTime() || claimedTotal >= limit) {
          remaining = (await countDue(sql, body.tenant_id)) > 0;
          break;
        }
        const t0 = performance.now();
        const claimed = await claimDueSources(
          sql,
          ctx.runId,
          Math.min(batch, limit - claimedTotal),
          opts.leaseMs ?? 120_000,
          body.tenant_id,
        );
        timings.claim += performance.now() - t0;
        if (claimed.length === 0) break;
        claimedTotal += claimed.length;
        await processBatch(ctx, embedder, claimed, opts, timings);
      }
      details.step_ms = Object.fromEntries(
        Object.entries(timings).map(([k, v]) => [k, Math.round(v)]),
      );
      return { remaining, details };
    },
  };
}

/** Wall time per step of a run, in ms (reported in the summary's details.step_ms). */
export interface StepTimings {
  claim: number;
  read: number;
  embed: number;
  store: number;
  complete: number;
}

/** One claimed batch, start to finish. Never throws for an embedding failure. */
export async function processBatch(
  ctx: JobContext<ReindexBody>,
  embedder: Embedder,
  claimed: ClaimedSource[],
  opts: ReindexOptions = {},
  timings: StepTimings = { claim: 0, read: 0, embed: 0, store: 0, complete: 0 },
): Promise<void> {
  const { sql } = ctx;
  ctx.count("claimed", claimed.length);
  let t = performance.now();
  const lap = (step: keyof StepTimings) => {
    const now = performance.now();
    timings[step] += now - t;
    t = now;
  };
  const sources = new Map(
    (await readSources(sql, claimed, embedder.model)).map((s) => [key(s), s]),
  );
  const pending: Omit<ChunkRow, "embedding">[] = [];
  const processed: { source_type: SourceType; source_id: string; chunks: number }[] = [];
  for (const c of claimed) {
    const s = sources.get(key(c));
    if (!s?.found || !s.fields) {
      ctx.count("missing");
      processed.push({ source_type: c.source_type, source_id: c.source_id, chunks: 0 });
      continue;
    }
    const chunks = chunkText(extractText(c.source_type, s.fields), {
      maxTokens: embedder.maxTokens,
    });
    processed.push({ source_type: c.source_type, source_id: c.source_id, chunks: chunks.length });
    for (let i = 0; i < chunks.length; i++) {
      const hash = await contentHash(chunks[i]);
      if (!c.force && s.hashes[String(i)] === hash) {
        ctx.count("unchanged");
        continue;
      }
      pending.push({
        tenant_id: s.tenant_id ?? c.tenant_id,
        source_type: c.source_type,
        source_id: c.source_id,
        chunk: i,
        content_hash: hash,
        content: chunks[i],
        metadata: { ...resultMetadata(c.source_type, s.fields), chunks: chunks.length },
        source_created_at: s.created_at ? new Date(s.created_at).toISOString() : null,
      });
    }
  }
  lap("read");
  try {
    const rows: ChunkRow[] = [];
    const step = opts.embedBatch ?? 64;
    for (let i = 0; i < pending.length; i += step) {
      const part = pending.slice(i, i + step);
      const vectors = await embedder.embed(part.map((p) => p.content));
      part.forEach((p, j) => rows.push({ ...p, embedding: toPgVector(vectors[j]) }));
    }
    lap("embed");
    ctx.count("embedded", await storeChunks(sql, embedder.model, rows, processed));
    lap("store");
    ctx.count("completed", await completeClaims(sql, ctx.runId, claimed));
    lap("complete");
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    const policy = opts.backoff ?? defaultBackoff;
    const items = claimed.map((c) => ({
      source_type: c.source_type,
      source_id: c.source_id,
      delay_ms: backoffDelay(c.attempts + 1, policy, opts.random),
    }));
    ctx.count("failed", await failClaims(sql, ctx.runId, items, message));
    ctx.log.warn("embedding_batch_failed", { error: message, sources: claimed.length });
  }
}

/** What a search result shows about its source besides the text. */
export function resultMetadata(type: SourceType, f: SourceFields): Record<string, unknown> {
  switch (type) {
    case "evidence":
      return { tool_slug: f.tool_slug ?? null };
    case "audit":
      return { category: f.category ?? null, actor_type: f.actor_type ?? null };
    case "approval":
      return { decision: f.decision ?? null };
  }
}
