/**
 * Composio sandbox: a loopback HTTP server that speaks the subset of Composio's v3 REST API
 * we use (tool catalog, toolkit list, tool execution), so local dev and tests never need the
 * real SaaS. Shapes follow Composio's OpenAPI-generated client (composio-base-py
 * `tool_list_response.py`, `tool_execute_params.py`, `toolkit_list_response.py`) and the
 * API reference at docs.composio.dev; everything under `/_sandbox/` is ours, not Composio's.
 *
 * Run alone: `deno run -A stack/composio_sandbox.ts --port 8790` prints the base URL.
 */

import { mulberry32 } from "../supabase/functions/_shared/seeded_random.ts";

// ---------------------------------------------------------------------------------------------
// Types

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

/** Which sandboxed route a fault applies to. */
export type FaultRoute = "execute" | "list" | "get" | "toolkits";

export interface FaultSpec {
  /** Default "execute". "list" = GET /tools, "get" = GET /tools/{slug}, "toolkits" = GET /toolkits. */
  route?: FaultRoute;
  /** Only requests for this tool slug (execute and get routes). */
  slug?: string;
  /** Only execute requests carrying this `x-envelope-id`. */
  envelope_id?: string;
  /** HTTP status to answer with (409, 429, 500, 503, ...). */
  status?: number;
  /** Seconds, sent as the Retry-After header. */
  retry_after?: number;
  /** Answer 200 with `successful: false` (execute only); Composio reports tool failures this way. */
  successful_false?: boolean;
  /** Wait this long before answering (combines with the other effects). */
  delay_ms?: number;
  /** How many matching requests get this fault; unlimited when absent. */
  times?: number;
  /** Replaces the whole response body. */
  body?: unknown;
  /** Error message used in the default body. */
  message?: string;
}

export interface Fault extends FaultSpec {
  id: string;
  route: FaultRoute;
  /** Matching requests still to hit; null = unlimited. */
  remaining: number | null;
}

export interface ExecutionRecord {
  slug: string;
  envelope_id: string | null;
  at: string;
  /** HTTP status answered; 0 while the request is still in flight (e.g. delayed). */
  status: number;
  successful: boolean | null;
  log_id: string | null;
  arguments: unknown;
  user_id: string | null;
  connected_account_id: string | null;
  version: string | null;
}

export interface ExecutionsReport {
  by_envelope: Record<string, number>;
  total: number;
  log: ExecutionRecord[];
}

export interface GenerateSpec {
  toolkit: string;
  count: number;
  seed?: number;
}

export interface ComposioSandbox {
  /** Base URL, e.g. http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  apiKey: string;
  close(): Promise<void>;
  /** Restore fixture catalogs, clear faults, execution log and execute results. */
  reset(): void;
  addFault(spec: FaultSpec): Fault;
  clearFaults(): void;
  faults(): Fault[];
  executions(): ExecutionsReport;
  /** Replace one toolkit's tools (creating the toolkit if new); returns the tool count. */
  setCatalog(toolkit: string, tools: unknown[]): number;
  /** Remove one tool; false if it was not there. */
  removeTool(toolkit: string, slug: string): boolean;
  /** Replace a toolkit's tools with `count` generated ones; same seed, same tools. */
  generateCatalog(spec: GenerateSpec): number;
  /** Data returned by successful executes of `slug`. */
  setExecuteResult(slug: string, data: unknown): void;
  /**
   * Appends items served as they are (no normalisation) after the toolkit's tools in
   * `GET /tools` listings filtered by that toolkit: malformed tools for client tests.
   * Returns how many raw items the toolkit now has.
   */
  addRawTools(toolkit: string, items: unknown[]): number;
  /** Sets the toolkit's latest version and/or available versions (and its tools'). */
  setToolkitVersions(
    toolkit: string,
    spec: { version?: string; available_versions?: string[] },
  ): ToolkitInfo;
}

export interface SandboxOptions {
  port?: number;
  hostname?: string;
  apiKey?: string;
  fixturesDir?: string | URL;
}

