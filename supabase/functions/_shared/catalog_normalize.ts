// A Composio tool as the catalog stores it: normalised fields, a risk tier, and a content hash
// over the canonical JSON of the normalised record, so that an unchanged tool hashes the same
// whatever key order or tag order Composio sent. Pure: no I/O.
//
// Risk tier, first rule that applies:
//   1. tag destructiveHint                         → high
//   2. tag readOnlyHint                            → low, read-only
//   3. tag createHint or updateHint                → medium
//   4. the slug's action verb (the first word after the toolkit prefix that is a known verb):
//      LIST, GET, FETCH, SEARCH, FIND, READ, QUERY → low, read-only
//      DELETE, REMOVE, DESTROY, PURGE, ERASE       → high
//   5. otherwise                                   → medium
// destructiveHint wins over readOnlyHint: a tool that claims both is treated as the worse.

import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical_json.ts";

export type Risk = "low" | "medium" | "high";

/** The fields of a Composio tool the catalog uses (validated by composio_tool.ts). */
export interface ComposioToolInput {
  slug: string;
  name: string;
  description: string;
  toolkit: { slug: string };
  input_parameters: Record<string, unknown>;
  output_parameters: Record<string, unknown>;
  tags: string[];
  scopes: string[];
  version: string;
}

/** One tool_catalog row as internal.catalog_upsert takes it. */
export interface CatalogTool {
  tool_slug: string;
  toolkit: string;
  display_name: string;
  description: string;
  version: string;
  input_schema: Record<string, unknown>;
  output_schema: Record<string, unknown>;
  required_scopes: string[];
  tags: string[];
  risk: Risk;
  read_only: boolean;
  synced_version: string;
  content_hash: string;
}

const READ_VERBS = new Set(["LIST", "GET", "FETCH", "SEARCH", "FIND", "READ", "QUERY"]);
const DESTRUCTIVE_VERBS = new Set(["DELETE", "REMOVE", "DESTROY", "PURGE", "ERASE"]);
const WRITE_VERBS = new Set([
  "CREATE",
  "UPDATE",
  "SEND",
  "ADD",
  "POST",
  "PUT",
  "PATCH",
  "SET",
  "MODIFY",
  "MOVE",
  "ARCHIVE",
  "STAR",
  "INVITE",
  "UPLOAD",
  "REPLY",
]);

/** The slug's action verb: the first word after the toolkit prefix that is a known verb. */
export function actionVerb(slug: string, toolkit: string): string | null {
  const words = slug.toUpperCase().split("_").filter(Boolean);
  const prefix = toolkit.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  let start = 0;
  while (start < prefix.length && words[start] === prefix[start]) start++;
  for (const w of words.slice(start)) {
    if (READ_VERBS.has(w) || DESTRUCTIVE_VERBS.has(w) || WRITE_VERBS.has(w)) return w;
  }
  return null;
}

