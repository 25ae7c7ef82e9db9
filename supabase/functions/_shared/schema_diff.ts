// Structural diff of tool input schemas (Composio `input_parameters`, a JSON Schema object), to
// tell whether a catalog sync changed a tool in a way that breaks calls built against the old
// schema. "Breaking" means: some arguments valid before may be invalid now, or a call may stop
// working (a version we pin disappeared). When a change cannot be judged (a regex pattern or an
// anyOf changed), it is reported as breaking: a false alarm costs a review, a missed break
// costs failed calls.
//
// Paths are JSON-pointer-like, one segment per level, with markers for what is not a property:
//   "/"                      the schema root
//   "/owner"                 property `owner` of the root object
//   "/filters/[]/x"          property `x` of the items of array property `filters`
//   "/labels/*"              the additionalProperties schema of object property `labels`
// Property names are escaped as in RFC 6901 ("~" → "~0", "/" → "~1"). A property literally
// named "[]" or "*" would read like a marker; Composio parameter names are identifiers.
//
// Understood keywords: type (string or array; "integer" counts as a subset of "number";
// OpenAPI's `nullable: true` adds "null"), properties, required, items, additionalProperties,
// enum and const, description, default, the min/max families (minimum, maximum,
// exclusiveMinimum, exclusiveMaximum, minLength, maxLength, minItems, maxItems, minProperties,
// maxProperties), multipleOf, uniqueItems, pattern, format. `anyOf`/`oneOf` of bare types
// (pydantic's [{type: X}, {type: "null"}]) fold into `type`, and [schema, {type: "null"}]
// into a nullable schema. Other validation keywords (allOf, not, $ref, patternProperties,
// tuple-form items, …) are compared as opaque values. Annotations (title, examples, vendor
// extensions) are ignored. enum and required are sets: their order never matters.

import { canonicalJson, compareCodePoints } from "./canonical_json.ts";

export type SchemaChangeKind =
  | "property_added"
  | "property_removed"
  | "required_added"
  | "required_removed"
  | "type_changed"
  | "type_narrowed"
  | "type_widened"
  | "enum_value_removed"
  | "enum_value_added"
  | "constraint_tightened"
  | "constraint_loosened"
  | "description_changed"
  | "default_changed"
  | "version_dropped";

export interface SchemaChange {
  /** JSON-pointer-like location; see the module comment. */
  path: string;
  kind: SchemaChangeKind;
  breaking: boolean;
  /** A short human sentence fragment, e.g. `minimum 1 → 5`. */
  detail: string;
}

export type Drift = "none" | "non_breaking" | "breaking";

/** Every structural change from `before` to `after`, sorted by path, then kind, then detail. */
export function diffSchemas(before: unknown, after: unknown): SchemaChange[] {
  for (const [name, value] of [["before", before], ["after", after]] as const) {
    if (!isObject(value)) {
      throw new TypeError(`${name} must be a JSON Schema object, got ${describe(value)}`);
    }
  }
  const out: SchemaChange[] = [];
  diffNode(before, after, { path: "/", out });
  return sortChanges(out);
}

/** "breaking" if any change breaks, "non_breaking" if there are changes, else "none". */
export function classifyDrift(changes: SchemaChange[]): Drift {
  if (!Array.isArray(changes)) {
    throw new TypeError(`changes must be an array of SchemaChange, got ${describe(changes)}`);
  }
  if (changes.length === 0) return "none";
  return changes.some((c) => c.breaking) ? "breaking" : "non_breaking";
}

/** A breaking `version_dropped` change for each version in `prevVersions` missing from `nextVersions`. */
export function versionDropped(prevVersions: string[], nextVersions: string[]): SchemaChange[] {
  checkVersions(prevVersions, "prevVersions");
  checkVersions(nextVersions, "nextVersions");
  const next = new Set(nextVersions);
  return sortChanges(
    [...new Set(prevVersions)].filter((v) => !next.has(v)).map((v) => ({
      path: "/",
      kind: "version_dropped" as const,
      breaking: true,
      detail: `version ${v} is no longer available`,
    })),
  );
}

// ---------------------------------------------------------------------------------------

