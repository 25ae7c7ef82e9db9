// One Composio tool as its listing gives it: the zod schema (unknown fields dropped), a fast
// path that builds zod's output without its per-item copies, and the per-item error a
// malformed tool becomes (the rest of its page is kept).
import { z } from "zod";
import type { ComposioToolInput } from "./catalog_normalize.ts";

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

// A JSON object taken as it is (no per-key copy: schemas are large and many).
const jsonObject = z.custom<Record<string, unknown>>(isObject, "expected a JSON object");
const stringList = z.array(z.string()).nullish().transform((v) => v ?? []);

/** Whether Composio's `deprecated` object (`{is_deprecated, version, …}`) says deprecated. */
const deprecatedObjectSays = (v: unknown): boolean => isObject(v) && v.is_deprecated === true;

/**
 * A tool as Composio lists it; unknown fields are dropped. `is_deprecated` is true when
 * either the tool's flag or its `deprecated` object says so (the object is read leniently:
 * a tool is never refused for its shape).
 */
export const composioToolSchema = z.object({
  slug: z.string().min(1),
  name: z.string(),
  description: z.string().nullish().transform((v) => v ?? ""),
  toolkit: z.object({ slug: z.string().min(1) }),
  input_parameters: jsonObject,
  output_parameters: jsonObject.nullish().transform((v) => v ?? {}),
  tags: stringList,
  scopes: stringList,
  version: z.string().min(1),
  available_versions: stringList,
  is_deprecated: z.boolean().nullish(),
  deprecated: z.unknown().optional(),
}).transform(({ is_deprecated, deprecated, ...tool }) => ({
  ...tool,
  is_deprecated: is_deprecated === true || deprecatedObjectSays(deprecated),
}));
export type ComposioTool = z.infer<typeof composioToolSchema> & ComposioToolInput;

// Counts are read leniently: they check the cursor, and a page is never refused for them.
export interface ToolError {
  /** Position in the listing (0-based across pages). */
  index: number;
  /** The slug when the item had a readable one. */
  slug: string | null;
  message: string;
}

/** A copy of a nullish-or-string-array field as stringList gives it, or undefined if not one. */
function stringListOf(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return undefined;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== "string") return undefined;
  return v.slice();
}

/**
 * composioToolSchema's output for an item it accepts, built directly: a page of Composio
 * tools is hundreds of items, and zod's parse of each allocates several times the item's
 * size (bench/RESULTS.md, catalog jobs: that garbage was a large part of a sync's peak
 * memory). Returns null for anything it does not recognise as valid, which zod then parses
 * (and words the error); composio_tools_test.ts checks that whatever this accepts, zod
 * accepts with the same output.
 */
export function parseToolFast(item: unknown): ComposioTool | null {
  if (!isObject(item)) return null;
  const { slug, name, description, toolkit, input_parameters, output_parameters } = item;
  const { version, is_deprecated, deprecated } = item;
  if (typeof slug !== "string" || slug.length < 1 || typeof name !== "string") return null;
  if (description !== undefined && description !== null && typeof description !== "string") {
    return null;
  }
  if (!isObject(toolkit) || typeof toolkit.slug !== "string" || toolkit.slug.length < 1) {
    return null;
  }
  if (!isObject(input_parameters)) return null;
  if (output_parameters !== undefined && output_parameters !== null) {
    if (!isObject(output_parameters)) return null;
  }
  const tags = stringListOf(item.tags);
  const scopes = stringListOf(item.scopes);
  if (!tags || !scopes || typeof version !== "string" || version.length < 1) return null;
  const available_versions = stringListOf(item.available_versions);
  if (!available_versions) return null;
  if (is_deprecated !== undefined && is_deprecated !== null && typeof is_deprecated !== "boolean") {
    return null;
  }
  return {
    slug,
    name,
    description: description ?? "",
    toolkit: { slug: toolkit.slug },
    input_parameters,
    output_parameters: output_parameters ?? {},
    tags,
    scopes,
    version,
    available_versions,
    is_deprecated: is_deprecated === true || deprecatedObjectSays(deprecated),
  };
}

/** Validates one listed item; returns the tool or the error for it. */
export function parseTool(item: unknown, index: number): ComposioTool | ToolError {
  const fast = parseToolFast(item);
  if (fast) return fast;
  const parsed = composioToolSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  const slug = typeof (item as { slug?: unknown })?.slug === "string"
    ? (item as { slug: string }).slug
    : null;
  const message = parsed.error.issues.slice(0, 3)
    .map((i) => `${i.path.join(".") || "(item)"}: ${i.message}`).join("; ");
  return { index, slug, message };
}

export function isToolError(v: ComposioTool | ToolError): v is ToolError {
  return "message" in v && "index" in v && !("input_parameters" in v);
}