/** Risk tier and read-only flag from Composio's hint tags, else from the slug's verb. */
export function riskTier(
  tags: readonly string[],
  slug: string,
  toolkit: string,
): { risk: Risk; read_only: boolean } {
  const has = (t: string) => tags.includes(t);
  if (has("destructiveHint")) return { risk: "high", read_only: false };
  if (has("readOnlyHint")) return { risk: "low", read_only: true };
  if (has("createHint") || has("updateHint")) return { risk: "medium", read_only: false };
  const verb = actionVerb(slug, toolkit);
  if (verb && READ_VERBS.has(verb)) return { risk: "low", read_only: true };
  if (verb && DESTRUCTIVE_VERBS.has(verb)) return { risk: "high", read_only: false };
  return { risk: "medium", read_only: false };
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** The catalog row for a tool, without its hash. Tags and scopes are sets (sorted, unique). */
export function normalizeTool(
  tool: ComposioToolInput,
  syncedVersion: string,
): Omit<CatalogTool, "content_hash"> {
  const toolkit = tool.toolkit.slug.toLowerCase();
  const tags = sortedUnique(tool.tags);
  return {
    tool_slug: tool.slug,
    toolkit,
    display_name: tool.name,
    description: tool.description,
    version: tool.version,
    input_schema: tool.input_parameters,
    output_schema: tool.output_parameters,
    required_scopes: sortedUnique(tool.scopes),
    tags,
    ...riskTier(tags, tool.slug, toolkit),
    synced_version: syncedVersion,
  };
}

// Per key: whether it holds a surrogate (then UTF-16 order and code point order may differ)
// or is an array index. Tool schemas repeat a few hundred keys.
const keyCache = new Map<string, { surrogate: boolean; index: boolean }>();
const surrogate = /[\uD800-\uDFFF]/;

function keyInfo(k: string): { surrogate: boolean; index: boolean } {
  let info = keyCache.get(k);
  if (!info) {
    info = { surrogate: surrogate.test(k), index: indexKey.test(k) };
    if (keyCache.size < 10_000) keyCache.set(k, info);
  }
  return info;
}

// An array-index key ("0", "17"): V8 puts those first, in numeric order, whatever the
// insertion order, so an object with one cannot be re-created in sorted order.
const indexKey = /^(?:0|[1-9][0-9]{0,9})$/;

/** A copy with every object's keys inserted in canonical order, or null if one cannot be. */
function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = sortedCopy(value[i]);
      if (v === null && value[i] !== null) return null;
      out[i] = v;
    }
    return out;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const info = keyInfo(k);
    if (info.surrogate || info.index) return null;
    const v = record[k];
    const copy = sortedCopy(v);
    if (copy === null && v !== null) return null;
    out[k] = copy;
  }
  return out;
}

/**
 * canonicalJson (canonical_json.ts) for plain JSON data, i.e. what JSON.parse returns: the
 * same text, several times faster. It skips what such data cannot contain (toJSON, cycles,
 * non-finite numbers), re-creates objects with their keys inserted in sorted order and lets
 * the native JSON.stringify write them; UTF-16 order equals code point order unless a key
 * holds a surrogate. Objects with such keys, or with array-index keys (which V8 orders
 * numerically), go through canonicalJson. catalog_normalize_test.ts checks the two agree.
 */
export function canonicalJsonOfData(value: unknown): string {
  const copy = sortedCopy(value);
  if (copy === null && value !== null) return canonicalJson(value);
  return JSON.stringify(copy) ?? "null";
}

/**
 * `sha256:<hex>` of the canonical JSON of the normalised record. synced_version is left out
 * (it says when we looked, not what the tool is); the version is in, so a new toolkit
 * version is a new row. Synchronous (node:crypto): a catalog hashes thousands of tools.
 */
export function contentHash(row: Omit<CatalogTool, "content_hash">): string {
  return hashedContent(row).hash;
}

function hashedContent(row: Omit<CatalogTool, "content_hash">): { text: string; hash: string } {
  const { synced_version: _, ...content } = row;
  const text = canonicalJsonOfData(content);
  return { text, hash: `sha256:${createHash("sha256").update(text).digest("hex")}` };
}

export function toCatalogTool(tool: ComposioToolInput, syncedVersion: string): CatalogTool {
  const row = normalizeTool(tool, syncedVersion);
  return { ...row, content_hash: contentHash(row) };
}

/** A tool_catalog row as JSON text, with the slug and hash it is compared by. */
export interface CatalogToolText {
  tool_slug: string;
  content_hash: string;
  /** The CatalogTool as a JSON object (keys in canonical order, then the two not hashed). */
  json: string;
}

/**
 * toCatalogTool's row as JSON text, reusing the canonical JSON the hash is taken over (the
 * row is that object plus synced_version and content_hash): catalog-sync keeps a page's
 * tools only as text while the next page is listed, and sends the changed ones to
 * internal.catalog_upsert without serialising them again.
 */
export function toCatalogToolText(tool: ComposioToolInput, syncedVersion: string): CatalogToolText {
  const row = normalizeTool(tool, syncedVersion);
  const { text, hash } = hashedContent(row);
  return {
    tool_slug: row.tool_slug,
    content_hash: hash,
    json: `${text.slice(0, -1)},"synced_version":${JSON.stringify(syncedVersion)},"content_hash":${
      JSON.stringify(hash)
    }}`,
  };
}
