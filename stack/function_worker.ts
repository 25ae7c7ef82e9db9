// One Edge Function in its own Deno process, as the Edge Runtime gives each function its
// own worker. The function module calls Deno.serve(handler) as on hosted; we capture that
// handler and serve it on the port the functions server assigned, measuring wall and CPU
// time and memory of each request. A module that throws at import answers every request
// with a 500 JSON naming the error, so one broken function never takes down the others.
// This file runs on the functions' Deno (the Edge Runtime's, older than the tooling's),
// so it uses nothing that Deno lacks.
const [slug, entry, portArg] = Deno.args;
const port = Number(portArg);
const limits = { cpuMs: 2000, memoryMb: 256 };

type Handler = (req: Request, info?: unknown) => Response | Promise<Response>;
let handler: Handler | null = null;

/**
 * CPU time of this process (user + system, all threads) in ms, from /proc: the functions'
 * Deno does not implement node's process.cpuUsage(). /proc counts in USER_HZ ticks, which
 * the kernel fixes at 100 per second for user space.
 */
function processCpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

function log(fields: Record<string, unknown>) {
  console.log(JSON.stringify({ at: new Date().toISOString(), function: slug, ...fields }));
}

// Edge Functions call Deno.serve(handler) or Deno.serve(options, handler); capture it.
const captureServe = ((a: unknown, b?: unknown) => {
  const h = typeof a === "function" ? a : typeof b === "function" ? b : (a as { handler?: unknown })
    ?.handler;
  if (typeof h !== "function") throw new TypeError("Deno.serve needs a handler");
  handler = h as Handler;
  return { finished: new Promise(() => {}), shutdown: async () => {}, ref() {}, unref() {} };
}) as unknown as typeof Deno.serve;
const realServe = Deno.serve.bind(Deno);
Object.defineProperty(Deno, "serve", { value: captureServe });

let importError: string | null = null;
try {
  await import(new URL(entry, `file://${Deno.cwd()}/`).href);
  if (!handler) importError = "the module did not call Deno.serve(handler)";
} catch (err) {
  importError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
if (importError) log({ level: "error", event: "boot_failed", error: importError });

function errorResponse(status: number, code: string, message: string) {
  return Response.json({ error: { code, message } }, { status });
}

realServe({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
  if (importError || !handler) {
    return errorResponse(500, "boot_error", `function ${slug} failed to start: ${importError}`);
  }
  const started = performance.now();
  const cpu0 = processCpuMs();
  let res: Response;
  try {
    res = await handler(req);
    // Buffer the body so its production counts toward this request's time.
    const body = await res.arrayBuffer();
    res = new Response(body, res);
  } catch (err) {
    log({ level: "error", event: "uncaught", error: (err as Error)?.message ?? String(err) });
    res = errorResponse(500, "internal_error", "the function threw an uncaught error");
  }
  const cpuMs = processCpuMs() - cpu0;
  const memoryMb = Math.round(Deno.memoryUsage().rss / 2 ** 20);
  const wallMs = Math.round(performance.now() - started);
  const over = cpuMs > limits.cpuMs || memoryMb > limits.memoryMb;
  log({
    level: over ? "warn" : "info",
    event: "request",
    method: req.method,
    path: new URL(req.url).pathname,
    status: res.status,
    wall_ms: wallMs,
    cpu_ms: cpuMs,
    memory_mb: memoryMb,
    ...(over
      ? {
        warning: `above hosted Edge limits (${limits.cpuMs} ms CPU, ${limits.memoryMb} MB memory)`,
      }
      : {}),
  });
  return res;
});
// The Deno version, so a test can tell which runtime each function booted on.
log({
  level: "info",
  event: "ready",
  port,
  deno: Deno.version.deno,
  ...(importError ? { boot_error: true } : {}),
});
