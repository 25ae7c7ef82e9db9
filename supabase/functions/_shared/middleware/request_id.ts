// A request id for every request: the caller's `x-request-id` when it is a plausible id (it
// is echoed back and logged, so it must not carry quotes, spaces or kilobytes), else a new
// UUID. The id names the request's logger too.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { createLogger } from "../log.ts";

/** Letters, digits and `._:-`, at most 128 characters: UUIDs, ULIDs, trace ids. */
const acceptable = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && acceptable.test(header) ? header : crypto.randomUUID();
}

export function requestId(slug: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = requestIdFrom(c.req.header("x-request-id"));
    c.set("requestId", id);
    c.set("log", createLogger({ function: slug, request_id: id }));
    await next();
    c.header("x-request-id", id);
  };
}