export const DEFAULT_API_KEY = "sandbox-composio-key";
const DEFAULT_FIXTURES = new URL("./fixtures/composio/", import.meta.url);
// Composio documents no default page size for /tools; 20 mirrors its toolkit listings. The
// toolkit list documents "max allowed is 1000"; we clamp both routes there.
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;
const MAX_GENERATED = 100_000;

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported for tests)

/**
 * Picks the first queued fault matching the request (FIFO), and returns the queue with that
 * fault's remaining count spent. Pure so the "first 429, then success" semantics are easy to
 * test in isolation.
 */
export function matchFault(
  queue: readonly Fault[],
  req: { route: FaultRoute; slug?: string; envelope_id?: string | null },
): { fault: Fault | null; queue: Fault[] } {
  const index = queue.findIndex((f) =>
    f.route === req.route &&
    (f.remaining === null || f.remaining > 0) &&
    (f.slug === undefined || sameSlug(f.slug, req.slug)) &&
    (f.envelope_id === undefined || f.envelope_id === req.envelope_id)
  );
  if (index < 0) return { fault: null, queue: [...queue] };
  const fault = queue[index];
  const spent = fault.remaining === null ? fault : { ...fault, remaining: fault.remaining - 1 };
  const rest = [...queue];
  if (spent.remaining === 0) rest.splice(index, 1);
  else rest[index] = spent;
  return { fault, queue: rest };
}

/**
 * Reads `toolkit_versions` in every form we have seen: "latest", a JSON object, "github:ver,
 * slack:latest", and Composio's documented bracket notation `toolkit_versions[github]=ver`.
 */
