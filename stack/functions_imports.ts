// Which import map a function deploys with, by the Supabase CLI's rule, and the map the
// local functions server runs it with: that same map plus the local-only layer
// (stack/functions_local_imports.json), which never deploys.
//
// The CLI's rule (`supabase functions deploy`): `--import-map`, else `[functions.<slug>]
// import_map` in config.toml (relative to the supabase/ folder), else deno.json or
// deno.jsonc in the function's folder, else (an import_map.json in the function's folder
// is an error here) supabase/functions/import_map.json. The repo-root deno.json is the
// tooling's and plays no part.
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseToml } from "smol-toml";
import { projectRoot } from "./paths.ts";

/** The local-only layer: packages the local stack needs and hosted must never see. */
export const functionsLocalImportsFile = join(projectRoot, "stack", "functions_local_imports.json");

export interface FunctionConfig {
  verify_jwt?: boolean;
  import_map?: string;
  entrypoint?: string;
}

/** The `[functions.<slug>]` tables of config.toml (empty when the file is missing). */
export function readFunctionsConfig(configFile: string): Map<string, FunctionConfig> {
  let text: string;
  try {
    text = Deno.readTextFileSync(configFile);
  } catch {
    return new Map();
  }
  const cfg = parseToml(text) as { functions?: Record<string, FunctionConfig> };
  return new Map(Object.entries(cfg.functions ?? {}));
}

export interface ImportMapChoice {
  /** Absolute path of the map, or null when no rule applies. */
  path: string | null;
  /** The rule that chose it. */
  rule: "config.toml import_map" | "function deno.json" | "functions/import_map.json" | "none";
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The map `supabase functions deploy` uses for `slug`; throws where the CLI refuses. */
export function deployImportMap(
  opts: { functionsDir: string; configFile: string; slug: string },
  config = readFunctionsConfig(opts.configFile),
): ImportMapChoice {
  const fnDir = join(opts.functionsDir, opts.slug);
  const configured = config.get(opts.slug)?.import_map;
  if (configured) {
    return { path: resolve(dirname(opts.configFile), configured), rule: "config.toml import_map" };
  }
  for (const name of ["deno.json", "deno.jsonc"]) {
    if (isFile(join(fnDir, name))) return { path: join(fnDir, name), rule: "function deno.json" };
  }
  if (isFile(join(fnDir, "import_map.json"))) {
    // The CLI's own words.
    throw new Error(
      `import_map.json in a function directory is no longer supported: ${opts.slug}. ` +
        `Rename it to deno.json, or set functions.${opts.slug}.import_map = ` +
        `"./functions/${opts.slug}/import_map.json" in config.toml to keep the file.`,
    );
  }
  const shared = join(opts.functionsDir, "import_map.json");
  if (isFile(shared)) return { path: shared, rule: "functions/import_map.json" };
  return { path: null, rule: "none" };
}

export interface ImportMap {
  imports: Record<string, string>;
  scopes?: Record<string, Record<string, string>>;
}

/** JSON with `//` and block comments (deno.jsonc); strings are left intact. */
function parseJsonc(text: string): unknown {
  return JSON.parse(
    text.replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_m, str) => str ?? ""),
  );
}

function isRelative(s: string): boolean {
  return s.startsWith("./") || s.startsWith("../") || s.startsWith("/");
}

/**
 * Reads a map (import_map.json, deno.json, deno.jsonc), keeping `imports` and `scopes`
 * with relative keys and addresses made absolute against the file, so the map still means
 * the same when merged into a file elsewhere.
 */
export function readImportMap(path: string): ImportMap {
  const text = Deno.readTextFileSync(path);
  const raw = (path.endsWith(".jsonc") ? parseJsonc(text) : JSON.parse(text)) as
    & Partial<ImportMap>
    & { importMap?: string };
  // A deno.json may point at a separate map file instead of holding `imports`.
  if (!raw.imports && typeof raw.importMap === "string") {
    return readImportMap(resolve(dirname(path), raw.importMap));
  }
  const base = pathToFileURL(path);
  const abs = (s: string) => isRelative(s) ? new URL(s, base).href : s;
  const rebase = (m: Record<string, string> = {}) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [abs(k), abs(v)]));
  const map: ImportMap = { imports: rebase(raw.imports) };
  if (raw.scopes) {
    map.scopes = Object.fromEntries(
      Object.entries(raw.scopes).map(([scope, m]) => [abs(scope), rebase(m)]),
    );
  }
  return map;
}

/**
 * The map a function runs with locally: its deploy map plus the local-only layer. The
 * layer only adds names; one the deploy map already has is an error, since hosted would
 * resolve it differently from the local stack.
 */
export function localImportMap(deploy: ImportMapChoice, localLayerFile: string): ImportMap {
  const map = deploy.path ? readImportMap(deploy.path) : { imports: {} };
  const layer = readImportMap(localLayerFile);
  const clash = Object.keys(layer.imports).filter((k) => k in map.imports);
  if (clash.length > 0) {
    throw new Error(
      `${clash.join(", ")}: in both the local-only layer and ${deploy.path}; ` +
        "the layer may only add names that never deploy",
    );
  }
  return { ...map, imports: { ...map.imports, ...layer.imports } };
}
