import assert from "node:assert/strict";
import {
  chunkText,
  contentHash,
  estimateTokens,
  extractText,
  flattenJson,
} from "./embeddings_chunk.ts";

Deno.test("extractText: evidence prefers content_text, else the JSON's scalars", () => {
  assert.equal(
    extractText("evidence", { content_text: "  Issue 42:\n Login  fails ", content: { x: 1 } }),
    "Issue 42: Login fails",
  );
  assert.equal(
    extractText("evidence", {
      content_text: null,
      content: { issues: [{ number: 7, title: "Crash on start", state: "open" }] },
    }),
    "number 7; Crash on start; open",
  );
});

Deno.test("extractText: audit is category and payload, approval its proposal summary", () => {
  assert.equal(
    extractText("audit", {
      category: "outbox_succeeded",
      payload: { tool: "GITHUB_GET_ISSUE", attempts: 2 },
    }),
    "outbox succeeded: GITHUB_GET_ISSUE; attempts 2",
  );
  assert.equal(extractText("audit", { category: "catalog_sync", payload: {} }), "catalog sync");
  assert.equal(
    extractText("approval", { proposal_summary: "Close issue 42", decision: "approved" }),
    "Close issue 42",
  );
  assert.equal(extractText("approval", { proposal_summary: null }), "");
});

Deno.test("flattenJson keeps order and skips nulls", () => {
  assert.equal(flattenJson({ a: null, b: [true, "x"], c: { d: 1.5 } }), "b true; x; d 1.5");
  assert.equal(flattenJson(null), "");
});

Deno.test("chunkText: chunks stay within the token budget, overlap, and cover every word", () => {
  const words = Array.from({ length: 2000 }, (_, i) => `word${i}`);
  const text = words.join(" ");
  const chunks = chunkText(text, { maxTokens: 512, overlapWords: 16 });
  assert.ok(chunks.length > 1);
  for (const c of chunks) assert.ok(estimateTokens(c) <= 510, `${estimateTokens(c)}`);
  const seen = new Set(chunks.flatMap((c) => c.split(" ")));
  assert.equal(seen.size, words.length);
  // Neighbours share their boundary words.
  const first = chunks[0].split(" "), second = chunks[1].split(" ");
  assert.deepEqual(first.slice(-16), second.slice(0, 16));
  assert.deepEqual(chunkText("short text", { maxTokens: 512 }), ["short text"]);
  assert.deepEqual(chunkText("   ", { maxTokens: 512 }), []);
  assert.throws(() => chunkText("x", { maxTokens: 5 }), /maxTokens must be at least 10, got 5/);
});

Deno.test("chunkText: a word longer than the budget is cut by characters", () => {
  const chunks = chunkText("a".repeat(100), { maxTokens: 10 });
  assert.deepEqual(chunks.map((c) => c.length), [32, 32, 32, 4]);
});

Deno.test("estimateTokens over-counts words and counts punctuation", () => {
  assert.equal(estimateTokens("hello, world"), 2 + 1 + 2);
  assert.equal(estimateTokens(""), 0);
});

Deno.test("contentHash is SHA-256 hex, as the seed computes it in SQL", async () => {
  assert.equal(
    await contentHash("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});
