import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson, sha256Hex } from "./canonical_json.ts";
import {
  actionVerb,
  canonicalJsonOfData,
  type ComposioToolInput,
  contentHash,
  normalizeTool,
  riskTier,
  toCatalogTool,
  toCatalogToolText,
} from "./catalog_normalize.ts";

Deno.test("riskTier: hint tags first, then the slug's action verb", () => {
  const table: [tags: string[], slug: string, risk: string, readOnly: boolean][] = [
    [["readOnlyHint"], "GITHUB_CREATE_ISSUE", "low", true],
    [["destructiveHint"], "GITHUB_LIST_ISSUES", "high", false],
    [["readOnlyHint", "destructiveHint"], "X_GET_Y", "high", false],
    [["createHint"], "GITHUB_LIST_ISSUES", "medium", false],
    [["updateHint", "idempotentHint"], "GITHUB_STAR_REPOSITORY", "medium", false],
    [[], "GITHUB_LIST_ISSUES", "low", true],
    [["important"], "GMAIL_FETCH_EMAILS", "low", true],
    [[], "SLACK_SEARCH_MESSAGES", "low", true],
    [[], "GITHUB_GET_A_REPOSITORY", "low", true],
    [[], "GITHUB_DELETE_REPOSITORY", "high", false],
    [[], "SLACK_REMOVE_REACTION", "high", false],
    [[], "GITHUB_CREATE_ISSUE", "medium", false],
    [[], "GMAIL_SEND_EMAIL", "medium", false],
    [[], "NOTION_DO_SOMETHING", "medium", false],
    // The toolkit prefix is not a verb even when it reads like one.
    [[], "GET_RESPONSE_CREATE_CONTACT", "medium", false],
  ];
  for (const [tags, slug, risk, readOnly] of table) {
    const kit = slug.startsWith("GET_RESPONSE") ? "get_response" : slug.split("_")[0];
    assert.deepEqual(riskTier(tags, slug, kit), { risk, read_only: readOnly }, slug);
  }
});

Deno.test("actionVerb skips the toolkit prefix and unknown words", () => {
  assert.equal(actionVerb("GITHUB_LIST_ISSUES", "github"), "LIST");
  assert.equal(actionVerb("GITHUB_A_LIST", "github"), "LIST");
  assert.equal(actionVerb("GOOGLE_DRIVE_DELETE_FILE", "google-drive"), "DELETE");
  assert.equal(actionVerb("GITHUB_ISSUES", "github"), null);
});

const tool: ComposioToolInput = {
  slug: "GITHUB_LIST_ISSUES",
  name: "List issues",
  description: "Lists issues.",
  toolkit: { slug: "GitHub" },
  input_parameters: {
    type: "object",
    properties: { b: { type: "string" }, a: { type: "integer" } },
  },
  output_parameters: {},
  tags: ["readOnlyHint", "important", "readOnlyHint"],
  scopes: ["repo", "admin"],
  version: "20250909_00",
};

Deno.test("normalizeTool: lowercase toolkit, tags and scopes as sorted sets, risk", () => {
  const row = normalizeTool(tool, "20250909_00");
  assert.equal(row.toolkit, "github");
  assert.deepEqual(row.tags, ["important", "readOnlyHint"]);
  assert.deepEqual(row.required_scopes, ["admin", "repo"]);
  assert.equal(row.risk, "low");
  assert.equal(row.read_only, true);
  assert.equal(row.display_name, "List issues");
});

Deno.test("contentHash: independent of key and tag order, sensitive to content and version", () => {
  const a = toCatalogTool(tool, "20250909_00");
  const reordered = toCatalogTool({
    ...tool,
    tags: ["important", "readOnlyHint"],
    input_parameters: {
      properties: { a: { type: "integer" }, b: { type: "string" } },
      type: "object",
    },
  }, "20250909_00");
  assert.equal(a.content_hash, reordered.content_hash);
  assert.match(a.content_hash, /^sha256:[0-9a-f]{64}$/);
  // synced_version says when we looked, not what the tool is.
  assert.equal(a.content_hash, (toCatalogTool(tool, "20991231_00")).content_hash);
  const changed = contentHash(normalizeTool({ ...tool, description: "Other." }, "x"));
  assert.notEqual(a.content_hash, changed);
  const newVersion = contentHash(normalizeTool({ ...tool, version: "20251001_00" }, "x"));
  assert.notEqual(a.content_hash, newVersion);
});

Deno.test("canonicalJsonOfData writes what canonicalJson writes, for any JSON data", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const data = JSON.parse(JSON.stringify(v));
      assert.equal(canonicalJsonOfData(data), canonicalJson(data));
    }),
    { numRuns: 500 },
  );
  const astral = { "\u{1F600}": 1, "\uE000": 2, a: [1, { z: null, y: "\u2028" }] };
  assert.equal(canonicalJsonOfData(astral), canonicalJson(astral));
});

Deno.test("contentHash is sha256 of the canonical JSON without synced_version", async () => {
  const row = normalizeTool(tool, "x");
  const { synced_version: _, ...content } = row;
  assert.equal(contentHash(row), `sha256:${await sha256Hex(canonicalJson(content))}`);
});

Deno.test("toCatalogToolText is toCatalogTool's row as JSON, with its slug and hash", () => {
  for (const t of [tool, { ...tool, tags: [], scopes: [], description: "\u2028 \u{1F600}" }]) {
    const row = toCatalogTool(t, "20250909_00");
    const text = toCatalogToolText(t, "20250909_00");
    assert.deepEqual(JSON.parse(text.json), row);
    assert.equal(text.tool_slug, row.tool_slug);
    assert.equal(text.content_hash, row.content_hash);
  }
});