type Schema = Record<string, unknown>;

interface Walk {
  path: string;
  out: SchemaChange[];
}

const ALWAYS_BREAKING: ReadonlySet<SchemaChangeKind> = new Set([
  "property_removed",
  "required_added",
  "type_changed",
  "type_narrowed",
  "enum_value_removed",
  "constraint_tightened",
  "version_dropped",
]);

function push(walk: Walk, change: { kind: SchemaChangeKind; detail: string; breaking?: boolean }) {
  walk.out.push({
    path: walk.path,
    kind: change.kind,
    breaking: change.breaking ?? ALWAYS_BREAKING.has(change.kind),
    detail: change.detail,
  });
}

function diffNode(beforeRaw: unknown, afterRaw: unknown, walk: Walk): void {
  const before = asSchema(beforeRaw);
  const after = asSchema(afterRaw);
  if (before === null || after === null) {
    // Not a schema object (false, a string…): all we can tell is whether it changed.
    if (canonicalJson(beforeRaw ?? null) !== canonicalJson(afterRaw ?? null)) {
      push(walk, { kind: "type_changed", detail: "schema replaced" });
    }
    return;
  }
  const b = normalize(before);
  const a = normalize(after);
  const typesBefore = typeSet(b);
  const typesAfter = typeSet(a);
  diffTypes(typesBefore, typesAfter, walk);
  diffEnum(b, a, walk);
  diffBounds(b, a, walk);
  diffOpaque(b, a, walk);
  if (b.description !== a.description) {
    push(walk, { kind: "description_changed", detail: "description changed" });
  }
  if (json(b.default) !== json(a.default)) {
    push(walk, {
      kind: "default_changed",
      detail: describeChange("default", b.default, a.default),
    });
  }
  if (allows(typesBefore, "object") && allows(typesAfter, "object")) {
    diffProperties(b, a, walk);
    diffAdditionalProperties(b, a, walk);
  }
  if (allows(typesBefore, "array") && allows(typesAfter, "array")) diffItems(b, a, walk);
}

function asSchema(value: unknown): Schema | null {
  if (value === true || value === undefined) return {}; // true and absent both accept anything
  return isObject(value) ? value : null;
}

// Folds pydantic-style unions into `type` (see the module comment).
function normalize(schema: Schema): Schema {
  let s = schema;
  for (const key of ["anyOf", "oneOf"] as const) {
    const branches = s[key];
    if (s.type !== undefined || !Array.isArray(branches) || branches.length === 0) continue;
    const bareTypes = branches.every((br) =>
      isObject(br) && Object.keys(br).length === 1 && typeSet(br) !== null
    );
    if (bareTypes) {
      const { [key]: _, ...rest } = s;
      s = { ...rest, type: [...new Set(branches.flatMap((br) => [...typeSet(br as Schema)!]))] };
      continue;
    }
    const isNull = (br: unknown) => isObject(br) && canonicalJson(br) === '{"type":"null"}';
    if (branches.length === 2 && branches.some(isNull) && branches.some((br) => !isNull(br))) {
      const other = branches.find((br) => !isNull(br));
      if (!isObject(other)) continue;
      const { [key]: _, ...rest } = s;
      const otherTypes = typeSet(other);
      const merged: Schema = { ...rest, ...other };
      // An untyped branch already accepts null.
      if (otherTypes === null) delete merged.type;
      else merged.type = [...otherTypes, "null"];
      s = merged;
    }
  }
  return s;
}

/** The JSON types a schema accepts; null = any. */
function typeSet(schema: Schema): Set<string> | null {
  const t = schema.type;
  let types: Set<string> | null = null;
  if (typeof t === "string") types = new Set([t]);
  else if (Array.isArray(t) && t.every((x) => typeof x === "string")) types = new Set(t);
  if (types !== null && schema.nullable === true) types.add("null");
  return types;
}

function allows(types: Set<string> | null, type: string): boolean {
  return types === null || types.has(type);
}

// "integer" values are "number" values too.
function covers(types: Set<string>, type: string): boolean {
  return types.has(type) || (type === "integer" && types.has("number"));
}

function subset(a: Set<string>, b: Set<string>): boolean {
  return [...a].every((t) => covers(b, t));
}

