// The sandbox's catalog: toolkits and their tools as loaded from the fixture files, the
// defaults filled into terse fixtures and control bodies, and tools and toolkits as
// Composio presents them (shapes from composio-base-py `tool_list_response.py` and
// `toolkit_list_response.py`).
import { isObject, titleCase } from "./util.ts";

export type JsonSchema = Record<string, unknown>;

/** Toolkit metadata as kept in the catalog (fixture files hold one of these plus its tools). */
export interface ToolkitInfo {
  slug: string;
  name: string;
  logo: string;
  description: string;
  app_url?: string;
  categories: { id: string; name: string }[];
  auth_schemes: string[];
  composio_managed_auth_schemes: string[];
  no_auth: boolean;
  /** The version "latest" resolves to. */
  version: string;
  available_versions: string[];
}

/** A tool as stored. `version` is the toolkit's latest; responses echo the requested one. */
export interface ToolDef {
  slug: string;
  name: string;
  description: string;
  toolkit: { slug: string; name: string; logo: string };
  input_parameters: JsonSchema;
  output_parameters: JsonSchema;
  tags: string[];
  scopes: string[];
  no_auth: boolean;
  version: string;
  available_versions: string[];
  is_deprecated: boolean;
  human_description?: string;
}

export interface Toolkit {
  info: ToolkitInfo;
  tools: ToolDef[];
}

/** Toolkits by slug, in fixture-file order (stable paging). */
export type Catalog = Map<string, Toolkit>;

export const STANDARD_OUTPUT: JsonSchema = {
  type: "object",
  properties: {
    data: { type: "object", properties: {} },
    error: { type: "string", nullable: true },
    successful: { type: "boolean" },
  },
  required: ["data", "successful"],
};

export async function loadFixtures(dir: string | URL): Promise<Catalog> {
  const base = typeof dir === "string" ? dir.replace(/\/?$/, "/") : new URL("./", dir);
  const names: string[] = [];
  for await (const entry of Deno.readDir(base)) {
    if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name);
  }
  names.sort(); // stable toolkit order, hence stable paging
  const catalog: Catalog = new Map();
  for (const name of names) {
    const file = typeof base === "string" ? `${base}${name}` : new URL(name, base);
    const raw = JSON.parse(await Deno.readTextFile(file));
    if (!isObject(raw) || !isObject(raw.toolkit) || !Array.isArray(raw.tools)) {
      throw new Error(`${name}: expected {toolkit, tools}`);
    }
    const info = toolkitInfo(raw.toolkit);
    catalog.set(info.slug, { info, tools: raw.tools.map((t) => normalizeTool(t, info)) });
  }
  return catalog;
}

export function cloneCatalog(c: Catalog): Catalog {
  return new Map([...c].map(([k, v]) => [k, structuredClone(v)]));
}

export function toolkitInfo(raw: Record<string, unknown>): ToolkitInfo {
  const slug = String(raw.slug ?? "").toLowerCase();
  if (!slug) throw new TypeError("toolkit needs a slug");
  const version = typeof raw.version === "string" ? raw.version : "20250101_00";
  const versions = Array.isArray(raw.available_versions) ? raw.available_versions.map(String) : [];
  return {
    slug,
    name: typeof raw.name === "string" ? raw.name : titleCase(slug),
    logo: typeof raw.logo === "string" ? raw.logo : `https://logos.composio.dev/api/${slug}`,
    description: typeof raw.description === "string" ? raw.description : "",
    app_url: typeof raw.app_url === "string" ? raw.app_url : undefined,
    categories: Array.isArray(raw.categories) ? structuredClone(raw.categories) : [],
    auth_schemes: Array.isArray(raw.auth_schemes) ? raw.auth_schemes.map(String) : ["OAUTH2"],
    composio_managed_auth_schemes: Array.isArray(raw.composio_managed_auth_schemes)
      ? raw.composio_managed_auth_schemes.map(String)
      : [],
    no_auth: raw.no_auth === true,
    version,
    available_versions: versions.includes(version) ? versions : [...versions, version],
  };
}

export function newToolkit(slug: string): Toolkit {
  return { info: toolkitInfo({ slug }), tools: [] };
}

