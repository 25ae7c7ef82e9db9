import assert from "node:assert/strict";
import { buildSnapshot, type CompareRow, toolDrift } from "./classify.ts";

const base = {
  type: "object",
  properties: {
    owner: { type: "string", description: "Owner." },
    state: { type: "string", enum: ["open", "closed", "all"] },
    count: { type: "number" },
    labels: { type: "string" },
  },
  required: ["owner"],
};
// deno-lint-ignore no-explicit-any
function edit(change: (s: any) => void): Record<string, unknown> {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}
const changed = (latest: Record<string, unknown>, versions: string[] = ["v1"]): CompareRow => ({
  tool_slug: "KIT_TOOL",
  change: "changed",
  stored_version: "v1",
  stored_input: base,
  latest_input: latest,
  latest_version: versions.at(-1) ?? null,
  latest_versions: versions,
});

Deno.test("JSON-schema changes and their classification", () => {
  const table: { name: string; row: CompareRow; drift: string; kinds: string[] }[] = [
    {
      name: "property removed",
      row: changed(edit((s) => delete s.properties.labels)),
      drift: "breaking",
      kinds: ["property_removed"],
    },
    {
      name: "newly required",
      row: changed(edit((s) => s.required.push("labels"))),
      drift: "breaking",
      kinds: ["required_added"],
    },
    {
      name: "type narrowed (number → integer)",
      row: changed(edit((s) => (s.properties.count.type = "integer"))),
      drift: "breaking",
      kinds: ["type_narrowed"],
    },
    {
      name: "type changed (string → boolean)",
      row: changed(edit((s) => (s.properties.labels.type = "boolean"))),
      drift: "breaking",
      kinds: ["type_changed"],
    },
    {
      name: "enum value removed",
      row: changed(edit((s) => (s.properties.state.enum = ["open", "closed"]))),
      drift: "breaking",
      kinds: ["enum_value_removed"],
    },
    {
      name: "version dropped",
      row: changed(structuredClone(base), ["v2", "v3"]),
      drift: "breaking",
      kinds: ["version_dropped"],
    },
    {
      name: "optional property added",
      row: changed(edit((s) => (s.properties.sort = { type: "string" }))),
      drift: "non_breaking",
      kinds: ["property_added"],
    },
    {
      name: "description changed",
      row: changed(edit((s) => (s.properties.owner.description = "The owner."))),
      drift: "non_breaking",
      kinds: ["description_changed"],
    },
    {
      name: "tool added upstream",
      row: { ...changed(base), change: "added", stored_input: null, stored_version: null },
      drift: "non_breaking",
      kinds: ["property_added"],
    },
    {
      name: "tool removed upstream",
      row: { ...changed(base), change: "removed", latest_input: null, latest_versions: null },
      drift: "breaking",
      kinds: ["property_removed"],
    },
  ];
  for (const c of table) {
    const d = toolDrift("kit", c.row);
    assert.equal(d.drift, c.drift, c.name);
    assert.deepEqual(d.changes.map((x) => x.kind), c.kinds, c.name);
  }
});

Deno.test("buildSnapshot counts changes, lists breaking tools first, drops empty diffs", () => {
  const rows: CompareRow[] = [
    { ...changed(edit((s) => (s.properties.sort = { type: "string" }))), tool_slug: "A_ADD" },
    { ...changed(edit((s) => delete s.properties.labels)), tool_slug: "B_REMOVE_PROP" },
    { ...changed(base), change: "removed", tool_slug: "C_GONE", latest_input: null },
    // Differs only in an annotation schema_diff ignores: no drift.
    { ...changed(edit((s) => (s.title = "x"))), tool_slug: "D_TITLE" },
  ];
  const snap = buildSnapshot([{ toolkit: "kit", rows }], [{ toolkit: "other", error: "503" }]);
  assert.deepEqual(snap.counts, {
    added: 0,
    removed: 1,
    changed: 2,
    breaking: 2,
    non_breaking: 1,
    errors: 1,
  });
  assert.deepEqual(snap.tools.map((t) => t.tool), ["B_REMOVE_PROP", "C_GONE", "A_ADD"]);
  assert.deepEqual(snap.breaking_tools, ["B_REMOVE_PROP", "C_GONE"]);
  const capped = buildSnapshot([{ toolkit: "kit", rows }], [], 1);
  assert.equal(capped.tools.length, 1);
  assert.equal(capped.truncated, 2);
});
