import assert from "node:assert/strict";
import fc from "fast-check";
import { compareCodePoints } from "./canonical_json.ts";
import {
  classifyDrift,
  diffSchemas,
  type Drift,
  type SchemaChange,
  type SchemaChangeKind,
  versionDropped,
} from "./schema_diff.ts";

// Shaped like GITHUB_LIST_ISSUES in stack/fixtures/composio/github.json, plus a nested array.
const base = {
  type: "object",
  properties: {
    owner: { type: "string", description: "Account owner of the repository." },
    repo: { type: "string", description: "Repository name, without the .git suffix." },
    state: {
      type: "string",
      enum: ["open", "closed", "all"],
      default: "open",
      description: "Issue state to return.",
    },
    per_page: { type: "integer", minimum: 1, maximum: 100, default: 30 },
    labels: { type: "string", maxLength: 200 },
    filters: {
      type: "array",
      items: {
        type: "object",
        properties: { field: { type: "string" }, value: { type: "string", minLength: 1 } },
        required: ["field"],
      },
    },
  },
  required: ["owner", "repo"],
};

type Schema = Record<string, unknown>;
// Returns a deep copy of `base` changed by `edit`.
// deno-lint-ignore no-explicit-any
function edit(change: (s: any) => void): Schema {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}

type Row = [path: string, kind: SchemaChangeKind, breaking: boolean, detail: string];

