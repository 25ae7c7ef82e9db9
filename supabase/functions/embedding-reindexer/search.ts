// POST /embedding-reindexer/search: a user (JWT) searches their tenant's evidence by
// meaning. The query is embedded with the active provider; the SQL search functions run
// as the user (withUserContext), so RLS scopes them to the token's tenant.
import type { Hono } from "hono";
import { z } from "zod";
import { type AppContext, type AppEnv, parseJsonBody } from "../_shared/app.ts";
import { type Claims, serviceDb, type Sql, withUserContext } from "../_shared/db.ts";
import { type Embedder, toPgVector } from "../_shared/embeddings.ts";
import { chunkText } from "../_shared/embeddings_chunk.ts";
import { ApiError, badRequest, forbidden } from "../_shared/errors.ts";
import { tenantUser } from "../_shared/middleware/caller.ts";

export const searchBody = z.strictObject({
  query: z.string().trim().min(1).max(4000),
  k: z.number().int().min(1).max(100).optional(),
  source_types: z.array(z.enum(["evidence", "audit", "approval"])).min(1).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  mode: z.enum(["vector", "hybrid"]).optional(),
});
export type SearchBody = z.infer<typeof searchBody>;

export interface SearchResult {
  id: string;
  source_type: string;
  source_id: string;
  chunk: number;
  content: string;
  metadata: Record<string, unknown>;
  source_created_at: string;
  /** vector: cosine similarity; hybrid: the reciprocal-rank-fusion score. */
  score: number;
  similarity: number;
  vector_rank?: number | null;
  text_rank?: number | null;
}

/** Runs a search in `sql`'s context (a user transaction: RLS applies). */
export async function searchEvidence(
  sql: Sql,
  model: string,
  queryVector: number[],
  body: SearchBody,
): Promise<SearchResult[]> {
  const k = body.k ?? 10;
  const vec = toPgVector(queryVector);
  const types = body.source_types ?? null;
  const since = body.since ?? null;
  const until = body.until ?? null;
  if ((body.mode ?? "hybrid") === "vector") {
    const rows = await sql`
      select id::text, source_type, source_id, chunk, content, metadata, source_created_at,
             similarity
      from public.search_evidence(${vec}::extensions.vector, ${model}, ${k}, ${types}::text[],
                                  ${since}::timestamptz, ${until}::timestamptz)`;
    return rows.map((r) => ({ ...r, score: r.similarity }) as unknown as SearchResult);
  }
  const rows = await sql`
    select id::text, source_type, source_id, chunk, content, metadata, source_created_at,
           score, similarity, vector_rank, text_rank
    from public.search_evidence_hybrid(${body.query}, ${vec}::extensions.vector, ${model}, ${k},
                                       ${types}::text[], ${since}::timestamptz,
                                       ${until}::timestamptz)`;
  return [...rows] as unknown as SearchResult[];
}

/**
 * One search from the caller's per-minute budget (plans.search_per_minute), spent in its own
 * transaction before the model runs: a spent budget answers 429 with Retry-After, and a
 * caller who is no longer a member of the token's tenant 403, without embedding anything.
 */
async function spendSearchBudget(claims: Claims): Promise<void> {
  let row;
  try {
    [row] = await withUserContext(
      serviceDb(),
      claims,
      (tx) =>
        tx`select granted, retry_after_seconds, limit_per_minute
                   from public.search_budget_take()`,
    );
  } catch (err) {
    if ((err as { code?: string }).code === "42501") {
      throw forbidden("the token's user is not a member of its tenant");
    }
    throw err;
  }
  if (!row.granted) {
    throw new ApiError(
      429,
      "rate_limited",
      `search budget spent: ${row.limit_per_minute} searches per minute; retry in ${row.retry_after_seconds} s`,
      { limit_per_minute: row.limit_per_minute, retry_after_seconds: row.retry_after_seconds },
      { "retry-after": String(row.retry_after_seconds) },
    );
  }
}

export function mountSearch(app: Hono<AppEnv>, getEmbedder: () => Promise<Embedder>) {
  app.post("/search", tenantUser(), async (c: AppContext) => {
    const claims = c.get("claims");
    const body = await parseJsonBody(c, searchBody);
    if (body.since && body.until && Date.parse(body.since) >= Date.parse(body.until)) {
      throw badRequest("invalid_body", "body.until: must be after body.since");
    }
    await spendSearchBudget(claims);
    const embedder = await getEmbedder();
    // A query longer than the model reads is cut to its first chunk.
    const [text] = chunkText(body.query, { maxTokens: embedder.maxTokens });
    const [vector] = await embedder.embed([text]);
    const results = await withUserContext(
      serviceDb(),
      claims,
      (tx) => searchEvidence(tx as unknown as Sql, embedder.model, vector, body),
    );
    return c.json({
      model: embedder.model,
      mode: body.mode ?? "hybrid",
      k: body.k ?? 10,
      results,
    });
  });
}