/** Fills what Composio always sends, so fixtures and PUT bodies may stay terse. */
export function normalizeTool(raw: unknown, kit: ToolkitInfo): ToolDef {
  if (!isObject(raw) || typeof raw.slug !== "string" || !raw.slug) {
    throw new TypeError("each tool needs a string slug");
  }
  const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const emptySchema = { type: "object", properties: {}, required: [] };
  return {
    slug: raw.slug,
    name: typeof raw.name === "string" ? raw.name : titleCase(raw.slug),
    description: typeof raw.description === "string" ? raw.description : "",
    toolkit: { slug: kit.slug, name: kit.name, logo: kit.logo },
    input_parameters: isObject(raw.input_parameters)
      ? structuredClone(raw.input_parameters)
      : emptySchema,
    output_parameters: isObject(raw.output_parameters)
      ? structuredClone(raw.output_parameters)
      : STANDARD_OUTPUT,
    tags: strings(raw.tags),
    scopes: strings(raw.scopes),
    no_auth: raw.no_auth === true,
    version: kit.version,
    available_versions: [...kit.available_versions],
    is_deprecated: raw.is_deprecated === true,
    ...(typeof raw.human_description === "string"
      ? { human_description: raw.human_description }
      : {}),
  };
}

export type ToolkitVersions = { all?: string; per: Record<string, string> };

/**
 * Reads `toolkit_versions` in every form we have seen: "latest", a JSON object, "github:ver,
 * slack:latest", and Composio's documented bracket notation `toolkit_versions[github]=ver`.
 */
export function parseToolkitVersions(params: URLSearchParams): ToolkitVersions {
  const per: Record<string, string> = {};
  let all: string | undefined;
  for (const [key, value] of params) {
    const bracket = /^toolkit_versions\[([^\]]+)\]$/.exec(key);
    if (bracket) per[bracket[1].toLowerCase()] = value;
    if (key !== "toolkit_versions") continue;
    const raw = value.trim();
    if (raw.startsWith("{")) {
      try {
        for (const [k, v] of Object.entries(JSON.parse(raw))) {
          if (typeof v === "string") per[k.toLowerCase()] = v;
        }
      } catch { /* unreadable: treat as unspecified, as a lenient server would */ }
    } else if (raw.includes(":")) {
      for (const pair of raw.split(",")) {
        const [k, v] = pair.split(":").map((s) => s.trim());
        if (k && v) per[k.toLowerCase()] = v;
      }
    } else if (raw) {
      all = raw;
    }
  }
  return { all, per };
}

/** The version a request resolves to for a toolkit: what it asked for, else the latest. */
export function resolveVersion(kit: ToolkitInfo | undefined, asked: string | undefined | null) {
  return !asked || asked === "latest" ? kit?.version ?? null : asked;
}

/** A tool as Composio returns it, with the version the caller asked for echoed back. */
export function presentTool(
  tool: ToolDef,
  catalog: Catalog,
  versions: ToolkitVersions,
): Record<string, unknown> {
  const kit = catalog.get(tool.toolkit.slug)?.info;
  const version = resolveVersion(kit, versions.per[tool.toolkit.slug] ?? versions.all) ??
    tool.version;
  // Shallow: the response is serialised at once and never mutated, and cloning every schema
  // of a 10,000-tool listing would make the sandbox, not the client, the bottleneck.
  return {
    ...tool,
    version,
    deprecated: {
      available_versions: [...tool.available_versions],
      displayName: tool.name,
      is_deprecated: tool.is_deprecated,
      toolkit: { logo: tool.toolkit.logo },
      version,
    },
    scope_requirements: null,
  };
}

export function presentToolkit(kit: Toolkit): Record<string, unknown> {
  const { info } = kit;
  return {
    slug: info.slug,
    name: info.name,
    is_local_toolkit: false,
    no_auth: info.no_auth,
    auth_schemes: [...info.auth_schemes],
    composio_managed_auth_schemes: [...info.composio_managed_auth_schemes],
    meta: {
      categories: structuredClone(info.categories),
      description: info.description,
      logo: info.logo,
      app_url: info.app_url ?? null,
      tools_count: kit.tools.length,
      triggers_count: 0,
      // Fixed dates keep responses byte-stable across runs.
      created_at: "2025-01-01T00:00:00.000Z",
      updated_at: "2025-01-01T00:00:00.000Z",
    },
  };
}
