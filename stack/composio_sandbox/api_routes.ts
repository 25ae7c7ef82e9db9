// Composio's REST routes as the sandbox serves them, one Hono app mounted under each API
// base path: `GET /tools`, `GET /tools/{slug}`, `GET /toolkits`, `POST /tools/execute/{slug}`,
// `POST /connected_accounts`, `GET /connected_accounts/{id}`, `GET /connected_accounts`;
// and the gate in front of them all: the API key, then the rate limit.
import { Hono, type MiddlewareHandler } from "hono";
import { filterAccounts, presentAccount, presentCreated } from "./accounts.ts";
import { parseToolkitVersions, presentTool, presentToolkit, type ToolDef } from "./catalog.ts";
import { executeTool } from "./execution.ts";
import type { FaultRoute } from "./faults.ts";
import { apiError, json, parseJson } from "./http.ts";
import { paginate } from "./paging.ts";
import { rateLimitHeaders } from "./rate_limit.ts";
import type { SandboxState } from "./state.ts";
import { csv, isObject, sameSlug, sleep } from "./util.ts";

/**
 * Every /api request: refused without the key (and not counted, as Composio counts only
 * authenticated requests), counted, then held to the rate limit when one is set; admitted
 * answers carry the window's headers.
 */
export function apiGate(state: SandboxState, apiKey: string): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.header("x-api-key") !== apiKey) {
      return apiError(401, "Invalid or missing API key (x-api-key header)", {
        suggestedFix: "Send the project's API key in the x-api-key header.",
      });
    }
    state.countRequest(`${c.req.method} ${new URL(c.req.url).pathname}`);
    const window = state.rateLimit;
    if (!window) return await next();
    const { spec } = window;
    const taken = window.take(Date.now());
    if (!taken.admitted) {
      return apiError(
        429,
        `Rate limit exceeded. Limit: ${spec.limit} requests per ${spec.window_seconds} seconds`,
        {
          headers: {
            ...rateLimitHeaders(spec, 0),
            "retry-after": String(taken.retryAfterSeconds),
          },
          suggestedFix: "Wait for Retry-After seconds before sending again.",
        },
      );
    }
    await next();
    // A fault's own headers stand.
    for (const [k, v] of Object.entries(rateLimitHeaders(spec, taken.remaining))) {
      if (!c.res.headers.has(k)) c.res.headers.set(k, v);
    }
  };
}

