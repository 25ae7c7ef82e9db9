// The stack's API port, as Supabase's API gateway: one listener, each service under its
// path prefix (/functions/v1, /auth/v1, /storage/v1, /realtime/v1).
// A service gets the request untouched, so it can read the whole path or upgrade it.

import { StackError } from "./errors.ts";

export type ServiceHandler = (req: Request) => Response | Promise<Response>;

export interface ApiGateway {
  url: string;
  port: number;
  /** Serves `prefix` (e.g. "/auth/v1") and everything below it with `handler`. */
  mount(prefix: string, handler: ServiceHandler): void;
  stop(): Promise<void>;
}

function notFound(path: string): Response {
  return Response.json({ error: { code: "not_found", message: `no route for ${path}` } }, {
    status: 404,
  });
}

export function startApiGateway(opts: { port: number }): ApiGateway {
  const services: Array<{ prefix: string; handler: ServiceHandler }> = [];
  let server: Deno.HttpServer;
  try {
    server = Deno.serve(
      { hostname: "127.0.0.1", port: opts.port, onListen: () => {} },
      (req) => {
        const path = new URL(req.url).pathname;
        const service = services.find((s) => path === s.prefix || path.startsWith(`${s.prefix}/`));
        return service ? service.handler(req) : notFound(path);
      },
    );
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new StackError(
        `serving the API on port ${opts.port}`,
        `port ${opts.port} is already in use`,
        "stop whatever listens there (another `deno task start`?) or pass --base-port",
      );
    }
    throw err;
  }
  const port = (server.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    mount(prefix, handler) {
      services.push({ prefix: prefix.replace(/\/+$/, ""), handler });
      // Longest prefix first, so a nested mount wins over its parent.
      services.sort((a, b) => b.prefix.length - a.prefix.length);
    },
    stop: () => server.shutdown(),
  };
}
