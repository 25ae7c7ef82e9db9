// What every function's request context carries (set by the app's middleware): its own
// module, so the middleware and the app factory can both name it without importing each other.
import type { Context } from "hono";
import type { Claims } from "./db.ts";
import type { Logger } from "./log.ts";

export type AppEnv = {
  Variables: { requestId: string; log: Logger; claims: Claims & { tenant_id: string } };
};
export type AppContext = Context<AppEnv>;
