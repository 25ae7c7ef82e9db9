// The pure parts of artifacts.ts: what counts as the output, its cost, and base64 in chunks
// that decode as one (outbox_settle decodes the whole string at once).
import assert from "node:assert/strict";
import fc from "fast-check";
import { artifactCost, artifactCostUnit, outputOf, toBase64 } from "./artifacts.ts";

Deno.test("toBase64 of any bytes decodes back as one string, whatever its length", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100_000 }), (bytes) => {
      const back = Uint8Array.from(atob(toBase64(bytes)), (c) => c.charCodeAt(0));
      assert.deepEqual(back, bytes);
    }),
    { numRuns: 50 },
  );
  // Around and past the chunk size, where a padded chunk in the middle would break it.
  for (const n of [24_575, 24_576, 24_577, 100_001]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7) % 256);
    assert.deepEqual(Uint8Array.from(atob(toBase64(bytes)), (c) => c.charCodeAt(0)), bytes);
  }
});

Deno.test("outputOf is what evidence holds: the answer's data, else the answer", () => {
  assert.deepEqual(outputOf({ data: { a: 1 }, successful: true }), { a: 1 });
  assert.equal(outputOf({ data: null }), null);
  assert.deepEqual(outputOf({ successful: true }), { successful: true });
  assert.deepEqual(outputOf([1, 2]), [1, 2]);
  assert.equal(outputOf(undefined), null);
});

Deno.test("an artifact costs one envelope per cost unit of its bytes, rounded up", () => {
  assert.equal(artifactCost(1), 1);
  assert.equal(artifactCost(artifactCostUnit), 1);
  assert.equal(artifactCost(artifactCostUnit + 1), 2);
});
