/**
 * Composio sandbox: a loopback HTTP server that speaks the subset of Composio's REST API we
 * use (tool catalog, toolkit list, tool execution, connected accounts), so local dev and tests never need the
 * real SaaS. Shapes follow Composio's OpenAPI-generated client (composio-base-py
 * `tool_list_response.py`, `tool_execute_params.py`, `toolkit_list_response.py`) and the
 * API reference at docs.composio.dev; everything under `/_sandbox/` is ours, not Composio's.
 * The pieces live in ./composio_sandbox/: the catalog, faults, execution, the issue tracker,
 * the routes.
 *
 * Run alone: `deno run -A stack/composio_sandbox.ts --port 8790` prints the base URL.
 */
import { Hono } from "hono";
import { apiGate, composioApi } from "./composio_sandbox/api_routes.ts";
import { loadAccountFixtures } from "./composio_sandbox/accounts.ts";
import { loadFixtures } from "./composio_sandbox/catalog.ts";
import { controlApi } from "./composio_sandbox/control_routes.ts";
import { apiError, BadRequest, isLoopback, json } from "./composio_sandbox/http.ts";
import { type SandboxControl, SandboxState } from "./composio_sandbox/state.ts";

export type { JsonSchema, ToolDef, ToolkitInfo } from "./composio_sandbox/catalog.ts";
export { parseToolkitVersions } from "./composio_sandbox/catalog.ts";
export type { ExecutionRecord, ExecutionsReport } from "./composio_sandbox/execution_log.ts";
export type { Fault, FaultRoute, FaultSpec } from "./composio_sandbox/faults.ts";
export { matchFault } from "./composio_sandbox/faults.ts";
export type { GenerateSpec } from "./composio_sandbox/generate.ts";
export type { RateLimitSpec } from "./composio_sandbox/rate_limit.ts";
export { generateTools } from "./composio_sandbox/generate.ts";
export type { AccountSpec, SandboxControl } from "./composio_sandbox/state.ts";
export type { AccountStatus, SandboxAccount } from "./composio_sandbox/accounts.ts";
export type { IssuesSpec, SandboxIssue } from "./composio_sandbox/issues.ts";

export interface ComposioSandbox extends SandboxControl {
  /** Base URL, e.g. http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  apiKey: string;
  close(): Promise<void>;
}

export interface SandboxOptions {
  port?: number;
  hostname?: string;
  apiKey?: string;
  fixturesDir?: string | URL;
  /** Auth configs and connected accounts (default: the seed's, fixtures/composio_accounts.json). */
  accountsFile?: string | URL;
}

export const DEFAULT_API_KEY = "sandbox-composio-key";
const DEFAULT_FIXTURES = new URL("./fixtures/composio/", import.meta.url);
const DEFAULT_ACCOUNTS = new URL("./fixtures/composio_accounts.json", import.meta.url);

type Env = { Bindings: { remoteAddr: Deno.NetAddr } };

export async function startComposioSandbox(opts: SandboxOptions = {}): Promise<ComposioSandbox> {
  const apiKey = opts.apiKey ?? DEFAULT_API_KEY;
  const state = new SandboxState(
    await loadFixtures(opts.fixturesDir ?? DEFAULT_FIXTURES),
    await loadAccountFixtures(opts.accountsFile ?? DEFAULT_ACCOUNTS),
  );

  const app = new Hono<Env>({ strict: false });
  // Control routes carry no key, so refuse anyone but this machine.
  app.use("/_sandbox/*", async (c, next) => {
    if (!isLoopback(c.env.remoteAddr.hostname)) {
      return json(403, { error: "sandbox control is loopback-only" });
    }
    await next();
  });
  app.use("/api/*", apiGate(state, apiKey));
  const api = composioApi(state);
  app.route("/api/v3.1", api); // the current path
  app.route("/api/v3", api); // still answered by Composio
  app.route("/_sandbox", controlApi(state));
  app.notFound((c) => apiError(404, `No route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((err, c) => {
    const control = new URL(c.req.url).pathname.startsWith("/_sandbox/");
    // A control body the sandbox cannot use is the caller's mistake.
    if (control && (err instanceof BadRequest || err instanceof TypeError)) {
      return json(400, { error: err.message });
    }
    return apiError(500, `Sandbox error: ${err.message}`);
  });

  const server = Deno.serve({
    port: opts.port ?? 0,
    hostname: opts.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, (req, info) => app.fetch(req, { remoteAddr: info.remoteAddr as Deno.NetAddr }));
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;

  return {
    url: `http://${host}:${addr.port}`,
    apiKey,
    close: () => server.shutdown(),
    ...state.control(),
  };
}

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
