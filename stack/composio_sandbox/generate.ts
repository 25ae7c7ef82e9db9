// Generated tools for catalog-size tests and benchmarks: the same toolkit, count and seed
// always give the same tools.
import { mulberry32 } from "../../supabase/functions/_shared/seeded_random.ts";
import { type JsonSchema, STANDARD_OUTPUT, type ToolDef } from "./catalog.ts";
import { titleCase } from "./util.ts";

export const MAX_GENERATED = 100_000;

export interface GenerateSpec {
  toolkit: string;
  count: number;
  seed?: number;
}

/** Deterministic tools for catalog-size benchmarks: same toolkit+count+seed, same output. */
export function generateTools(
  toolkit: { slug: string; name: string; logo: string },
  count: number,
  seed = 1,
): ToolDef[] {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const prefix = toolkit.slug.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
  const width = Math.max(4, String(count).length);
  const tools: ToolDef[] = [];
  for (let i = 0; i < count; i++) {
    const [verb, hint] = pick(VERBS);
    const noun = pick(NOUNS);
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    const fields = 1 + Math.floor(random() * 5);
    for (let f = 0; f < fields; f++) {
      const [name, schema] = pick(FIELDS);
      if (properties[name]) continue;
      properties[name] = { ...schema };
      if (random() < 0.5) required.push(name);
    }
    tools.push({
      slug: `${prefix}_${verb}_${noun}_${String(i).padStart(width, "0")}`,
      name: `${titleCase(verb)} ${noun.toLowerCase()} #${i}`,
      description: `${titleCase(verb)} a ${noun.toLowerCase()} in ${toolkit.name} (generated).`,
      toolkit: { ...toolkit },
      input_parameters: { type: "object", properties, required },
      output_parameters: STANDARD_OUTPUT,
      tags: random() < 0.1 ? [hint, noun.toLowerCase(), "important"] : [hint, noun.toLowerCase()],
      scopes: [`${noun.toLowerCase()}:${hint === "readOnlyHint" ? "read" : "write"}`],
      no_auth: false,
      version: "",
      available_versions: [],
      is_deprecated: false,
    });
  }
  return tools;
}

const VERBS: readonly (readonly [string, string])[] = [
  ["LIST", "readOnlyHint"],
  ["GET", "readOnlyHint"],
  ["SEARCH", "readOnlyHint"],
  ["CREATE", "createHint"],
  ["UPDATE", "updateHint"],
  ["ARCHIVE", "updateHint"],
  ["DELETE", "destructiveHint"],
];
const NOUNS = ["ISSUE", "PROJECT", "TASK", "COMMENT", "FILE", "USER", "TEAM", "LABEL", "WEBHOOK"];
const FIELDS: readonly (readonly [string, JsonSchema])[] = [
  ["id", { type: "string" }],
  ["name", { type: "string", minLength: 1 }],
  ["limit", { type: "integer", minimum: 1, maximum: 100, default: 20 }],
  ["cursor", { type: "string" }],
  ["status", { type: "string", enum: ["open", "closed", "all"] }],
  ["tags", { type: "array", items: { type: "string" } }],
  ["notify", { type: "boolean", default: false }],
  ["priority", { type: "integer", enum: [1, 2, 3, 4] }],
];
