// Drift of one tenant's catalog against Composio's latest, pure: the rows
// internal.catalog_drift_compare returns (only tools that differ) in, a snapshot out.
//
// A tool added upstream is a non-breaking change; a tool removed upstream is breaking (calls
// to it will fail); a changed tool gets a structural diff of its input schema
// (_shared/schema_diff.ts: property removed, newly required, type narrowed or changed, enum
// value removed → breaking; optional property added, description changed → non-breaking)
// plus version_dropped (breaking) when the version the catalog pins is no longer available.
import {
  classifyDrift,
  diffSchemas,
  type SchemaChange,
  versionDropped,
} from "../_shared/schema_diff.ts";

export interface CompareRow {
  tool_slug: string;
  change: "added" | "removed" | "changed";
  stored_version: string | null;
  stored_input: Record<string, unknown> | null;
  latest_input: Record<string, unknown> | null;
  latest_version: string | null;
  latest_versions: string[] | null;
}

export interface ToolDrift {
  tool: string;
  toolkit: string;
  status: "added" | "removed" | "changed";
  drift: "breaking" | "non_breaking";
  changes: SchemaChange[];
}

export interface DriftSnapshot {
  counts: {
    added: number;
    removed: number;
    changed: number;
    breaking: number;
    non_breaking: number;
    errors: number;
  };
  toolkits: string[];
  /** Tools with drift, breaking first; at most `maxTools` (truncated says how many more). */
  tools: ToolDrift[];
  truncated: number;
  breaking_tools: string[];
  errors: { toolkit: string; error: string }[];
}

/** Classifies one compared tool. */
export function toolDrift(toolkit: string, row: CompareRow): ToolDrift {
  let changes: SchemaChange[];
  if (row.change === "added") {
    changes = [{ path: "/", kind: "property_added", breaking: false, detail: "tool added" }];
  } else if (row.change === "removed") {
    changes = [{ path: "/", kind: "property_removed", breaking: true, detail: "tool removed" }];
  } else {
    changes = diffSchemas(row.stored_input ?? {}, row.latest_input ?? {});
    const available = row.latest_versions ?? [];
    if (row.stored_version && available.length > 0) {
      changes.push(...versionDropped([row.stored_version], available));
    }
  }
  const drift = classifyDrift(changes);
  return {
    tool: row.tool_slug,
    toolkit,
    status: row.change,
    drift: drift === "breaking" ? "breaking" : "non_breaking",
    changes,
  };
}

/** Folds the compared tools of every toolkit into one snapshot. */
export function buildSnapshot(
  perToolkit: { toolkit: string; rows: CompareRow[] }[],
  errors: { toolkit: string; error: string }[] = [],
  maxTools = 500,
): DriftSnapshot {
  const drifts = perToolkit.flatMap(({ toolkit, rows }) => rows.map((r) => toolDrift(toolkit, r)))
    // Changed rows whose structural diff found nothing (e.g. only annotations) are no drift.
    .filter((d) => d.changes.length > 0);
  const counts = {
    added: drifts.filter((d) => d.status === "added").length,
    removed: drifts.filter((d) => d.status === "removed").length,
    changed: drifts.filter((d) => d.status === "changed").length,
    breaking: drifts.reduce((n, d) => n + d.changes.filter((c) => c.breaking).length, 0),
    non_breaking: drifts.reduce((n, d) => n + d.changes.filter((c) => !c.breaking).length, 0),
    errors: errors.length,
  };
  drifts.sort((a, b) =>
    (a.drift === b.drift ? 0 : a.drift === "breaking" ? -1 : 1) ||
    (a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0)
  );
  const breakingTools = drifts.filter((d) => d.drift === "breaking").map((d) => d.tool);
  return {
    counts,
    toolkits: perToolkit.map((p) => p.toolkit),
    tools: drifts.slice(0, maxTools),
    truncated: Math.max(0, drifts.length - maxTools),
    breaking_tools: breakingTools.slice(0, maxTools),
    errors,
  };
}