export function parseToolkitVersions(
  params: URLSearchParams,
): { all?: string; per: Record<string, string> } {
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
const STANDARD_OUTPUT: JsonSchema = {
  type: "object",
  properties: {
    data: { type: "object", properties: {} },
    error: { type: "string", nullable: true },
    successful: { type: "boolean" },
  },
  required: ["data", "successful"],
};

// ---------------------------------------------------------------------------------------------
// Server

export async function startComposioSandbox(opts: SandboxOptions = {}): Promise<ComposioSandbox> {
  const apiKey = opts.apiKey ?? DEFAULT_API_KEY;
  const fixtures = await loadFixtures(opts.fixturesDir ?? DEFAULT_FIXTURES);

  // All mutable state lives here; reset() rebuilds it from the fixtures read at start.
  let catalog = cloneCatalog(fixtures);
  let faultQueue: Fault[] = [];
  let log: ExecutionRecord[] = [];
  let results = new Map<string, unknown>();
  let rawTools = new Map<string, unknown[]>();
  let faultSeq = 0;
  let logSeq = 0;

  const takeFault = (req: Parameters<typeof matchFault>[1]): Fault | null => {
    const { fault, queue } = matchFault(faultQueue, req);
    faultQueue = queue;
    return fault;
  };

  const findTool = (slug: string): ToolDef | undefined => {
    for (const kit of catalog.values()) {
      const tool = kit.tools.find((t) => sameSlug(t.slug, slug));
      if (tool) return tool;
    }
  };

  const control = {
    reset() {
      catalog = cloneCatalog(fixtures);
      faultQueue = [];
      log = [];
      results = new Map();
      rawTools = new Map();
      logSeq = 0;
    },
    addFault(spec: FaultSpec): Fault {
      const problem = checkFault(spec);
      if (problem) throw new TypeError(problem);
      const fault: Fault = {
        ...spec,
        id: `fault_${++faultSeq}`,
        route: spec.route ?? "execute",
        remaining: spec.times ?? null,
      };
      faultQueue = [...faultQueue, fault];
      return { ...fault };
    },
    clearFaults() {
      faultQueue = [];
    },
    faults: (): Fault[] => faultQueue.map((f) => ({ ...f })),
    executions(): ExecutionsReport {
      const by_envelope: Record<string, number> = {};
      for (const e of log) {
        if (e.envelope_id !== null) {
          by_envelope[e.envelope_id] = (by_envelope[e.envelope_id] ?? 0) + 1;
        }
      }
      return { by_envelope, total: log.length, log: structuredClone(log) };
    },
    setCatalog(toolkit: string, tools: unknown[]): number {
      const kit = catalog.get(toolkit.toLowerCase()) ?? newToolkit(toolkit);
      const normalized = tools.map((raw) => normalizeTool(raw, kit.info));
      catalog.set(kit.info.slug, { info: kit.info, tools: normalized });
      return normalized.length;
    },
    removeTool(toolkit: string, slug: string): boolean {
      const kit = catalog.get(toolkit.toLowerCase());
      const before = kit?.tools.length ?? 0;
      if (kit) kit.tools = kit.tools.filter((t) => !sameSlug(t.slug, slug));
      return (kit?.tools.length ?? 0) < before;
    },
    generateCatalog({ toolkit, count, seed }: GenerateSpec): number {
      if (!Number.isInteger(count) || count < 0 || count > MAX_GENERATED) {
        throw new TypeError(`count must be an integer in 0..${MAX_GENERATED}`);
      }
      const kit = catalog.get(toolkit.toLowerCase()) ?? newToolkit(toolkit);
      const tools = generateTools(kit.info, count, seed ?? 1).map((t) =>
        normalizeTool(t, kit.info)
      );
      catalog.set(kit.info.slug, { info: kit.info, tools });
      return tools.length;
    },
    addRawTools(toolkit: string, items: unknown[]): number {
      if (!Array.isArray(items)) throw new TypeError("items must be an array");
      const key = toolkit.toLowerCase();
      const list = [...(rawTools.get(key) ?? []), ...structuredClone(items)];
      rawTools.set(key, list);
      return list.length;
    },
    setToolkitVersions(
      toolkit: string,
      spec: { version?: string; available_versions?: string[] },
    ): ToolkitInfo {
      const kit = catalog.get(toolkit.toLowerCase());
      if (!kit) throw new TypeError(`no toolkit ${toolkit}`);
      if (spec.version !== undefined && (typeof spec.version !== "string" || !spec.version)) {
        throw new TypeError("version must be a non-empty string");
      }
      const av = spec.available_versions;
      if (av !== undefined && !(Array.isArray(av) && av.every((v) => typeof v === "string"))) {
        throw new TypeError("available_versions must be an array of strings");
      }
      const version = spec.version ?? kit.info.version;
      const versions = av ?? kit.info.available_versions;
      kit.info = {
        ...kit.info,
        version,
        available_versions: versions.includes(version) ? [...versions] : [...versions, version],
      };
      for (const t of kit.tools) {
        t.version = kit.info.version;
        t.available_versions = [...kit.info.available_versions];
      }
      return structuredClone(kit.info);
    },
    setExecuteResult(slug: string, data: unknown) {
      results.set(slug.toUpperCase(), structuredClone(data));
    },
  };

  /** Runs a catalog-route fault, if one matches: delay, then maybe an error response. */
  const catalogFault = async (route: FaultRoute, slug?: string): Promise<Response | null> => {
    const fault = takeFault({ route, slug });
    if (fault?.delay_ms) await sleep(fault.delay_ms);
    return fault?.status ? faultResponse(fault) : null;
  };

  // --- API handlers -----------------------------------------------------------------------

  const listTools = async (url: URL): Promise<Response> => {
    const injected = await catalogFault("list");
    if (injected) return injected;
    const q = url.searchParams;
    const toolSlugs = csv(q.get("tool_slugs"));
    const kits = csv(q.get("toolkit_slug")).map((s) => s.toLowerCase());
    const tags = q.getAll("tags").flatMap((t) => csv(t));
    const search = q.get("search")?.toLowerCase();
    const withDeprecated = q.get("include_deprecated") === "true";
    let tools = [...catalog.values()].flatMap((k) => k.tools);
    if (toolSlugs.length) {
      // Composio: tool_slugs "overrides other filters".
      tools = tools.filter((t) => toolSlugs.some((s) => sameSlug(s, t.slug)));
    } else {
      if (kits.length) tools = tools.filter((t) => kits.includes(t.toolkit.slug));
      if (tags.length) tools = tools.filter((t) => t.tags.some((tag) => tags.includes(tag)));
      if (search) {
        tools = tools.filter((t) =>
          `${t.slug} ${t.name} ${t.description}`.toLowerCase().includes(search)
        );
      }
      if (!withDeprecated) tools = tools.filter((t) => !t.is_deprecated);
    }
    // Raw items (addRawTools) follow their toolkit's tools, served as they are.
    const listed: (ToolDef | { raw: unknown })[] = [...tools];
    if (!toolSlugs.length) {
      for (const [kit, raws] of rawTools) {
        if (!kits.length || kits.includes(kit)) listed.push(...raws.map((raw) => ({ raw })));
      }
    }
    const page = paginate(listed, q);
    if (typeof page === "string") return apiError(400, page);
    const versions = parseToolkitVersions(q);
    return json(200, {
      items: page.items.map((t) =>
        "raw" in t ? structuredClone(t.raw) : presentTool(t as ToolDef, catalog, versions)
      ),
      next_cursor: page.next_cursor,
      total_pages: page.total_pages,
      current_page: page.current_page,
      total_items: page.total_items,
    });
  };

  const getTool = async (url: URL, slug: string): Promise<Response> => {
    const injected = await catalogFault("get", slug);
    if (injected) return injected;
    const tool = findTool(slug);
    if (!tool) return apiError(404, `Tool ${slug} not found`);
    const versions = parseToolkitVersions(url.searchParams);
    const explicit = url.searchParams.get("version");
    if (explicit) versions.per[tool.toolkit.slug] = explicit;
    return json(200, presentTool(tool, catalog, versions));
  };

  const listToolkits = async (url: URL): Promise<Response> => {
    const injected = await catalogFault("toolkits");
    if (injected) return injected;
    const category = url.searchParams.get("category");
    const kits = [...catalog.values()].filter((k) =>
      !category || k.info.categories.some((c) => c.id === category)
    );
    const page = paginate(kits, url.searchParams);
    if (typeof page === "string") return apiError(400, page);
    // Composio's toolkit list has items/next_cursor/total_pages only (no current_page/total_items).
    return json(200, {
      items: page.items.map(presentToolkit),
      next_cursor: page.next_cursor,
      total_pages: page.total_pages,
    });
  };

  const executeTool = async (req: Request, slug: string): Promise<Response> => {
    // Record before anything can fail, so tests can tell "never sent" from "sent and faulted".
    const envelopeId = req.headers.get("x-envelope-id");
    const entry: ExecutionRecord = {
      slug,
      envelope_id: envelopeId,
      at: new Date().toISOString(),
      status: 0,
      successful: null,
      log_id: null,
      arguments: null,
      user_id: null,
      connected_account_id: null,
      version: null,
    };
    log.push(entry);
    const text = await req.text();
    const body = parseJson(text);
    if (isObject(body)) {
      entry.arguments = structuredClone(body.arguments ?? null);
      entry.user_id = typeof body.user_id === "string" ? body.user_id : null;
      entry.connected_account_id = typeof body.connected_account_id === "string"
        ? body.connected_account_id
        : null;
      entry.version = typeof body.version === "string" ? body.version : null;
    }
    const finish = (res: Response, successful: boolean | null, logId: string | null) => {
      entry.status = res.status;
      entry.successful = successful;
      entry.log_id = logId;
      return res;
    };

    const fault = takeFault({ route: "execute", slug, envelope_id: envelopeId });
    if (fault?.delay_ms) await sleep(fault.delay_ms);
    if (fault?.status) return finish(faultResponse(fault), null, null);

    const tool = findTool(slug);
    if (!tool) return finish(apiError(404, `Tool ${slug} not found`), null, null);
    if (!isObject(body) || !isObject(body.arguments)) {
      return finish(
        apiError(400, "Request body must be a JSON object with an `arguments` object"),
        null,
        null,
      );
    }

    const logId = `log_sandbox_${String(++logSeq).padStart(6, "0")}`;
    if (fault?.successful_false) {
      const payload = fault.body ?? {
        data: {},
        error: fault.message ?? `${tool.slug} failed (sandbox fault)`,
        successful: false,
        log_id: logId,
      };
      return finish(json(200, payload), false, logId);
    }
    const data = results.has(tool.slug.toUpperCase())
      ? structuredClone(results.get(tool.slug.toUpperCase()))
      : { ok: true, tool: tool.slug, arguments_keys: Object.keys(body.arguments).sort() };
    return finish(json(200, { data, error: null, successful: true, log_id: logId }), true, logId);
  };

  // --- Control handlers -------------------------------------------------------------------

  const controlCall = (fn: () => Response): Response => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof TypeError) return json(400, { error: err.message });
      throw err;
    }
  };

  // --- Routing: the one table of every route ----------------------------------------------

  type Handler = (req: Request, url: URL, params: string[]) => Response | Promise<Response>;
  const API = String.raw`^/api/v3(?:\.1)?`; // v3.1 is the current path; v3 remains supported.
  const routes: [string, RegExp, Handler][] = [
    ["GET", new RegExp(`${API}/tools/?$`), (_req, url) => listTools(url)],
    ["POST", new RegExp(`${API}/tools/execute/([^/]+)$`), (req, _u, [s]) => executeTool(req, s)],
    ["GET", new RegExp(`${API}/tools/([^/]+)$`), (_req, url, [s]) => getTool(url, s)],
    ["GET", new RegExp(`${API}/toolkits/?$`), (_req, url) => listToolkits(url)],
    ["POST", /^\/_sandbox\/reset$/, () => (control.reset(), json(200, { ok: true }))],
    ["POST", /^\/_sandbox\/faults$/, async (req) => {
      const spec = await readJson(req);
      return controlCall(() => json(201, control.addFault(spec as FaultSpec)));
    }],
    ["GET", /^\/_sandbox\/faults$/, () => json(200, { faults: control.faults() })],
    ["DELETE", /^\/_sandbox\/faults$/, () => (control.clearFaults(), json(200, { ok: true }))],
    ["GET", /^\/_sandbox\/executions$/, () => json(200, control.executions())],
    ["POST", /^\/_sandbox\/catalog\/generate$/, async (req) => {
      const spec = await readJson(req);
      const { toolkit, count, seed } = isObject(spec) ? spec : {};
      if (typeof toolkit !== "string" || !toolkit || typeof count !== "number") {
        return json(400, { error: "body must be {toolkit, count, seed?}" });
      }
      const s = typeof seed === "number" ? seed : undefined;
      return controlCall(() =>
        json(200, { toolkit, count: control.generateCatalog({ toolkit, count, seed: s }) })
      );
    }],
    ["PUT", /^\/_sandbox\/catalog\/([^/]+)$/, async (req, _u, [kit]) => {
      const tools = await readJson(req);
      if (!Array.isArray(tools)) return json(400, { error: "body must be an array of tools" });
      return controlCall(() => json(200, { toolkit: kit, count: control.setCatalog(kit, tools) }));
    }],
    [
      "DELETE",
      /^\/_sandbox\/catalog\/([^/]+)\/([^/]+)$/,
      (_req, _u, [kit, slug]) =>
        control.removeTool(kit, slug)
          ? json(200, { ok: true })
          : json(404, { error: `no tool ${slug} in ${kit}` }),
    ],
    ["POST", /^\/_sandbox\/catalog\/([^/]+)\/raw$/, async (req, _u, [kit]) => {
      const items = await readJson(req);
      if (!Array.isArray(items)) return json(400, { error: "body must be an array" });
      return controlCall(() => json(200, { toolkit: kit, raw: control.addRawTools(kit, items) }));
    }],
    ["PATCH", /^\/_sandbox\/toolkits\/([^/]+)$/, async (req, _u, [kit]) => {
      const spec = await readJson(req);
      if (!isObject(spec)) {
        return json(400, { error: "body must be {version?, available_versions?}" });
      }
      return controlCall(() => json(200, control.setToolkitVersions(kit, spec)));
    }],
    ["PUT", /^\/_sandbox\/execute-result\/([^/]+)$/, async (req, _u, [slug]) => {
      control.setExecuteResult(slug, await readJson(req));
      return json(200, { ok: true });
    }],
  ];

  const handle = async (req: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path.startsWith("/_sandbox/")) {
      // Control routes carry no key, so refuse anyone but this machine.
      const remote = (info.remoteAddr as Deno.NetAddr).hostname;
      if (!isLoopback(remote)) return json(403, { error: "sandbox control is loopback-only" });
    } else if (path.startsWith("/api/") && req.headers.get("x-api-key") !== apiKey) {
      return apiError(401, "Invalid or missing API key (x-api-key header)");
    }
    for (const [method, pattern, handler] of routes) {
      const m = pattern.exec(path);
      if (m && req.method === method) {
        try {
          return await handler(req, url, m.slice(1).map(decodeURIComponent));
        } catch (err) {
          if (err instanceof BadRequest) return json(400, { error: err.message });
          throw err;
        }
      }
    }
    return apiError(404, `No route for ${req.method} ${path}`);
  };

  const server = Deno.serve({
    port: opts.port ?? 0,
    hostname: opts.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, handle);
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;

  return {
    url: `http://${host}:${addr.port}`,
    apiKey,
    close: () => server.shutdown(),
    ...control,
  };
}

