// Who may call a route, as middleware: job and operator routes want a service key, user
// routes a verified user JWT of a tenant (its claims are then in `c.get("claims")`).
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { requireServiceCaller, requireTenantUser } from "../auth.ts";

export function serviceCaller(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await requireServiceCaller(c.req.raw);
    await next();
  };
}

export function tenantUser(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("claims", await requireTenantUser(c.req.raw));
    await next();
  };
}
