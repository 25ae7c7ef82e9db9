// The reindexer's SQL steps, one call each: claim due sources, read them, store chunks,
// complete or fail the claims, enqueue the nightly refresh. The SQL lives in the
// migration (internal.embedding_*), one statement per function.
import type { Sql } from "../_shared/db.ts";
import type { SourceFields, SourceType } from "../_shared/embeddings_chunk.ts";

export interface ClaimedSource {
  source_type: SourceType;
  source_id: string;
  tenant_id: string;
  generation: string;
  force: boolean;
  attempts: number;
}

export interface SourceRow {
  source_type: SourceType;
  source_id: string;
  tenant_id: string | null;
  found: boolean;
  created_at: Date | null;
  fields: SourceFields | null;
  /** chunk number → content_hash of the stored chunks of the active model. */
  hashes: Record<string, string>;
}

export interface ChunkRow {
  tenant_id: string;
  source_type: SourceType;
  source_id: string;
  chunk: number;
  content_hash: string;
  content: string;
  embedding: string;
  metadata: Record<string, unknown>;
  source_created_at: string | null;
}

export async function claimDueSources(
  sql: Sql,
  holder: string,
  limit: number,
  leaseMs: number,
  tenantId?: string,
): Promise<ClaimedSource[]> {
  const rows = await sql`
    select source_type, source_id, tenant_id::text, generation::text, force, attempts
    from internal.embedding_queue_claim(${holder}, ${limit}, ${leaseMs}, ${tenantId ?? null})`;
  return rows as unknown as ClaimedSource[];
}

export async function readSources(
  sql: Sql,
  keys: { source_type: string; source_id: string }[],
  model: string,
): Promise<SourceRow[]> {
  const rows = await sql`
    select source_type, source_id, tenant_id::text, found, created_at, fields, hashes
    from internal.embedding_sources(${sql.json(keys)}, ${model})`;
  return rows as unknown as SourceRow[];
}

export async function storeChunks(
  sql: Sql,
  model: string,
  rows: ChunkRow[],
  sources: { source_type: string; source_id: string; chunks: number }[],
): Promise<number> {
  const [r] = await sql`
    select internal.embeddings_store(${model}, ${sql.json(rows as never)},
                                     ${sql.json(sources)}) as n`;
  return r.n as number;
}

export async function completeClaims(
  sql: Sql,
  holder: string,
  items: { source_type: string; source_id: string; generation: string }[],
): Promise<number> {
  const [r] = await sql`
    select internal.embedding_queue_complete(${holder}, ${sql.json(items)}) as n`;
  return r.n as number;
}

export async function failClaims(
  sql: Sql,
  holder: string,
  items: { source_type: string; source_id: string; delay_ms: number }[],
  error: string,
): Promise<number> {
  const [r] = await sql`
    select internal.embedding_queue_fail(${holder}, ${sql.json(items)}, ${error}) as n`;
  return r.n as number;
}

export async function enqueueStale(
  sql: Sql,
  model: string,
  since: Date,
  tenantId?: string,
): Promise<number> {
  const [r] = await sql`
    select internal.embedding_queue_enqueue_stale(${model}, ${since}, ${tenantId ?? null}) as n`;
  return r.n as number;
}

export async function countDue(sql: Sql, tenantId?: string): Promise<number> {
  const [r] = await sql`
    select count(*)::int as n from internal.embedding_queue
    where next_attempt_at <= now() and (${tenantId ?? null}::uuid is null or tenant_id = ${
    tenantId ?? null
  }::uuid)`;
  return r.n as number;
}