// ---------------------------------------------------------------------------------------------
// Catalog plumbing

type Catalog = Map<string, { info: ToolkitInfo; tools: ToolDef[] }>;

async function loadFixtures(dir: string | URL): Promise<Catalog> {
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

function cloneCatalog(c: Catalog): Catalog {
  return new Map([...c].map(([k, v]) => [k, structuredClone(v)]));
}

function toolkitInfo(raw: Record<string, unknown>): ToolkitInfo {
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

function newToolkit(slug: string): { info: ToolkitInfo; tools: ToolDef[] } {
  return { info: toolkitInfo({ slug }), tools: [] };
}

/** Fills what Composio always sends, so fixtures and PUT bodies may stay terse. */
function normalizeTool(raw: unknown, kit: ToolkitInfo): ToolDef {
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

/** A tool as Composio returns it, with the version the caller asked for echoed back. */
function presentTool(
  tool: ToolDef,
  catalog: Catalog,
  versions: { all?: string; per: Record<string, string> },
): Record<string, unknown> {
  const latest = catalog.get(tool.toolkit.slug)?.info.version ?? tool.version;
  const asked = versions.per[tool.toolkit.slug] ?? versions.all;
  const version = !asked || asked === "latest" ? latest : asked;
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

function presentToolkit(kit: { info: ToolkitInfo; tools: ToolDef[] }): Record<string, unknown> {
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

// ---------------------------------------------------------------------------------------------
// Paging: Composio's cursor is base64 of the page and limit; we encode the same two numbers.

interface Page<T> {
  items: T[];
  next_cursor: string | null;
  total_pages: number;
  current_page: number;
  total_items: number;
}

function paginate<T>(all: T[], q: URLSearchParams): Page<T> | string {
  let limit = DEFAULT_LIMIT;
  let page = 1;
  const rawLimit = q.get("limit");
  if (rawLimit !== null && rawLimit !== "") {
    const n = Number(rawLimit);
    if (!Number.isInteger(n) || n < 1) return `limit must be a positive integer, got ${rawLimit}`;
    limit = Math.min(n, MAX_LIMIT);
  }
  const cursor = q.get("cursor");
  if (cursor) {
    const decoded = decodeCursor(cursor);
    if (!decoded) return "Invalid cursor";
    ({ page, limit } = decoded); // the cursor's limit wins, so pages never overlap
  }
  const start = (page - 1) * limit;
  const total_pages = Math.ceil(all.length / limit);
  return {
    items: all.slice(start, start + limit),
    next_cursor: start + limit < all.length ? encodeCursor(page + 1, limit) : null,
    total_pages,
    current_page: page,
    total_items: all.length,
  };
}

function encodeCursor(page: number, limit: number): string {
  return btoa(JSON.stringify({ page, limit }));
}

function decodeCursor(cursor: string): { page: number; limit: number } | null {
  try {
    const v = JSON.parse(atob(cursor));
    const ok = Number.isInteger(v?.page) && v.page >= 1 && Number.isInteger(v?.limit) &&
      v.limit >= 1 && v.limit <= MAX_LIMIT;
    return ok ? { page: v.page, limit: v.limit } : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Responses and small utilities

const STATUS_SLUGS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
};

let requestSeq = 0;

/** Composio's documented error body: {error: {message, code, slug, status, request_id, ...}}. */
function apiError(status: number, message: string, headers?: HeadersInit): Response {
  return json(status, {
    error: {
      message,
      code: status,
      slug: STATUS_SLUGS[status] ?? `Http${status}`,
      status,
      request_id: `req_sandbox_${++requestSeq}`,
    },
  }, headers);
}

function faultResponse(fault: Fault): Response {
  const headers: Record<string, string> = {};
  if (fault.retry_after !== undefined) headers["retry-after"] = String(fault.retry_after);
  const status = fault.status!;
  if (fault.body !== undefined) return json(status, fault.body, headers);
  return apiError(status, fault.message ?? `Sandbox fault: HTTP ${status}`, headers);
}

function json(status: number, body: unknown, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

class BadRequest extends Error {}

async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  const v = parseJson(text);
  if (v === undefined) throw new BadRequest("body must be JSON");
  return v;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Returns a problem description, or null when the spec is usable. */
function checkFault(spec: unknown): string | null {
  if (!isObject(spec)) return "fault must be an object";
  const routes: FaultRoute[] = ["execute", "list", "get", "toolkits"];
  if (spec.route !== undefined && !routes.includes(spec.route as FaultRoute)) {
    return `route must be one of ${routes.join(", ")}`;
  }
  for (const key of ["slug", "envelope_id", "message"]) {
    if (spec[key] !== undefined && typeof spec[key] !== "string") return `${key} must be a string`;
  }
  const s = spec.status;
  if (s !== undefined && !(Number.isInteger(s) && (s as number) >= 400 && (s as number) <= 599)) {
    return "status must be an HTTP error status (400-599)";
  }
  for (const key of ["retry_after", "delay_ms"]) {
    const v = spec[key];
    if (v !== undefined && !(typeof v === "number" && v >= 0)) return `${key} must be >= 0`;
  }
  const t = spec.times;
  if (t !== undefined && !(Number.isInteger(t) && (t as number) >= 1)) {
    return "times must be a positive integer";
  }
  if (s === undefined && !spec.successful_false && !spec.delay_ms) {
    return "fault needs status, successful_false or delay_ms";
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sameSlug(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toUpperCase() === b.toUpperCase();
}

function csv(v: string | null): string[] {
  return (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

function isLoopback(host: string): boolean {
  return host === "::1" || host.startsWith("127.") || host.startsWith("::ffff:127.");
}

function titleCase(s: string): string {
  return s.toLowerCase().split(/[_\s-]+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(" ");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------

if (import.meta.main) {
  const flag = (name: string): string | undefined => {
    const i = Deno.args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const arg = Deno.args[i];
    return arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : Deno.args[i + 1];
  };
  const sandbox = await startComposioSandbox({
    port: Number(flag("port") ?? 0),
    hostname: flag("hostname"),
    apiKey: flag("api-key"),
    fixturesDir: flag("fixtures"),
  });
  console.log(sandbox.url);
  Deno.addSignalListener("SIGINT", async () => {
    await sandbox.close();
    Deno.exit(0);
  });
}