export function composioApi(state: SandboxState): Hono {
  const api = new Hono({ strict: false });
  const query = (url: string) => new URL(url).searchParams;

  /** Runs a fault of a route other than execute, if one matches: delay, then maybe an error response. */
  const routeFault = async (route: FaultRoute, slug?: string): Promise<Response | null> => {
    const fault = state.takeFault({ route, slug });
    if (fault?.delay_ms) await sleep(fault.delay_ms);
    return fault?.status ? state.faultAnswer(fault) : null;
  };

  api.get("/tools", async (c) => {
    const injected = await routeFault("list");
    if (injected) return injected;
    const q = query(c.req.url);
    const toolSlugs = csv(q.get("tool_slugs"));
    const kits = csv(q.get("toolkit_slug")).map((s) => s.toLowerCase());
    const tags = q.getAll("tags").flatMap((t) => csv(t));
    const search = q.get("search")?.toLowerCase();
    const withDeprecated = q.get("include_deprecated") === "true";
    let tools = [...state.catalog.values()].flatMap((k) => k.tools);
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
      for (const [kit, raws] of state.rawTools) {
        if (!kits.length || kits.includes(kit)) listed.push(...raws.map((raw) => ({ raw })));
      }
    }
    const page = paginate(listed, q);
    if (typeof page === "string") return apiError(400, page);
    const versions = parseToolkitVersions(q);
    return json(200, {
      items: page.items.map((t) =>
        "raw" in t ? structuredClone(t.raw) : presentTool(t as ToolDef, state.catalog, versions)
      ),
      next_cursor: page.next_cursor,
      total_pages: page.total_pages,
      current_page: page.current_page,
      total_items: page.total_items,
    });
  });

  api.post("/tools/execute/:slug", (c) => {
    const apiVersion = new URL(c.req.url).pathname.split("/")[2]; // "/api/v3.1/…"
    return executeTool(state, c.req.raw, c.req.param("slug"), apiVersion);
  });

  api.get("/tools/:slug", async (c) => {
    const slug = c.req.param("slug");
    const injected = await routeFault("get", slug);
    if (injected) return injected;
    const tool = state.findTool(slug);
    if (!tool) return apiError(404, `Tool ${slug} not found`);
    const q = query(c.req.url);
    const versions = parseToolkitVersions(q);
    const explicit = q.get("version");
    if (explicit) versions.per[tool.toolkit.slug] = explicit;
    return json(200, presentTool(tool, state.catalog, versions));
  });

  api.get("/toolkits", async (c) => {
    const injected = await routeFault("toolkits");
    if (injected) return injected;
    const q = query(c.req.url);
    const category = q.get("category");
    const kits = [...state.catalog.values()].filter((k) =>
      !category || k.info.categories.some((cat) => cat.id === category)
    );
    const page = paginate(kits, q);
    if (typeof page === "string") return apiError(400, page);
    // Composio's toolkit list has items/next_cursor/total_pages only (no current_page/total_items).
    return json(200, {
      items: page.items.map(presentToolkit),
      next_cursor: page.next_cursor,
      total_pages: page.total_pages,
    });
  });

  // Connected accounts. The project's key sees every user's accounts (a GET by id answers
  // whoever's it is): which user an account belongs to is in its user_id, for the caller
  // to check.
  api.post("/connected_accounts", async (c) => {
    const injected = await routeFault("account_create");
    if (injected) return injected;
    const body = parseJson(await c.req.text());
    const configId = isObject(body) && isObject(body.auth_config) ? body.auth_config.id : null;
    const connection = isObject(body) ? body.connection : undefined;
    if (typeof configId !== "string" || !isObject(connection)) {
      return apiError(400, "Request body must have auth_config.id and a connection object", {
        suggestedFix: "Send {auth_config: {id}, connection: {user_id, callback_url?}}.",
      });
    }
    const config = state.authConfig(configId);
    if (!config) {
      return apiError(400, `Auth config ${configId} not found`, {
        suggestedFix: "Create the auth config for the toolkit in the Composio dashboard.",
      });
    }
    const userId = connection.user_id ?? "default";
    const callback = connection.callback_url ?? null;
    if (
      typeof userId !== "string" || !userId || (callback !== null && typeof callback !== "string")
    ) {
      return apiError(400, "connection.user_id and connection.callback_url must be strings");
    }
    const account = state.initiateAccount(config, userId, callback);
    // Where the user would consent; the sandbox's page marks the account ACTIVE.
    const redirect = `${new URL(c.req.url).origin}/_sandbox/connect/${account.id}`;
    return json(201, presentCreated(account, config, redirect));
  });

  api.get("/connected_accounts/:id", async (c) => {
    const id = c.req.param("id");
    const injected = await routeFault("account_get", id);
    if (injected) return injected;
    const account = state.findAccount(id);
    if (!account) {
      return apiError(404, `Connected account ${id} not found`, {
        suggestedFix: "List the project's connected accounts (GET /connected_accounts).",
      });
    }
    return json(200, presentAccount(account, state.authConfig(account.auth_config_id)));
  });

  api.get("/connected_accounts", async (c) => {
    const injected = await routeFault("account_list");
    if (injected) return injected;
    const q = query(c.req.url);
    const page = paginate(filterAccounts(state.accountList, q), q);
    if (typeof page === "string") return apiError(400, page);
    return json(200, {
      items: page.items.map((a) => presentAccount(a, state.authConfig(a.auth_config_id))),
      next_cursor: page.next_cursor,
      total_pages: page.total_pages,
      current_page: page.current_page,
      total_items: page.total_items,
    });
  });

  return api;
}
