// Canonical JSON: one byte-exact text per JSON value, so that hashes of tool arguments (dedupe
// keys, audit fingerprints) do not depend on the order in which some client happened to
// build an object.
//
// Rules: object keys sorted recursively by Unicode code point; no whitespace; arrays keep
// their order; numbers, strings and literals are written exactly as JSON.stringify writes
// them (so -0 becomes 0 and "\u2028" stays escaped the way V8 escapes it). Members whose value
// JSON.stringify would drop (undefined, functions, symbols) are dropped, and in arrays they
// become null, again as JSON.stringify does. `toJSON` is honoured (a Date becomes its ISO
// string). Unlike JSON.stringify, NaN and ±Infinity are rejected instead of silently becoming
// null, because a hash over a value that no longer round-trips would name the wrong value.
//
// Sorting is by code point, not by UTF-16 code unit as RFC 8785 (JCS) does: the two differ
// only when keys mix astral characters with BMP characters from U+E000 up, and code point
// order is what Postgres' C collation and most other languages give.

/** Serializes `value` canonically; throws TypeError on cycles, non-finite numbers, BigInt. */
export function canonicalJson(value: unknown): string {
  const text = write(value, { key: "", ancestors: [], path: "value" });
  if (text === undefined) {
    throw new TypeError(`canonicalJson: value of type ${describe(value)} has no JSON form`);
  }
  return text;
}

/** Lowercase hex SHA-256 of the UTF-8 encoding of `text` (lone surrogates become U+FFFD). */
export async function sha256Hex(text: string): Promise<string> {
  if (typeof text !== "string") {
    throw new TypeError(`sha256Hex: text must be a string, got ${describe(text)}`);
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  let hex = "";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Compares two strings by Unicode code point (what "sorted by code point" means). */
export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

// Returns undefined for values JSON.stringify would omit, so that the caller can drop the
// member (objects) or write null (arrays). `ancestors` holds the objects on the current path:
// a shared but acyclic reference is fine, only a path back to itself is a cycle.
function write(
  input: unknown,
  { key, ancestors, path }: { key: string; ancestors: object[]; path: string },
): string | undefined {
  let value = input;
  if (
    value !== null && (typeof value === "object" || typeof value === "bigint") &&
    typeof (value as { toJSON?: unknown }).toJSON === "function"
  ) {
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  }
  // Boxed primitives serialize as their primitive, as in JSON.stringify.
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    value = value.valueOf();
  }
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) {
        throw new TypeError(`canonicalJson: ${path} is ${value}, which JSON cannot represent`);
      }
      return JSON.stringify(value);
    case "bigint":
      throw new TypeError(`canonicalJson: ${path} is a BigInt, which JSON cannot represent`);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return "null";
  const object = value as object;
  if (ancestors.includes(object)) {
    throw new TypeError(`canonicalJson: ${path} refers back to an enclosing value (a cycle)`);
  }
  ancestors.push(object);
  try {
    if (Array.isArray(object)) {
      const items: string[] = [];
      for (let i = 0; i < object.length; i++) {
        items.push(
          write(object[i], { key: String(i), ancestors, path: `${path}[${i}]` }) ?? "null",
        );
      }
      return `[${items.join(",")}]`;
    }
    const record = object as Record<string, unknown>;
    const members: string[] = [];
    for (const name of Object.keys(record).sort(compareCodePoints)) {
      const text = write(record[name], { key: name, ancestors, path: `${path}.${name}` });
      if (text !== undefined) members.push(`${JSON.stringify(name)}:${text}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    ancestors.pop();
  }
}
