// Serves supabase/functions/<slug>/index.ts at /functions/v1/<slug> the way hosted Supabase
// does: one process per function (stack/function_worker.ts) on the Edge Runtime's Deno
// (stack/functions_deno.ts), its imports resolved by the map it deploys with plus the
// local-only layer (stack/functions_imports.ts), the handler seeing `/<slug>/…`, the CLI's
// environment, and `verify_jwt` from supabase/config.toml checked here, in front of the
// function, as the hosted relay does.
import { join } from "node:path";
import { startApiGateway } from "./api_gateway.ts";
import { freePort } from "./cluster.ts";
import {
  functionsDenoBin,
  functionsDenoCommand,
  functionsDenoFlags,
  functionsDenoVersion,
} from "./functions_deno.ts";
import {
  deployImportMap,
  functionsLocalImportsFile,
  localImportMap,
  readFunctionsConfig,
} from "./functions_imports.ts";
import { projectRoot } from "./paths.ts";
import { checkJwt } from "./verify_jwt.ts";

export interface FunctionsRouterOptions {
  functionsDir: string;
  configFile: string;
  /** Environment of every function (SUPABASE_URL, keys, …); .env in functionsDir adds to it. */
  env: Record<string, string>;
  /** The local-only import layer (default stack/functions_local_imports.json). */
  localImports?: string;
  /** Serve only these functions (a test's own server with an environment of its own). */
  only?: string[];
  log?: (line: string) => void;
}

export interface FunctionsRouter {
  slugs: string[];
  /** Answers a request for /functions/v1/<slug>/… */
  handle(req: Request): Promise<Response>;
  stop(): Promise<void>;
}

export interface FunctionsServer extends FunctionsRouter {
  url: string;
}

interface FunctionProcess {
  slug: string;
  entry: string;
  verifyJwt: boolean;
  /** The map file it runs with here (deploy map plus the local layer). */
  runMap: string | null;
  /** Why it cannot boot before its process starts (e.g. a map the CLI would refuse). */
  bootError: string | null;
  port: number;
  child: Deno.ChildProcess | null;
  ready: Promise<void> | null;
}

/** Every folder of functionsDir with an index.ts, except shared ones (leading `_` or `.`). */
export function discoverFunctions(functionsDir: string): string[] {
  const slugs: string[] = [];
  for (const e of Deno.readDirSync(functionsDir)) {
    if (!e.isDirectory || e.name.startsWith("_") || e.name.startsWith(".")) continue;
    try {
      Deno.statSync(join(functionsDir, e.name, "index.ts"));
      slugs.push(e.name);
    } catch { /* not a function */ }
  }
  return slugs.sort();
}

/** `[functions.<slug>] verify_jwt` from config.toml; the CLI's default is true. */
export function readVerifyJwt(configFile: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const [slug, f] of readFunctionsConfig(configFile)) {
    if (typeof f?.verify_jwt === "boolean") out.set(slug, f.verify_jwt);
  }
  return out;
}

