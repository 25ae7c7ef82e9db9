// The sandbox's own control API under /_sandbox (not Composio's): what tests use to reset
// it, inject faults, read the execution log, edit the catalog, steer connected accounts
// (another user's account; a user finishing the consent) and the issue tracker. Bodies that cannot be used are
// answered 400 {error: "<why>"}.
import { Hono } from "hono";
import type { AccountStatus } from "./accounts.ts";
import type { FaultSpec } from "./faults.ts";
import { json, readJson } from "./http.ts";
import { checkIssuesSpec, type IssuesSpec } from "./issues.ts";
import type { RateLimitSpec } from "./rate_limit.ts";
import type { AccountSpec, SandboxState } from "./state.ts";
import { isObject } from "./util.ts";

export function controlApi(state: SandboxState): Hono {
  const control = new Hono({ strict: false });

  control.post("/reset", () => (state.reset(), json(200, { ok: true })));

  control.post("/faults", async (c) => {
    const spec = await readJson(c.req.raw);
    return json(201, state.addFault(spec as FaultSpec));
  });
  control.get("/faults", () => json(200, { faults: state.faults() }));
  control.delete("/faults", () => (state.clearFaults(), json(200, { ok: true })));

  control.get("/executions", () => json(200, state.executions()));

  control.post("/catalog/generate", async (c) => {
    const spec = await readJson(c.req.raw);
    const { toolkit, count, seed } = isObject(spec) ? spec : {};
    if (typeof toolkit !== "string" || !toolkit || typeof count !== "number") {
      return json(400, { error: "body must be {toolkit, count, seed?}" });
    }
    const s = typeof seed === "number" ? seed : undefined;
    return json(200, { toolkit, count: state.generateCatalog({ toolkit, count, seed: s }) });
  });
  control.put("/catalog/:toolkit", async (c) => {
    const kit = c.req.param("toolkit");
    const tools = await readJson(c.req.raw);
    if (!Array.isArray(tools)) return json(400, { error: "body must be an array of tools" });
    return json(200, { toolkit: kit, count: state.setCatalog(kit, tools) });
  });
  control.delete("/catalog/:toolkit/:slug", (c) => {
    const { toolkit, slug } = c.req.param();
    return state.removeTool(toolkit, slug)
      ? json(200, { ok: true })
      : json(404, { error: `no tool ${slug} in ${toolkit}` });
  });
  control.patch("/catalog/:toolkit/:slug", async (c) => {
    const { toolkit, slug } = c.req.param();
    const spec = await readJson(c.req.raw);
    if (!isObject(spec) || typeof spec.is_deprecated !== "boolean") {
      return json(400, { error: "body must be {is_deprecated: boolean}" });
    }
    return state.setDeprecated(toolkit, slug, spec.is_deprecated)
      ? json(200, { toolkit, slug, is_deprecated: spec.is_deprecated })
      : json(404, { error: `no tool ${slug} in ${toolkit}` });
  });
  control.post("/catalog/:toolkit/raw", async (c) => {
    const kit = c.req.param("toolkit");
    const items = await readJson(c.req.raw);
    if (!Array.isArray(items)) return json(400, { error: "body must be an array" });
    return json(200, { toolkit: kit, raw: state.addRawTools(kit, items) });
  });

  control.patch("/toolkits/:toolkit", async (c) => {
    const spec = await readJson(c.req.raw);
    if (!isObject(spec)) {
      return json(400, { error: "body must be {version?, available_versions?}" });
    }
    return json(200, state.setToolkitVersions(c.req.param("toolkit"), spec));
  });

  control.put("/rate-limit", async (c) => {
    const spec = await readJson(c.req.raw);
    state.setRateLimit(spec as RateLimitSpec);
    return json(200, spec);
  });
  control.delete("/rate-limit", () => (state.setRateLimit(null), json(200, { ok: true })));
  control.get("/requests", () => json(200, { requests: state.requests() }));

  control.put("/execute-result/:slug", async (c) => {
    state.setExecuteResult(c.req.param("slug"), await readJson(c.req.raw));
    return json(200, { ok: true });
  });

  control.put("/issues", async (c) => {
    const spec = await readJson(c.req.raw);
    const problem = checkIssuesSpec(spec);
    if (problem) return json(400, { error: problem });
    return json(200, state.issues.configure(spec as IssuesSpec));
  });
  control.get("/issues", () => json(200, { issues: state.issues.all() }));

  control.get("/connected_accounts", () => json(200, { items: state.accounts() }));
  control.post("/connected_accounts", async (c) => {
    const spec = await readJson(c.req.raw);
    if (!isObject(spec)) {
      return json(400, { error: "body must be {user_id, toolkit, status?, id?}" });
    }
    return json(201, state.createAccount(spec as unknown as AccountSpec));
  });
  control.patch("/connected_accounts/:id", async (c) => {
    const spec = await readJson(c.req.raw);
    if (!isObject(spec) || typeof spec.status !== "string") {
      return json(400, { error: "body must be {status}" });
    }
    const account = state.setAccountStatus(c.req.param("id"), spec.status as AccountStatus);
    return account ? json(200, account) : json(404, { error: `no account ${c.req.param("id")}` });
  });
  // The redirect URL of a connection request: visiting it is the user finishing the consent.
  control.get("/connect/:id", (c) => {
    const account = state.setAccountStatus(c.req.param("id"), "ACTIVE");
    return account
      ? json(200, { id: account.id, status: account.status, callback_url: account.callback_url })
      : json(404, { error: `no account ${c.req.param("id")}` });
  });

  return control;
}
