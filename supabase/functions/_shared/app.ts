// One app factory for every function: request id (middleware/request_id.ts), body size
// limit, zod-validated input with errors naming the field, every error rendered here as
// `{ error: { code, message, details? } }`, and `GET /<slug>/healthz`. Who may call a route
// is middleware too (middleware/caller.ts).
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { serviceDb } from "./db.ts";
import { ApiError, badRequest, errorBody } from "./errors.ts";
import { requestId } from "./middleware/request_id.ts";

import type { AppContext, AppEnv } from "./app_env.ts";

export type { AppContext, AppEnv };

export const defaultBodyLimit = 64 * 1024;

export function createApp(slug: string, opts: { maxBodyBytes?: number } = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>().basePath(`/${slug}`);
  const maxBytes = opts.maxBodyBytes ?? defaultBodyLimit;

  app.use("*", requestId(slug));
  app.use(
    "*",
    bodyLimit({
      maxSize: maxBytes,
      onError: (c) =>
        c.json(
          errorBody("body_too_large", `request body exceeds ${maxBytes} bytes`, {
            limit: maxBytes,
          }),
          413,
        ),
    }),
  );

  app.get("/healthz", async (c) => {
    const sql = serviceDb();
    try {
      const [row] = await sql`
        select max(started_at) as last_run_at,
               extract(epoch from now() - max(started_at))::float8 as age
        from public.job_runs where job = ${slug}`;
      return c.json({
        status: "ok",
        database: "reachable",
        last_run_at: row.last_run_at,
        last_run_age_seconds: row.age === null ? null : Math.round(row.age),
      });
    } catch (err) {
      return c.json(
        errorBody("database_unreachable", `database check failed: ${(err as Error).message}`),
        503,
      );
    }
  });

  app.notFound((c) =>
    c.json(errorBody("not_found", `no route ${c.req.method} ${c.req.path}`), 404)
  );
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      return c.json(errorBody(err.code, err.message, err.details), err.status, err.headers);
    }
    if (err instanceof HTTPException) {
      return c.json(errorBody("http_error", err.message), err.status);
    }
    c.get("log")?.error("unhandled_error", { error: err });
    return c.json(errorBody("internal_error", "internal error; see the function logs"), 500);
  });
  return app;
}

/** `body.limit: Expected number, received string` style messages naming each field. */
function describeIssues(where: string, error: z.ZodError) {
  const issues = error.issues.map((i) => {
    const keys = i.code === "unrecognized_keys" ? (i as { keys: string[] }).keys : [];
    const path = [where, ...i.path.map(String)].join(".");
    return {
      path,
      message: keys.length
        ? `unknown field${keys.length > 1 ? "s" : ""} ${keys.join(", ")}`
        : i.message,
    };
  });
  return { message: issues.map((i) => `${i.path}: ${i.message}`).join("; "), issues };
}

/**
 * The path of the first string (value or field name) holding a NUL character, else null.
 * Postgres stores no NUL in text or jsonb, so such input would fail deep in a query; it is
 * refused at the door instead, naming where it is (a NUL in a name is shown as `\u0000`).
 */
export function nulPath(value: unknown, path: string): string | null {
  if (typeof value === "string") return value.includes("\0") ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${path}.${i}`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      const here = `${path}.${key.replaceAll("\0", "\\u0000")}`;
      if (key.includes("\0")) return here;
      const found = nulPath(v, here);
      if (found) return found;
    }
  }
  return null;
}

function refuseNul(where: string, value: unknown, code: string): void {
  const path = nulPath(value, where);
  if (path) throw badRequest(code, `${path}: contains a NUL character, which is not allowed`);
}

/** Parses and validates a JSON body; an empty body counts as `{}`. Unknown fields are errors. */
export async function parseJsonBody<S extends z.ZodType>(
  c: AppContext,
  schema: S,
): Promise<z.infer<S>> {
  const text = await c.req.text();
  let data: unknown = {};
  if (text.trim() !== "") {
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw badRequest("invalid_json", `body is not valid JSON: ${(err as Error).message}`);
    }
  }
  refuseNul("body", data, "invalid_body");
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const { message, issues } = describeIssues("body", parsed.error);
    throw badRequest("invalid_body", message, { issues });
  }
  return parsed.data;
}

/** Validates query parameters (strings; schemas coerce as needed). */
export function parseQuery<S extends z.ZodType>(c: AppContext, schema: S): z.infer<S> {
  const query = c.req.query();
  refuseNul("query", query, "invalid_query");
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const { message, issues } = describeIssues("query", parsed.error);
    throw badRequest("invalid_query", message, { issues });
  }
  return parsed.data;
}
