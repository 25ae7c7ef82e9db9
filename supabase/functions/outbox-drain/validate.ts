// Tool arguments checked against the tool's input JSON schema (Composio's
// input_parameters, stored as tool_catalog.input_schema) before anything is sent.
// Compiled validators are cached by tool, version and content hash: a batch of envelopes
// for the same tool compiles once per isolate.
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

// strict: false because provider schemas carry keywords Ajv does not know (e.g. "examples"
// is fine, but "nullable", "file_uploadable" and friends are not standard).
const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: false, useDefaults: false });
// ajv-formats is CommonJS: the default export is the plugin function (sometimes wrapped).
const plugin = (addFormats as unknown as { default?: (a: Ajv) => void }).default ??
  (addFormats as unknown as (a: Ajv) => void);
plugin(ajv);

const cache = new Map<string, ValidateFunction | Error>();
const MAX_CACHE = 2_000;

export type ValidationResult = { ok: true } | { ok: false; error: string };

/** Validates `args` against `schema`, compiling (once per key) when needed. */
export function validateArguments(
  key: string,
  schema: () => Record<string, unknown>,
  args: unknown,
): ValidationResult {
  let v = cache.get(key);
  if (v === undefined) {
    try {
      v = ajv.compile(schema());
    } catch (err) {
      v = new Error(`the tool's input schema does not compile: ${(err as Error).message}`);
    }
    if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
    cache.set(key, v);
  }
  if (v instanceof Error) return { ok: false, error: v.message };
  if (v(args)) return { ok: true };
  return {
    ok: false,
    error: ajv.errorsText(v.errors, { dataVar: "arguments", separator: "; " }).slice(0, 500),
  };
}

/** Whether a validator for `key` is compiled already (so the schema need not be loaded). */
export function hasValidator(key: string): boolean {
  return cache.has(key);
}