const table: { name: string; after: Schema; drift: Drift; changes: Row[] }[] = [
  { name: "identical", after: structuredClone(base), drift: "none", changes: [] },
  {
    name: "optional property added",
    after: edit((s) => (s.properties.sort = { type: "string" })),
    drift: "non_breaking",
    changes: [["/sort", "property_added", false, "optional property added"]],
  },
  {
    name: "required property added",
    after: edit((s) => {
      s.properties.token = { type: "string" };
      s.required.push("token");
    }),
    drift: "breaking",
    changes: [["/token", "property_added", true, "required property added"]],
  },
  {
    name: "property removed",
    after: edit((s) => delete s.properties.labels),
    drift: "breaking",
    changes: [["/labels", "property_removed", true, "property removed"]],
  },
  {
    name: "required property removed",
    after: edit((s) => {
      delete s.properties.repo;
      s.required = ["owner"];
    }),
    drift: "breaking",
    changes: [["/repo", "property_removed", true, "required property removed"]],
  },
  {
    name: "existing property becomes required",
    after: edit((s) => s.required.push("state")),
    drift: "breaking",
    changes: [["/state", "required_added", true, "now required"]],
  },
  {
    name: "property no longer required",
    after: edit((s) => (s.required = ["owner"])),
    drift: "non_breaking",
    changes: [["/repo", "required_removed", false, "no longer required"]],
  },
  {
    name: "required order does not matter",
    after: edit((s) => (s.required = ["repo", "owner"])),
    drift: "none",
    changes: [],
  },
  {
    name: "type changed",
    after: edit((s) => (s.properties.labels.type = "array")),
    drift: "breaking",
    changes: [["/labels", "type_changed", true, "type string → array"]],
  },
  {
    name: "integer → number widens",
    after: edit((s) => (s.properties.per_page.type = "number")),
    drift: "non_breaking",
    changes: [["/per_page", "type_widened", false, "type integer → number"]],
  },
  {
    name: "null added to the type widens",
    after: edit((s) => (s.properties.owner.type = ["string", "null"])),
    drift: "non_breaking",
    changes: [["/owner", "type_widened", false, "type string → null|string"]],
  },
  {
    name: "type removed (any) widens",
    after: edit((s) => delete s.properties.owner.type),
    drift: "non_breaking",
    changes: [["/owner", "type_widened", false, "type string → any"]],
  },
  {
    name: "enum value removed",
    after: edit((s) => (s.properties.state.enum = ["open", "closed"])),
    drift: "breaking",
    changes: [["/state", "enum_value_removed", true, 'enum value "all" removed']],
  },
  {
    name: "enum value added",
    after: edit((s) => s.properties.state.enum.push("draft")),
    drift: "non_breaking",
    changes: [["/state", "enum_value_added", false, 'enum value "draft" added']],
  },
  {
    name: "enum order does not matter",
    after: edit((s) => s.properties.state.enum.reverse()),
    drift: "none",
    changes: [],
  },
  {
    name: "enum introduced",
    after: edit((s) => (s.properties.owner.enum = ["octocat"])),
    drift: "breaking",
    changes: [["/owner", "constraint_tightened", true, 'enum added: "octocat"']],
  },
  {
    name: "enum dropped",
    after: edit((s) => delete s.properties.state.enum),
    drift: "non_breaking",
    changes: [[
      "/state",
      "constraint_loosened",
      false,
      'enum removed (was "all", "closed", "open")',
    ]],
  },
  {
    name: "minimum up",
    after: edit((s) => (s.properties.per_page.minimum = 5)),
    drift: "breaking",
    changes: [["/per_page", "constraint_tightened", true, "minimum 1 → 5"]],
  },
  {
    name: "maximum down",
    after: edit((s) => (s.properties.per_page.maximum = 50)),
    drift: "breaking",
    changes: [["/per_page", "constraint_tightened", true, "maximum 100 → 50"]],
  },
  {
    name: "maximum up",
    after: edit((s) => (s.properties.per_page.maximum = 1000)),
    drift: "non_breaking",
    changes: [["/per_page", "constraint_loosened", false, "maximum 100 → 1000"]],
  },
  {
    name: "minimum removed",
    after: edit((s) => delete s.properties.per_page.minimum),
    drift: "non_breaking",
    changes: [["/per_page", "constraint_loosened", false, "minimum removed (was 1)"]],
  },
  {
    name: "maxLength added",
    after: edit((s) => (s.properties.owner.maxLength = 39)),
    drift: "breaking",
    changes: [["/owner", "constraint_tightened", true, "maxLength added: 39"]],
  },
  {
    name: "maxLength down",
    after: edit((s) => (s.properties.labels.maxLength = 100)),
    drift: "breaking",
    changes: [["/labels", "constraint_tightened", true, "maxLength 200 → 100"]],
  },
  {
    name: "description changed",
    after: edit((s) => (s.properties.owner.description = "The owner.")),
    drift: "non_breaking",
    changes: [["/owner", "description_changed", false, "description changed"]],
  },
  {
    name: "default changed",
    after: edit((s) => (s.properties.per_page.default = 50)),
    drift: "non_breaking",
    changes: [["/per_page", "default_changed", false, "default 30 → 50"]],
  },
  {
    name: "default removed",
    after: edit((s) => delete s.properties.state.default),
    drift: "non_breaking",
    changes: [["/state", "default_changed", false, 'default removed (was "open")']],
  },
  {
    name: "nested array item property removed",
    after: edit((s) => delete s.properties.filters.items.properties.value),
    drift: "breaking",
    changes: [["/filters/[]/value", "property_removed", true, "property removed"]],
  },
  {
    name: "nested array item constraint loosened and field no longer required",
    after: edit((s) => {
      s.properties.filters.items.properties.value.minLength = 0;
      s.properties.filters.items.required = [];
    }),
    drift: "non_breaking",
    changes: [
      ["/filters/[]/field", "required_removed", false, "no longer required"],
      ["/filters/[]/value", "constraint_loosened", false, "minLength 1 → 0"],
    ],
  },
  {
    name: "array items type changed",
    after: edit((s) => (s.properties.filters.items = { type: "string" })),
    drift: "breaking",
    changes: [["/filters/[]", "type_changed", true, "type object → string"]],
  },
  {
    name: "several changes, sorted by path then kind",
    after: edit((s) => {
      s.properties.state.enum = ["open", "closed", "all", "draft"];
      s.properties.state.description = "State.";
      delete s.properties.labels;
      s.properties.assignee = { type: "string" };
      s.required = ["owner", "repo", "assignee"];
    }),
    drift: "breaking",
    changes: [
      ["/assignee", "property_added", true, "required property added"],
      ["/labels", "property_removed", true, "property removed"],
      ["/state", "description_changed", false, "description changed"],
      ["/state", "enum_value_added", false, 'enum value "draft" added'],
    ],
  },
  {
    name: "pydantic nullable anyOf folds into type",
    after: edit((s) => {
      s.properties.owner = {
        anyOf: [{ type: "string" }, { type: "null" }],
        description: "Account owner of the repository.",
      };
    }),
    drift: "non_breaking",
    changes: [["/owner", "type_widened", false, "type string → null|string"]],
  },
  {
    name: "nullable object anyOf is compared inside",
    after: edit((s) => {
      s.properties.filters = {
        anyOf: [{ ...structuredClone(base.properties.filters), maxItems: 10 }, { type: "null" }],
      };
    }),
    drift: "breaking",
    changes: [
      ["/filters", "constraint_tightened", true, "maxItems added: 10"],
      ["/filters", "type_widened", false, "type array → array|null"],
    ],
  },
  {
    name: "OpenAPI nullable widens",
    after: edit((s) => (s.properties.labels.nullable = true)),
    drift: "non_breaking",
    changes: [["/labels", "type_widened", false, "type string → null|string"]],
  },
  {
    name: "pattern added",
    after: edit((s) => (s.properties.repo.pattern = "^[A-Za-z0-9_.-]+$")),
    drift: "breaking",
    changes: [["/repo", "constraint_tightened", true, "pattern added"]],
  },
  {
    name: "additionalProperties closed",
    after: edit((s) => (s.additionalProperties = false)),
    drift: "breaking",
    changes: [["/", "constraint_tightened", true, "additionalProperties added: false"]],
  },
  {
    name: "title and vendor annotations are ignored",
    after: edit((s) => {
      s.properties.owner.title = "Owner";
      s.properties.owner.examples = ["octocat"];
      s.properties.owner.file_uploadable = false;
    }),
    drift: "none",
    changes: [],
  },
  {
    name: "property names are escaped",
    after: edit((s) => (s.properties["a/b~c"] = { type: "string" })),
    drift: "non_breaking",
    changes: [["/a~1b~0c", "property_added", false, "optional property added"]],
  },
];