function typeLabel(types: Set<string> | null): string {
  return types === null ? "any" : [...types].sort().join("|") || "none";
}

function diffTypes(before: Set<string> | null, after: Set<string> | null, walk: Walk): void {
  if (before === null && after === null) return;
  const detail = `type ${typeLabel(before)} → ${typeLabel(after)}`;
  if (before === null) return push(walk, { kind: "type_narrowed", detail });
  if (after === null) return push(walk, { kind: "type_widened", detail });
  const narrower = subset(after, before);
  const wider = subset(before, after);
  if (narrower && wider) return; // same values accepted, e.g. number vs number|integer
  if (wider) return push(walk, { kind: "type_widened", detail });
  if (narrower) return push(walk, { kind: "type_narrowed", detail });
  push(walk, { kind: "type_changed", detail });
}

/** enum (or const) as a set of canonical JSON texts; null = no restriction. */
function enumSet(schema: Schema): Set<string> | null {
  if (Array.isArray(schema.enum)) return new Set(schema.enum.map((v) => canonicalJson(v ?? null)));
  if ("const" in schema) return new Set([canonicalJson(schema.const ?? null)]);
  return null;
}

function diffEnum(b: Schema, a: Schema, walk: Walk): void {
  const before = enumSet(b);
  const after = enumSet(a);
  if (before === null && after === null) return;
  const list = (values: Set<string>) => [...values].sort(compareCodePoints).join(", ");
  if (before === null) {
    return push(walk, { kind: "constraint_tightened", detail: `enum added: ${list(after!)}` });
  }
  if (after === null) {
    return push(walk, {
      kind: "constraint_loosened",
      detail: `enum removed (was ${list(before)})`,
    });
  }
  for (const value of before) {
    if (!after.has(value)) {
      push(walk, { kind: "enum_value_removed", detail: `enum value ${value} removed` });
    }
  }
  for (const value of after) {
    if (!before.has(value)) {
      push(walk, { kind: "enum_value_added", detail: `enum value ${value} added` });
    }
  }
}

const LOWER_BOUNDS = ["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"];
const UPPER_BOUNDS = ["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"];

function diffBounds(b: Schema, a: Schema, walk: Walk): void {
  for (const key of [...LOWER_BOUNDS, ...UPPER_BOUNDS, "multipleOf", "uniqueItems"]) {
    const was = noBoundAsUndefined(b[key]);
    const now = noBoundAsUndefined(a[key]);
    if (json(was) === json(now)) continue;
    const detail = describeChange(key, was, now);
    let tighter: boolean;
    if (was === undefined || now === undefined) {
      tighter = was === undefined; // adding a bound restricts, removing one relaxes
    } else if (typeof was === "number" && typeof now === "number") {
      if (key === "multipleOf") tighter = !(was % now === 0); // a divisor of the old step relaxes
      else tighter = LOWER_BOUNDS.includes(key) ? now > was : now < was;
    } else {
      tighter = true; // cannot compare: assume the worst
    }
    push(walk, { kind: tighter ? "constraint_tightened" : "constraint_loosened", detail });
  }
}

// uniqueItems: false and draft-4's exclusiveMinimum: false say "no bound", like absence.
function noBoundAsUndefined(value: unknown): unknown {
  return value === false ? undefined : value;
}

// Validation keywords compared as whole values: added or changed restricts (as far as we can
// tell), removed relaxes.
const OPAQUE = [
  "pattern",
  "format",
  "anyOf",
  "oneOf",
  "allOf",
  "not",
  "$ref",
  "if",
  "then",
  "else",
  "patternProperties",
  "propertyNames",
  "dependentRequired",
  "dependentSchemas",
  "dependencies",
  "contains",
  "prefixItems",
];

function diffOpaque(b: Schema, a: Schema, walk: Walk): void {
  for (const key of OPAQUE) {
    if (json(b[key]) === json(a[key])) continue;
    if (a[key] === undefined) {
      push(walk, { kind: "constraint_loosened", detail: `${key} removed` });
    } else {
      push(walk, {
        kind: "constraint_tightened",
        detail: b[key] === undefined ? `${key} added` : `${key} changed`,
      });
    }
  }
}

