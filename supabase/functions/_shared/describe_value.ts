// How a validation message names the value it refused: short, and never a whole object
// (guardrails, quiet hours and tool arguments may hold what should not be echoed).
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}
