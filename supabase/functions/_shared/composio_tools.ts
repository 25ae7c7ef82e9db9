// Composio's catalog, read through composio.ts: every page of `GET /api/v3/tools` for a
// toolkit (following next_cursor to the end, which the SDK's getRawComposioTools does not),
// the toolkit's version pinned after the first page so that a release in the middle of a
// listing cannot mix versions, `GET /api/v3/tools/{slug}`, `GET /api/v3/toolkits`. Retryable
// failures (429 with Retry-After, 5xx, timeouts) are retried within a deadline; an
// exhausted X-RateLimit window is waited out before the next page. Each tool is validated
// with zod: a malformed tool becomes an error for that tool, and the rest of its page is kept.
import { z } from "zod";
import { type BackoffPolicy, nextRetryDelay } from "./backoff.ts";
import {
  type ComposioConfig,
  ComposioError,
  composioRequest,
  type ComposioResponse,
} from "./composio.ts";
import type { ComposioToolInput } from "./catalog_normalize.ts";

// A JSON object taken as it is (no per-key copy: schemas are large and many).
const jsonObject = z.custom<Record<string, unknown>>(
  (v) => typeof v === "object" && v !== null && !Array.isArray(v),
  "expected a JSON object",
);
const stringList = z.array(z.string()).nullish().transform((v) => v ?? []);

/** A tool as Composio lists it; unknown fields are dropped. */
export const composioToolSchema = z.object({
  slug: z.string().min(1),
  name: z.string(),
  description: z.string().nullish().transform((v) => v ?? ""),
  toolkit: z.object({ slug: z.string().min(1) }),
  input_parameters: jsonObject,
  output_parameters: jsonObject.nullish().transform((v) => v ?? {}),
  tags: stringList,
  scopes: stringList,
  version: z.string().min(1),
  available_versions: stringList,
  is_deprecated: z.boolean().nullish().transform((v) => v ?? false),
});
export type ComposioTool = z.infer<typeof composioToolSchema> & ComposioToolInput;

const pageSchema = z.object({
  items: z.array(z.unknown()),
  next_cursor: z.string().nullish().transform((v) => v || null),
});

export interface ToolError {
  /** Position in the listing (0-based across pages). */
  index: number;
  /** The slug when the item had a readable one. */
  slug: string | null;
  message: string;
}

export interface ToolPage {
  tools: ComposioTool[];
  errors: ToolError[];
  /** The toolkit version this page was listed at (pinned after the first page). */
  version: string | null;
  page: number;
}

export interface RetryOptions {
  /** Attempts per request, the first included. Default 5. */
  attempts?: number;
  policy?: BackoffPolicy;
  /** Never wait past this epoch ms (the job's deadline); fail instead. */
  deadline?: number;
  /** Longest single wait (Retry-After or rate-limit reset). Default 30 s. */
  maxWaitMs?: number;
  onRetry?: (err: ComposioError, delayMs: number, attempt: number) => void;
  /** Tests replace the clock. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultPolicy: BackoffPolicy = { baseMs: 250, maxMs: 5_000 };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `call`, retrying retryable ComposioErrors with backoff and Retry-After. */
export async function withComposioRetry<T>(
  call: () => Promise<T>,
  opts: RetryOptions = {},
): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const maxWait = opts.maxWaitMs ?? 30_000;
  for (let attempt = 1;; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ComposioError) || !err.retryable || attempt >= attempts) throw err;
      const delay = nextRetryDelay(attempt, opts.policy ?? defaultPolicy, err.retryAfterMs);
      if (delay > maxWait) throw err;
      if (opts.deadline !== undefined && Date.now() + delay > opts.deadline) throw err;
      opts.onRetry?.(err, delay, attempt);
      await (opts.sleep ?? sleep)(delay);
    }
  }
}

/** Milliseconds to wait before the next call when the rate-limit window is spent. */
export function rateLimitWait(res: ComposioResponse<unknown>): number {
  const { remaining, resetSeconds } = res.rateLimit;
  if (remaining === null || remaining > 0 || resetSeconds === null) return 0;
  // X-RateLimit-Reset is seconds until the reset, or an epoch timestamp in seconds.
  const seconds = resetSeconds > 1e9 ? resetSeconds - Date.now() / 1000 : resetSeconds;
  return Math.max(0, Math.ceil(seconds * 1000));
}

/** Validates one listed item; returns the tool or the error for it. */
export function parseTool(item: unknown, index: number): ComposioTool | ToolError {
  const parsed = composioToolSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  const slug = typeof (item as { slug?: unknown })?.slug === "string"
    ? (item as { slug: string }).slug
    : null;
  const message = parsed.error.issues.slice(0, 3)
    .map((i) => `${i.path.join(".") || "(item)"}: ${i.message}`).join("; ");
  return { index, slug, message };
}

function isToolError(v: ComposioTool | ToolError): v is ToolError {
  return "message" in v && "index" in v && !("input_parameters" in v);
}

export interface ListToolsOptions {
  toolkit: string;
  /** Page size; Composio (and the sandbox) cap it at 1000. */
  limit?: number;
  /** Toolkit version to list; default "latest", pinned to what the first page reports. */
  version?: string;
  retry?: RetryOptions;
}

