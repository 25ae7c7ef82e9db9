import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson, compareCodePoints, sha256Hex } from "./canonical_json.ts";

const examples: { name: string; value: unknown; expected: string }[] = [
  { name: "null", value: null, expected: "null" },
  { name: "true", value: true, expected: "true" },
  { name: "integer", value: 42, expected: "42" },
  { name: "negative zero is 0", value: -0, expected: "0" },
  { name: "float", value: 0.1, expected: "0.1" },
  { name: "large number", value: 1e21, expected: "1e+21" },
  { name: "string with escapes", value: 'a"b\\c\n\u0001', expected: '"a\\"b\\\\c\\n\\u0001"' },
  { name: "empty object", value: {}, expected: "{}" },
  { name: "empty array", value: [], expected: "[]" },
  { name: "keys sorted", value: { b: 1, a: 2, c: 3 }, expected: '{"a":2,"b":1,"c":3}' },
  {
    name: "nested keys sorted, arrays keep order",
    value: { z: [3, { y: 1, x: 2 }, 1], a: { d: null, c: "s" } },
    expected: '{"a":{"c":"s","d":null},"z":[3,{"x":2,"y":1},1]}',
  },
  {
    // JS enumerates integer-like keys first in numeric order; code points put "10" before "9".
    name: "integer-like keys sorted as strings",
    value: { 9: "nine", 10: "ten", a: "a" },
    expected: '{"10":"ten","9":"nine","a":"a"}',
  },
  {
    name: "uppercase sorts before lowercase",
    value: { b: 1, B: 2, a: 3, A: 4 },
    expected: '{"A":4,"B":2,"a":3,"b":1}',
  },
  {
    // U+FFFD sorts after U+1F600 by UTF-16 code unit, before it by code point.
    name: "astral keys sorted by code point",
    value: { "\u{1F600}": 1, "\uFFFD": 2 },
    expected: '{"\uFFFD":2,"\u{1F600}":1}',
  },
  { name: "undefined member dropped", value: { a: undefined, b: 1 }, expected: '{"b":1}' },
  { name: "function member dropped", value: { f: () => 1, b: 1 }, expected: '{"b":1}' },
  { name: "undefined in array is null", value: [undefined, 1], expected: "[null,1]" },
  {
    name: "Date via toJSON",
    value: { at: new Date("2026-03-29T01:00:00Z") },
    expected: '{"at":"2026-03-29T01:00:00.000Z"}',
  },
  {
    name: "boxed primitives",
    value: [Object(1), Object("s"), Object(false)],
    expected: '[1,"s",false]',
  },
  {
    name: "shared acyclic reference is fine",
    value: (() => {
      const shared = { k: 1 };
      return { a: shared, b: [shared] };
    })(),
    expected: '{"a":{"k":1},"b":[{"k":1}]}',
  },
  {
    name: "__proto__ as own key",
    value: JSON.parse('{"__proto__":1,"a":2}'),
    expected: '{"__proto__":1,"a":2}',
  },
];

for (const { name, value, expected } of examples) {
  Deno.test(`canonicalJson: ${name}`, () => {
    assert.equal(canonicalJson(value), expected);
  });
}

const rejected: { name: string; value: unknown; message: RegExp }[] = [
  { name: "NaN", value: { a: NaN }, message: /value\.a is NaN/ },
  { name: "Infinity in array", value: [1, Infinity], message: /value\[1\] is Infinity/ },
  { name: "-Infinity", value: -Infinity, message: /value is -Infinity/ },
  { name: "BigInt", value: { n: 1n }, message: /value\.n is a BigInt/ },
  { name: "top-level undefined", value: undefined, message: /type undefined has no JSON form/ },
  {
    name: "cycle",
    value: (() => {
      const o: Record<string, unknown> = { a: {} };
      (o.a as Record<string, unknown>).back = o;
      return o;
    })(),
    message: /value\.a\.back refers back/,
  },
  {
    name: "array cycle",
    value: (() => {
      const a: unknown[] = [];
      a.push(a);
      return a;
    })(),
    message: /value\[0\] refers back/,
  },
];

for (const { name, value, message } of rejected) {
  Deno.test(`canonicalJson rejects ${name} with TypeError`, () => {
    assert.throws(
      () => canonicalJson(value),
      (e) => e instanceof TypeError && message.test(e.message),
    );
  });
}

Deno.test("sha256Hex: known vectors", async () => {
  assert.equal(
    await sha256Hex(""),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    await sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  // UTF-8, not UTF-16: "é" is c3 a9.
  assert.equal(
    await sha256Hex("\u00e9"),
    "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c",
  );
  assert.equal(
    await sha256Hex(canonicalJson({ b: 1, a: 2 })),
    "d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772",
  );
});

Deno.test("sha256Hex rejects a non-string with TypeError", async () => {
  await assert.rejects(() => sha256Hex(42 as unknown as string), TypeError);
});

// Rebuilds a JSON value with every object's keys in an order chosen by the seed. Object
// .fromEntries defines own properties, so a "__proto__" key stays a plain key.
function reorderKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => reorderKeys(v, seed + i));
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v], i) =>
      [k, reorderKeys(v, seed ^ i)] as const
    );
    const rotated = entries.length === 0 ? entries : [
      ...entries.slice(seed % entries.length),
      ...entries.slice(0, seed % entries.length),
    ];
    if (seed % 2 === 1) rotated.reverse();
    return Object.fromEntries(rotated);
  }
  return value;
}

// JSON has no -0: JSON.parse gives 0 back, so compare against x with -0 written as 0.
function withoutNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)]));
  }
  return value;
}

Deno.test("property: key order never changes the output", () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.nat(), (value, seed) => {
      assert.equal(canonicalJson(reorderKeys(value, seed)), canonicalJson(value));
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: parse(canonical(x)) deep-equals x for JSON values", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.deepEqual(JSON.parse(canonicalJson(value)), withoutNegativeZero(value));
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: canonical text is a fixed point and has no whitespace outside strings", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const text = canonicalJson(value);
      assert.equal(canonicalJson(JSON.parse(text)), text);
      // Outside string literals there is nothing but JSON punctuation and literals.
      const outsideStrings = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      assert.doesNotMatch(outsideStrings, /\s/);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: compareCodePoints agrees with comparing code point arrays", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
      const pa = [...a].map((c) => c.codePointAt(0)!);
      const pb = [...b].map((c) => c.codePointAt(0)!);
      let expected = 0;
      for (let i = 0; i < Math.max(pa.length, pb.length) && expected === 0; i++) {
        if (i >= pa.length) expected = -1;
        else if (i >= pb.length) expected = 1;
        else if (pa[i] !== pb[i]) expected = pa[i] < pb[i] ? -1 : 1;
      }
      assert.equal(compareCodePoints(a, b), expected);
      assert.equal(compareCodePoints(b, a), expected === 0 ? 0 : -expected);
    }),
  );
});