/** KEY=VALUE lines, as `supabase functions serve --env-file` reads them. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2];
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

function jsonError(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

async function waitForPort(port: number, child: Deno.ChildProcess, slug: string) {
  let exited = false;
  child.status.then(() => exited = true);
  for (let i = 0; i < 600; i++) {
    if (exited) throw new Error(`function ${slug} exited while starting`);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`function ${slug} did not start within 30 s`);
}

/** Starts every function's process; the gateway mounts `handle` at /functions/v1. */
export async function createFunctionsRouter(
  opts: FunctionsRouterOptions,
): Promise<FunctionsRouter> {
  const log = opts.log ?? ((l: string) => console.log(l));
  try {
    Deno.statSync(functionsDenoBin);
  } catch {
    throw new Error(
      `the functions' Deno ${functionsDenoVersion} is not installed at ${functionsDenoBin}: ` +
        "run `deno run -A stack/install.ts`",
    );
  }
  const config = readFunctionsConfig(opts.configFile);
  const dotenv = await Deno.readTextFile(join(opts.functionsDir, ".env")).then(
    parseDotenv,
    () => ({}),
  );
  // The process environment (PATH, DENO_DIR, …) comes from functionsDenoCommand.
  const env = { ...dotenv, ...opts.env };
  // Each function's run map is written here: its deploy map with the local layer added.
  const mapsDir = await Deno.makeTempDir({ prefix: "functions-import-maps-" });
  const functions = new Map<string, FunctionProcess>();
  const slugs = discoverFunctions(opts.functionsDir)
    .filter((slug) => !opts.only || opts.only.includes(slug));
  for (const slug of slugs) {
    const f: FunctionProcess = {
      slug,
      entry: join(opts.functionsDir, slug, "index.ts"),
      verifyJwt: config.get(slug)?.verify_jwt ?? true,
      runMap: null,
      bootError: null,
      port: 0,
      child: null,
      ready: null,
    };
    try {
      const deploy = deployImportMap({ ...opts, slug }, config);
      const map = localImportMap(deploy, opts.localImports ?? functionsLocalImportsFile);
      f.runMap = join(mapsDir, `${slug}.json`);
      await Deno.writeTextFile(f.runMap, JSON.stringify(map, null, 2));
    } catch (err) {
      f.bootError = (err as Error).message;
      log(JSON.stringify({
        at: new Date().toISOString(),
        function: slug,
        level: "error",
        event: "boot_failed",
        error: f.bootError,
      }));
    }
    functions.set(slug, f);
  }
  let stopping = false;

  const pipeLines = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        log(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    if (buf) log(buf);
  };

  function spawn(f: FunctionProcess): Promise<void> {
    f.port = freePort();
    const child = functionsDenoCommand([
      "run",
      "-A",
      "--no-prompt",
      ...functionsDenoFlags,
      ...(f.runMap ? ["--import-map", f.runMap] : []),
      join(projectRoot, "stack", "function_worker.ts"),
      f.slug,
      f.entry,
      String(f.port),
    ], { env }).spawn();
    f.child = child;
    pipeLines(child.stdout);
    pipeLines(child.stderr);
    child.status.then((s) => {
      if (f.child !== child) return;
      f.child = null;
      f.ready = null;
      if (!stopping) {
        log(JSON.stringify({ level: "warn", function: f.slug, event: "exited", code: s.code }));
      }
    });
    f.ready = waitForPort(f.port, child, f.slug);
    return f.ready;
  }

  async function route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const m = /^\/functions\/v1\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return jsonError(404, "not_found", `no route for ${url.pathname}`);
    const f = functions.get(m[1]);
    if (!f) return jsonError(404, "not_found", `function ${m[1]} not found`);
    if (f.verifyJwt) {
      const denied = await checkJwt(req, opts.env);
      if (denied) return denied;
    }
    if (f.bootError) {
      await req.body?.cancel();
      return jsonError(500, "boot_error", `function ${f.slug} failed to start: ${f.bootError}`);
    }
    try {
      await (f.ready ?? spawn(f));
    } catch (err) {
      return jsonError(503, "function_unavailable", (err as Error).message);
    }
    // The handler sees /<slug>/… as on hosted.
    const target = `http://127.0.0.1:${f.port}/${f.slug}${m[2] ?? ""}${url.search}`;
    const headers = new Headers(req.headers);
    headers.delete("host");
    try {
      const res = await fetch(target, {
        method: req.method,
        headers,
        body: req.body,
        redirect: "manual",
      });
      // fetch has already decoded a compressed body (the functions' Deno.serve compresses
      // JSON for clients that accept it), so its encoding and length no longer apply.
      const resHeaders = new Headers(res.headers);
      if (resHeaders.has("content-encoding")) {
        resHeaders.delete("content-encoding");
        resHeaders.delete("content-length");
      }
      return new Response(res.body, { status: res.status, headers: resHeaders });
    } catch (err) {
      return jsonError(502, "function_failed", `function ${f.slug}: ${(err as Error).message}`);
    }
  }

  // Start every function now, so a function that fails at import says so at start.
  await Promise.all(
    [...functions.values()].filter((f) => !f.bootError).map((f) =>
      spawn(f).catch((e) => log(e.message))
    ),
  );

  return {
    slugs: [...functions.keys()],
    handle: route,
    stop: async () => {
      stopping = true;
      await Promise.all([...functions.values()].map(async (f) => {
        const c = f.child;
        if (!c) return;
        try {
          c.kill("SIGTERM");
        } catch { /* gone */ }
        await c.status;
      }));
      await Deno.remove(mapsDir, { recursive: true }).catch(() => {});
    },
  };
}

/** The functions alone on a port of their own (tests of the functions server). */
export async function startFunctionsServer(
  opts: FunctionsRouterOptions & { port: number },
): Promise<FunctionsServer> {
  const router = await createFunctionsRouter(opts);
  const gateway = startApiGateway({ port: opts.port });
  gateway.mount("/functions/v1", router.handle);
  return {
    ...router,
    url: gateway.url,
    stop: async () => {
      await gateway.stop();
      await router.stop();
    },
  };
}