/**
 * Every page of the toolkit's tools, following next_cursor until it is null. The first
 * page asks for the requested version ("latest" by default); later pages pin the version
 * the first valid tool reported.
 */
export async function* listToolPages(
  config: ComposioConfig,
  opts: ListToolsOptions,
): AsyncGenerator<ToolPage> {
  const limit = Math.min(Math.max(1, opts.limit ?? 1000), 1000);
  let pinned: string | null = opts.version && opts.version !== "latest" ? opts.version : null;
  let cursor: string | null = null;
  let index = 0;
  const seenCursors = new Set<string>();
  for (let page = 1;; page++) {
    const query: Record<string, string | undefined> = {
      toolkit_slug: opts.toolkit,
      limit: String(limit),
      cursor: cursor ?? undefined,
    };
    if (pinned) query[`toolkit_versions[${opts.toolkit}]`] = pinned;
    else query.toolkit_versions = "latest";
    const res = await withComposioRetry(
      () => composioRequest<unknown>(config, "GET", "/api/v3/tools", { query }),
      opts.retry,
    );
    const body = pageSchema.safeParse(res.data);
    if (!body.success) {
      throw new ComposioError(
        `GET /api/v3/tools: unexpected page shape (${body.error.issues[0]?.message})`,
        res.status,
        "invalid_response",
        true,
      );
    }
    const tools: ComposioTool[] = [];
    const errors: ToolError[] = [];
    for (const item of body.data.items) {
      const parsed = parseTool(item, index++);
      if (isToolError(parsed)) errors.push(parsed);
      else tools.push(parsed);
    }
    pinned ??= tools[0]?.version ?? null;
    yield { tools, errors, version: pinned, page };
    cursor = body.data.next_cursor;
    if (!cursor) return;
    if (seenCursors.has(cursor)) {
      throw new ComposioError(
        `GET /api/v3/tools: cursor repeated on page ${page}`,
        res.status,
        "invalid_response",
        false,
      );
    }
    seenCursors.add(cursor);
    const wait = rateLimitWait(res);
    if (wait > 0) {
      const deadline = opts.retry?.deadline;
      if (wait > (opts.retry?.maxWaitMs ?? 30_000) || (deadline && Date.now() + wait > deadline)) {
        throw new ComposioError(
          `GET /api/v3/tools: rate limit exhausted for ${wait} ms`,
          429,
          "http",
          true,
          wait,
        );
      }
      await (opts.retry?.sleep ?? sleep)(wait);
    }
  }
}

/** All tools of a toolkit (every page) with the errors of malformed items. */
export async function listAllTools(
  config: ComposioConfig,
  opts: ListToolsOptions,
): Promise<{ tools: ComposioTool[]; errors: ToolError[]; version: string | null; pages: number }> {
  const tools: ComposioTool[] = [];
  const errors: ToolError[] = [];
  let version: string | null = null;
  let pages = 0;
  for await (const page of listToolPages(config, opts)) {
    tools.push(...page.tools);
    errors.push(...page.errors);
    version = page.version;
    pages = page.page;
  }
  return { tools, errors, version, pages };
}

/** `GET /api/v3/tools/{slug}`, validated. */
export async function getTool(
  config: ComposioConfig,
  slug: string,
  opts: { version?: string; retry?: RetryOptions } = {},
): Promise<ComposioTool> {
  const res = await withComposioRetry(
    () =>
      composioRequest<unknown>(config, "GET", `/api/v3/tools/${encodeURIComponent(slug)}`, {
        query: { version: opts.version },
      }),
    opts.retry,
  );
  const parsed = parseTool(res.data, 0);
  if (isToolError(parsed)) {
    throw new ComposioError(
      `GET /api/v3/tools/${slug}: ${parsed.message}`,
      res.status,
      "invalid_response",
      false,
    );
  }
  return parsed;
}

export const composioToolkitSchema = z.object({
  slug: z.string().min(1),
  name: z.string(),
  meta: z.object({
    categories: z.array(z.object({ id: z.string(), name: z.string() })).nullish()
      .transform((v) => v ?? []),
    tools_count: z.number().nullish(),
  }).nullish(),
});
export type ComposioToolkit = z.infer<typeof composioToolkitSchema>;

/** Every toolkit (`GET /api/v3/toolkits`, all pages); malformed entries are skipped. */
export async function listToolkits(
  config: ComposioConfig,
  opts: { retry?: RetryOptions; category?: string } = {},
): Promise<ComposioToolkit[]> {
  const out: ComposioToolkit[] = [];
  let cursor: string | null = null;
  do {
    const res = await withComposioRetry(
      () =>
        composioRequest<unknown>(config, "GET", "/api/v3/toolkits", {
          query: { limit: "1000", cursor: cursor ?? undefined, category: opts.category },
        }),
      opts.retry,
    );
    const body = pageSchema.safeParse(res.data);
    if (!body.success) {
      throw new ComposioError(
        "GET /api/v3/toolkits: unexpected page shape",
        res.status,
        "invalid_response",
        true,
      );
    }
    for (const item of body.data.items) {
      const kit = composioToolkitSchema.safeParse(item);
      if (kit.success) out.push(kit.data);
    }
    cursor = body.data.next_cursor;
  } while (cursor);
  return out;
}