function diffProperties(b: Schema, a: Schema, walk: Walk): void {
  const before = isObject(b.properties) ? b.properties : {};
  const after = isObject(a.properties) ? a.properties : {};
  const requiredBefore = requiredSet(b);
  const requiredAfter = requiredSet(a);
  const names = new Set([
    ...Object.keys(before),
    ...Object.keys(after),
    ...requiredBefore,
    ...requiredAfter,
  ]);
  for (const name of names) {
    const child: Walk = { path: join(walk.path, name), out: walk.out };
    const inBefore = Object.hasOwn(before, name);
    const inAfter = Object.hasOwn(after, name);
    const wasRequired = requiredBefore.has(name);
    const isRequired = requiredAfter.has(name);
    if (inBefore && !inAfter) {
      push(child, {
        kind: "property_removed",
        detail: wasRequired ? "required property removed" : "property removed",
      });
      continue;
    }
    if (!inBefore && inAfter) {
      push(child, {
        kind: "property_added",
        breaking: isRequired,
        detail: isRequired ? "required property added" : "optional property added",
      });
      continue;
    }
    if (inBefore && inAfter) diffNode(before[name], after[name], child);
    if (!wasRequired && isRequired) {
      push(child, { kind: "required_added", detail: "now required" });
    } else if (wasRequired && !isRequired) {
      push(child, { kind: "required_removed", detail: "no longer required" });
    }
  }
}

function requiredSet(schema: Schema): Set<string> {
  return new Set(
    Array.isArray(schema.required)
      ? schema.required.filter((r): r is string => typeof r === "string")
      : [],
  );
}

function diffAdditionalProperties(b: Schema, a: Schema, walk: Walk): void {
  const was = b.additionalProperties;
  const now = a.additionalProperties;
  if (json(was) === json(now)) return;
  // Three states: open (absent or true), a schema, closed (false).
  const rank = (v: unknown) => (v === undefined || v === true ? 2 : v === false ? 0 : 1);
  if (rank(was) === 1 && rank(now) === 1) {
    return diffNode(was, now, { path: join(walk.path, "*"), out: walk.out });
  }
  push(walk, {
    kind: rank(now) < rank(was) ? "constraint_tightened" : "constraint_loosened",
    detail: describeChange("additionalProperties", was, now),
  });
}

function diffItems(b: Schema, a: Schema, walk: Walk): void {
  // Absent on both sides: nothing to compare (and an absent side stands for {} below, which
  // would otherwise recurse forever).
  if (b.items === undefined && a.items === undefined) return;
  if (Array.isArray(b.items) || Array.isArray(a.items)) {
    // Tuple form: compared as a whole.
    if (json(b.items) !== json(a.items)) {
      push(walk, {
        kind: a.items === undefined ? "constraint_loosened" : "constraint_tightened",
        detail: "tuple items changed",
      });
    }
    return;
  }
  diffNode(b.items, a.items, { path: join(walk.path, "[]"), out: walk.out });
}

function join(path: string, segment: string): string {
  const escaped = segment.replaceAll("~", "~0").replaceAll("/", "~1");
  return path === "/" ? `/${escaped}` : `${path}/${escaped}`;
}

function describeChange(key: string, was: unknown, now: unknown): string {
  if (was === undefined) return `${key} added: ${json(now)}`;
  if (now === undefined) return `${key} removed (was ${json(was)})`;
  return `${key} ${json(was)} → ${json(now)}`;
}

// Canonical text of a JSON value; undefined stays undefined so that "absent" differs from null.
function json(value: unknown): string | undefined {
  return value === undefined ? undefined : canonicalJson(value);
}

function sortChanges(changes: SchemaChange[]): SchemaChange[] {
  return changes.sort((x, y) =>
    compareCodePoints(x.path, y.path) || compareCodePoints(x.kind, y.kind) ||
    compareCodePoints(x.detail, y.detail)
  );
}

function isObject(value: unknown): value is Schema {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

function checkVersions(value: unknown, name: string): void {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new TypeError(`${name} must be an array of version strings, got ${describe(value)}`);
  }
}
