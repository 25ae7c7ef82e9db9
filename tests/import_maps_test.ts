// The import maps agree: every function deploys with the one shared map
// (supabase/functions/import_map.json, named in config.toml), that map resolves every bare
// import the functions use, a name in more than one map (that one, the tooling's root
// deno.json, the local-only layer) means the same package and version in each, and no
// deployed map holds a local-only name.
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { discoverFunctions } from "../stack/functions_server.ts";
import {
  deployImportMap,
  functionsLocalImportsFile,
  type ImportMap,
  readFunctionsConfig,
  readImportMap,
} from "../stack/functions_imports.ts";
import { functionsDir, projectRoot } from "../stack/paths.ts";

const configFile = join(projectRoot, "supabase", "config.toml");
const sharedMapFile = join(functionsDir, "import_map.json");
const slugs = discoverFunctions(functionsDir);

/** Specifiers of static imports, re-exports and literal dynamic imports in a module. */
function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]);
  return found;
}

const isRelative = (s: string) => s.startsWith("./") || s.startsWith("../");
const hasScheme = (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s);

/** Every module a function's entrypoint reaches through relative imports, with its imports. */
function moduleGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (graph.has(file)) continue;
    const specs = importSpecifiers(Deno.readTextFileSync(file));
    graph.set(file, specs);
    for (const s of specs) if (isRelative(s)) todo.push(join(dirname(file), s));
  }
  return graph;
}

/** Whether an import map resolves a bare specifier (exact name, or a `prefix/` entry). */
function resolves(map: ImportMap, spec: string): boolean {
  return spec in map.imports ||
    Object.keys(map.imports).some((k) => k.endsWith("/") && spec.startsWith(k));
}

Deno.test("import maps: every function names the shared map in config.toml, as deploy reads it", () => {
  assert.ok(slugs.length > 0);
  const config = readFunctionsConfig(configFile);
  const missing = slugs.filter((s) => config.get(s)?.import_map !== "./functions/import_map.json");
  assert.deepEqual(
    missing,
    [],
    `add import_map = "./functions/import_map.json" under [functions.<slug>] in ` +
      `supabase/config.toml for: ${missing.join(", ")}`,
  );
  for (const slug of slugs) {
    assert.deepEqual(deployImportMap({ functionsDir, configFile, slug }, config), {
      path: sharedMapFile,
      rule: "config.toml import_map",
    });
  }
});

Deno.test("import maps: a name in two maps means the same package and version in both", () => {
  const maps: Record<string, ImportMap> = {
    "deno.json (tooling)": readImportMap(join(projectRoot, "deno.json")),
    "supabase/functions/import_map.json (deployed)": readImportMap(sharedMapFile),
    "stack/functions_local_imports.json (local only)": readImportMap(functionsLocalImportsFile),
  };
  const drift: string[] = [];
  const names = Object.keys(maps);
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = maps[names[i]].imports, b = maps[names[j]].imports;
      for (const k of Object.keys(a)) {
        if (k in b && a[k] !== b[k]) {
          drift.push(`${k}: ${a[k]} in ${names[i]}, ${b[k]} in ${names[j]}`);
        }
      }
    }
  }
  assert.deepEqual(drift, []);
});

Deno.test("import maps: the deployed map resolves every bare import of every function, pinned there alone", () => {
  const unresolved: string[] = [];
  const inline: string[] = [];
  const local = readImportMap(functionsLocalImportsFile);
  for (const slug of slugs) {
    const choice = deployImportMap({ functionsDir, configFile, slug });
    const map = choice.path ? readImportMap(choice.path) : { imports: {} };
    for (const name of Object.keys(local.imports)) {
      assert.ok(!(name in map.imports), `${slug}: the local-only ${name} is in ${choice.path}`);
    }
    for (const [file, specs] of moduleGraph(join(functionsDir, slug, "index.ts"))) {
      const where = `${slug}: ${relative(projectRoot, file)}`;
      for (const s of specs) {
        if (isRelative(s) || s.startsWith("node:")) continue;
        if (hasScheme(s)) inline.push(`${where} imports ${s}`);
        else if (!resolves(map, s)) unresolved.push(`${where} imports ${s}`);
      }
    }
  }
  assert.deepEqual(unresolved, [], "add these to supabase/functions/import_map.json");
  assert.deepEqual(inline, [], "name them in supabase/functions/import_map.json instead");
});

Deno.test("import maps: the scan sees static, re-exported, side-effect and literal dynamic imports", () => {
  const src = [
    'import { a } from "hono";',
    "import type {",
    "  B,",
    '} from "./b.ts";',
    'export { c } from "zod";',
    'import "./side.ts";',
    'const m = await import("./lazy.ts");',
    'const n = await import(scope + "computed");',
  ].join("\n");
  assert.deepEqual(importSpecifiers(src).sort(), [
    "./b.ts",
    "./lazy.ts",
    "./side.ts",
    "hono",
    "zod",
  ]);
});