for (const { name, after, drift, changes } of table) {
  Deno.test(`diffSchemas: ${name} → ${drift}`, () => {
    const diff = diffSchemas(base, after);
    assert.deepEqual(
      diff.map((c) => [c.path, c.kind, c.breaking, c.detail]),
      changes,
    );
    assert.equal(classifyDrift(diff), drift);
  });
}

const pairTable: { name: string; before: Schema; after: Schema; changes: Row[] }[] = [
  {
    name: "type added to an untyped property narrows",
    before: { type: "object", properties: { q: {} } },
    after: { type: "object", properties: { q: { type: "string" } } },
    changes: [["/q", "type_narrowed", true, "type any → string"]],
  },
  {
    name: "null removed from the type narrows",
    before: { type: "object", properties: { q: { type: ["string", "null"] } } },
    after: { type: "object", properties: { q: { type: "string" } } },
    changes: [["/q", "type_narrowed", true, "type null|string → string"]],
  },
  {
    name: "number → integer narrows",
    before: { type: "number" },
    after: { type: "integer" },
    changes: [["/", "type_narrowed", true, "type number → integer"]],
  },
  {
    name: "pattern changed",
    before: { type: "object", properties: { q: { type: "string", pattern: "^a$" } } },
    after: { type: "object", properties: { q: { type: "string", pattern: "^b$" } } },
    changes: [["/q", "constraint_tightened", true, "pattern changed"]],
  },
  {
    name: "required without a property definition",
    before: { type: "object", properties: {} },
    after: { type: "object", properties: {}, required: ["ghost"] },
    changes: [["/ghost", "required_added", true, "now required"]],
  },
  {
    name: "uniqueItems: false is the same as absent",
    before: { type: "array", items: { type: "string" } },
    after: { type: "array", items: { type: "string" }, uniqueItems: false },
    changes: [],
  },
  {
    name: "items added to an array narrows its items",
    before: { type: "array" },
    after: { type: "array", items: { type: "integer" } },
    changes: [["/[]", "type_narrowed", true, "type any → integer"]],
  },
  {
    name: "additionalProperties schema compared inside",
    before: { type: "object", additionalProperties: { type: "string" } },
    after: { type: "object", additionalProperties: { type: "string", maxLength: 5 } },
    changes: [["/*", "constraint_tightened", true, "maxLength added: 5"]],
  },
  {
    name: "multipleOf to a divisor relaxes",
    before: { type: "integer", multipleOf: 4 },
    after: { type: "integer", multipleOf: 2 },
    changes: [["/", "constraint_loosened", false, "multipleOf 4 → 2"]],
  },
  {
    name: "const is a one-value enum",
    before: { type: "string", enum: ["a", "b"] },
    after: { type: "string", const: "a" },
    changes: [["/", "enum_value_removed", true, 'enum value "b" removed']],
  },
  {
    name: "object type dropped: no property noise",
    before: { type: "object", properties: { a: { type: "string" } } },
    after: { type: "string" },
    changes: [["/", "type_changed", true, "type object → string"]],
  },
];

