// What gets embedded: the text of each source type, cut into chunks a model reads whole.
// Pure functions, no I/O.
//
// Token counts are estimates (no tokenizer ships here): WordPiece and BPE split a word into
// pieces of ~4 characters, punctuation into one token each. The estimate counts
// ceil(length / 4) per word, which over-counts for common English words, so a chunk within
// the estimate stays within the model's real limit (gte-small truncates at 512 tokens).

export type SourceType = "evidence" | "audit" | "approval";

/** Source fields as embedding_sources() returns them. */
export interface SourceFields {
  // evidence
  tool_slug?: string | null;
  content?: unknown;
  content_text?: string | null;
  // audit
  category?: string | null;
  actor_type?: string | null;
  payload?: unknown;
  // approval
  decision?: string | null;
  reason?: string | null;
  proposal_summary?: string | null;
}

/** Longest text taken from one source; beyond it, search has what it needs. */
export const maxSourceChars = 32_000;

/** The text to embed for a source, '' when it has none (then its embeddings are removed). */
export function extractText(type: SourceType, f: SourceFields): string {
  let text: string;
  switch (type) {
    case "evidence":
      text = f.content_text?.trim() ? f.content_text : flattenJson(f.content);
      break;
    case "audit": {
      const details = flattenJson(f.payload);
      text = f.category ? `${f.category.replaceAll("_", " ")}${details ? `: ${details}` : ""}` : "";
      break;
    }
    case "approval":
      text = f.proposal_summary ?? "";
      break;
  }
  return text.replace(/\s+/g, " ").trim().slice(0, maxSourceChars);
}

/** `key value; key value` of every scalar in a JSON value, depth first. */
export function flattenJson(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown, key: string | null, depth: number) => {
    if (v === null || v === undefined || depth > 8) return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, key, depth + 1);
    } else if (typeof v === "object") {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, k, depth + 1);
    } else {
      const s = String(v).trim();
      if (s) parts.push(key && typeof v !== "string" ? `${key.replaceAll("_", " ")} ${s}` : s);
    }
  };
  walk(value, null, 0);
  return parts.join("; ");
}

const pieceRe = /[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu;

/** Estimated tokens of a text (see the header). */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const m of text.matchAll(pieceRe)) n += Math.ceil(m[0].length / 4);
  return n;
}

/**
 * Cuts text into chunks of at most `maxTokens` estimated tokens (2 are left for the
 * model's [CLS]/[SEP]), at whitespace, with `overlapWords` words repeated between
 * neighbours so a sentence cut in two is still found. '' gives no chunks.
 */
export function chunkText(
  text: string,
  opts: { maxTokens: number; overlapWords?: number },
): string[] {
  const budget = opts.maxTokens - 2;
  if (!(budget >= 8)) throw new RangeError(`maxTokens must be at least 10, got ${opts.maxTokens}`);
  const overlap = opts.overlapWords ?? 16;
  const words = text.split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const cost = words.map((w) => Math.max(1, estimateTokens(w)));
  const chunks: string[] = [];
  let start = 0;
  while (start < words.length) {
    let end = start, used = 0;
    while (end < words.length && used + cost[end] <= budget) used += cost[end++];
    if (end === start) {
      // One word longer than the budget: cut it by characters.
      const w = words[start];
      const chars = budget * 4;
      for (let i = 0; i < w.length; i += chars) chunks.push(w.slice(i, i + chars));
      start++;
      continue;
    }
    chunks.push(words.slice(start, end).join(" "));
    if (end >= words.length) break;
    start = Math.max(start + 1, end - overlap);
  }
  return chunks;
}

/** Lowercase hex SHA-256 of the UTF-8 text: content_hash of a chunk. */
export async function contentHash(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}