for (const { name, before, after, changes } of pairTable) {
  Deno.test(`diffSchemas: ${name}`, () => {
    assert.deepEqual(
      diffSchemas(before, after).map((c) => [c.path, c.kind, c.breaking, c.detail]),
      changes,
    );
  });
}

Deno.test("versionDropped names each vanished version once, as breaking", () => {
  assert.deepEqual(
    versionDropped(["20250827_00", "20250909_00", "20250827_00"], ["20250909_00", "20251001_00"]),
    [{
      path: "/",
      kind: "version_dropped",
      breaking: true,
      detail: "version 20250827_00 is no longer available",
    }],
  );
  assert.deepEqual(versionDropped(["a"], ["a", "b"]), []);
  assert.equal(classifyDrift(versionDropped(["a", "b"], [])), "breaking");
});

const invalid: { name: string; call: () => unknown; message: RegExp }[] = [
  {
    name: "before null",
    call: () => diffSchemas(null, {}),
    message: /before must be a JSON Schema object, got null/,
  },
  {
    name: "after an array",
    call: () => diffSchemas({}, []),
    message: /after must be a JSON Schema object, got an array/,
  },
  { name: "after a string", call: () => diffSchemas({}, "{}"), message: /after .* got string/ },
  {
    name: "changes not an array",
    call: () => classifyDrift(null as unknown as SchemaChange[]),
    message: /changes must be an array/,
  },
  {
    name: "versions not strings",
    call: () => versionDropped(["a"], [1] as unknown as string[]),
    message: /nextVersions must be an array of version strings/,
  },
];

for (const { name, call, message } of invalid) {
  Deno.test(`rejects ${name} with TypeError`, () => {
    assert.throws(call, (e) => e instanceof TypeError && message.test(e.message));
  });
}

// ---------------------------------------------------------------------------------------
// Properties

const NAMES = ["a", "b", "owner", "repo", "x"];
const leaf = fc.record(
  {
    type: fc.constantFrom<unknown>("string", "integer", "number", "boolean", ["string", "null"]),
    description: fc.constantFrom("one", "two"),
    enum: fc.uniqueArray(fc.constantFrom("p", "q", "r", 1, null), { minLength: 1 }),
    default: fc.constantFrom<unknown>("p", 1, null, [1]),
    minimum: fc.integer({ min: 0, max: 3 }),
    maximum: fc.integer({ min: 10, max: 12 }),
    minLength: fc.integer({ min: 0, max: 2 }),
    maxLength: fc.integer({ min: 5, max: 6 }),
  },
  { requiredKeys: [] },
);
const { schema: schemas, object: objects } = fc.letrec<
  { schema: Schema; object: Schema; array: Schema }
>((tie) => ({
  schema: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    tie("object"),
    tie("array"),
  ),
  object: fc.record(
    {
      type: fc.constant("object"),
      properties: fc.dictionary(fc.constantFrom(...NAMES), tie("schema"), { maxKeys: 4 }),
      required: fc.uniqueArray(fc.constantFrom(...NAMES), { maxLength: 3 }),
      description: fc.constantFrom("obj", "object"),
    },
    { requiredKeys: ["type", "properties"] },
  ),
  array: fc.record(
    { type: fc.constant("array"), items: tie("schema"), maxItems: fc.integer({ min: 1, max: 3 }) },
    { requiredKeys: ["type"] },
  ),
}));

// The kind each change becomes when the diff runs the other way.
const MIRROR: Partial<Record<SchemaChangeKind, SchemaChangeKind>> = {
  property_added: "property_removed",
  property_removed: "property_added",
  required_added: "required_removed",
  required_removed: "required_added",
  type_changed: "type_changed",
  type_narrowed: "type_widened",
  type_widened: "type_narrowed",
  enum_value_added: "enum_value_removed",
  enum_value_removed: "enum_value_added",
  constraint_tightened: "constraint_loosened",
  constraint_loosened: "constraint_tightened",
  description_changed: "description_changed",
  default_changed: "default_changed",
};

Deno.test("property: diff(x, x) is empty, also against a copy", () => {
  fc.assert(
    fc.property(schemas, (x) => {
      assert.deepEqual(diffSchemas(x, x), []);
      assert.deepEqual(diffSchemas(x, structuredClone(x)), []);
      assert.equal(classifyDrift(diffSchemas(x, x)), "none");
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: a property removed one way is added the other way", () => {
  fc.assert(
    fc.property(objects, objects, (a, b) => {
      const paths = (changes: SchemaChange[], kind: SchemaChangeKind) =>
        changes.filter((c) => c.kind === kind).map((c) => c.path);
      const forward = diffSchemas(a, b);
      const backward = diffSchemas(b, a);
      assert.deepEqual(paths(forward, "property_removed"), paths(backward, "property_added"));
      assert.deepEqual(paths(forward, "property_added"), paths(backward, "property_removed"));
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: every change has its mirror in the reverse diff", () => {
  fc.assert(
    fc.property(objects, objects, (a, b) => {
      const backward = diffSchemas(b, a);
      for (const change of diffSchemas(a, b)) {
        const mirror = MIRROR[change.kind]!;
        assert.ok(
          backward.some((c) => c.path === change.path && c.kind === mirror),
          `${change.path} ${change.kind} has no ${mirror} in the reverse diff`,
        );
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: classification is breaking iff some change is breaking", () => {
  fc.assert(
    fc.property(objects, objects, (a, b) => {
      const changes = diffSchemas(a, b);
      const drift = classifyDrift(changes);
      assert.equal(drift === "breaking", changes.some((c) => c.breaking));
      assert.equal(drift === "none", changes.length === 0);
    }),
    { numRuns: 300 },
  );
  const anyChange = fc.record({
    path: fc.constant("/x"),
    kind: fc.constantFrom(...(Object.keys(MIRROR) as SchemaChangeKind[]), "version_dropped"),
    breaking: fc.boolean(),
    detail: fc.constant("d"),
  });
  fc.assert(
    fc.property(fc.array(anyChange), (changes) => {
      const drift = classifyDrift(changes);
      assert.equal(drift === "breaking", changes.some((c) => c.breaking));
    }),
  );
});

Deno.test("property: breaking follows the kind, and the output is sorted without duplicates", () => {
  const alwaysBreaking = new Set<SchemaChangeKind>([
    "property_removed",
    "required_added",
    "type_changed",
    "type_narrowed",
    "enum_value_removed",
    "constraint_tightened",
  ]);
  fc.assert(
    fc.property(objects, objects, (a, b) => {
      const changes = diffSchemas(a, b);
      for (const c of changes) {
        if (c.kind === "property_added") {
          assert.equal(c.breaking, c.detail === "required property added");
        } else assert.equal(c.breaking, alwaysBreaking.has(c.kind), `${c.kind} at ${c.path}`);
      }
      for (let i = 1; i < changes.length; i++) {
        const [p, q] = [changes[i - 1], changes[i]];
        const order = compareCodePoints(p.path, q.path) || compareCodePoints(p.kind, q.kind) ||
          compareCodePoints(p.detail, q.detail);
        assert.ok(order < 0, `not strictly sorted at ${i}: ${JSON.stringify([p, q])}`);
      }
    }),
    { numRuns: 300 },
  );
});

// Rewrites a schema with object keys, `required` and `enum` in another order.
function reorder(value: unknown, flip: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => reorder(v, flip));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value).map(([k, v]): [string, unknown] => {
    if ((k === "required" || k === "enum") && Array.isArray(v)) return [k, [...v].reverse()];
    return [k, reorder(v, !flip)];
  });
  return Object.fromEntries(flip ? entries.reverse() : entries);
}

Deno.test("property: key, required and enum order never change the diff", () => {
  fc.assert(
    fc.property(objects, objects, fc.boolean(), (a, b, flip) => {
      assert.deepEqual(diffSchemas(a, reorder(a, flip)), []);
      assert.deepEqual(diffSchemas(reorder(a, flip), reorder(b, !flip)), diffSchemas(a, b));
    }),
    { numRuns: 300 },
  );
});
