// Composio's catalog, read through composio.ts: every page of `GET /api/v3.1/tools` for a
// toolkit (following next_cursor to the end, which the SDK's getRawComposioTools does not,
// and checking it against total_pages), deprecated tools included and flagged, the
// toolkit's version pinned after the first page so that a release in the middle of a listing
// cannot mix versions, `GET /api/v3.1/tools/{slug}`, `GET /api/v3.1/toolkits`. Retryable
// failures (429 with Retry-After, 5xx, timeouts) are retried within a deadline. Each tool is
// validated with zod: a malformed tool becomes an error for that tool, and the rest of its
// page is kept.
import { z } from "zod";
import { type BackoffPolicy, nextRetryDelay } from "./backoff.ts";
import { classifyCallResult } from "./execution_policy.ts";
import {
  callResultOf,
  COMPOSIO_API_BASE,
  type ComposioConfig,
  ComposioError,
  composioRequest,
  type ComposioResponse,
} from "./composio.ts";
import { type ComposioTool, isToolError, parseTool, type ToolError } from "./composio_tool.ts";

const count = z.unknown().optional().transform((v) =>
  typeof v === "number" && Number.isFinite(v) ? v : null
);

const pageSchema = z.object({
  items: z.array(z.unknown()),
  next_cursor: z.string().nullish().transform((v) => v || null),
  total_pages: count,
  current_page: count,
  total_items: count,
});

/**
 * Where a listing goes after a page, from what the page says: its next_cursor (null, empty
 * or absent: none), total_pages, and current_page (else `page`, our own count). A page at
 * or past total_pages is the last, whatever cursor it carries. A page without a cursor
 * before total_pages means the listing was cut short: an error, since a caller that took it
 * for the whole catalog would deprecate the tools it never saw.
 */
export function nextCursor(
  listed: { next_cursor: string | null; total_pages: number | null; current_page: number | null },
  page: number,
): { next: string | null } | { truncated: string } {
  const current = listed.current_page ?? page;
  const total = listed.total_pages;
  if (total !== null && current >= total) return { next: null };
  if (listed.next_cursor) return { next: listed.next_cursor };
  if (total !== null) return { truncated: `no next_cursor on page ${current} of ${total}` };
  return { next: null };
}

export interface ToolPage {
  tools: ComposioTool[];
  errors: ToolError[];
  /** The toolkit version this page was listed at (pinned after the first page). */
  version: string | null;
  page: number;
  /** How many pages Composio said the listing has, when it said. */
  totalPages: number | null;
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

/**
 * Runs `call` (a read), retrying with backoff and Retry-After the ComposioErrors the policy
 * says a read retries (execution_policy.ts decides, as for executions).
 */
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
      if (!(err instanceof ComposioError) || attempt >= attempts) throw err;
      const outcome = classifyCallResult(callResultOf(err), { readOnly: true });
      // A listing is a read: a 429 waits its Retry-After like any other transient failure.
      if (outcome.kind !== "retry" && outcome.kind !== "throttled") throw err;
      const delay = nextRetryDelay(attempt, opts.policy ?? defaultPolicy, outcome.retryAfterMs);
      if (delay > maxWait) throw err;
      if (opts.deadline !== undefined && Date.now() + delay > opts.deadline) throw err;
      opts.onRetry?.(err, delay, attempt);
      await (opts.sleep ?? sleep)(delay);
    }
  }
}

/**
 * Milliseconds to wait before the next call when the rate-limit window is spent: the
 * answer's Retry-After if it sent one. Composio's window rolls and it names no reset time,
 * so without Retry-After the next call goes out and its 429's Retry-After says how long
 * (withComposioRetry waits that out).
 */
export function rateLimitWait(res: ComposioResponse<unknown>): number {
  const { remaining, retryAfterMs } = res.rateLimit;
  if (remaining === null || remaining > 0 || retryAfterMs === null) return 0;
  return retryAfterMs;
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
 * Every page of the toolkit's tools, deprecated ones included (flagged is_deprecated, so
 * that a caller can tell a deprecated tool from a vanished one), following next_cursor to
 * the last page (nextCursor). The first page asks for the requested version ("latest" by
 * default); later pages pin the version the first valid tool reported.
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
      // Explicit, so the listing does not depend on the server's default.
      include_deprecated: "true",
    };
    if (pinned) query[`toolkit_versions[${opts.toolkit}]`] = pinned;
    else query.toolkit_versions = "latest";
    // The page is read in a function of its own and dropped here once yielded, so that
    // nothing in this generator keeps it (the parsed JSON behind its tools) alive while
    // the next page is fetched.
    let read: ReadPage | null = await readToolPage(config, query, opts.retry, index);
    const { status, wait, totalPages } = read;
    const after = nextCursor(read.listed, page);
    if ("truncated" in after) {
      throw new ComposioError(
        `GET ${COMPOSIO_API_BASE}/tools: listing cut short (${after.truncated})`,
        status,
        "invalid_response",
      );
    }
    index += read.items;
    pinned ??= read.tools[0]?.version ?? null;
    yield { tools: read.tools, errors: read.errors, version: pinned, page, totalPages };
    read = null;
    cursor = after.next;
    if (!cursor) return;
    if (seenCursors.has(cursor)) {
      throw new ComposioError(
        `GET ${COMPOSIO_API_BASE}/tools: cursor repeated on page ${page}`,
        status,
        "invalid_response",
        { transient: false },
      );
    }
    seenCursors.add(cursor);
    if (wait > 0) {
      const deadline = opts.retry?.deadline;
      if (wait > (opts.retry?.maxWaitMs ?? 30_000) || (deadline && Date.now() + wait > deadline)) {
        throw new ComposioError(
          `GET ${COMPOSIO_API_BASE}/tools: rate limit exhausted for ${wait} ms`,
          429,
          "http",
          { retryAfterMs: wait },
        );
      }
      await (opts.retry?.sleep ?? sleep)(wait);
    }
  }
}

interface ReadPage {
  tools: ComposioTool[];
  errors: ToolError[];
  /** How many items the page listed. */
  items: number;
  status: number;
  /** What the page said about where the listing goes on. */
  listed: { next_cursor: string | null; total_pages: number | null; current_page: number | null };
  totalPages: number | null;
  /** rateLimitWait of the response. */
  wait: number;
}

/** One page of `GET /tools`, validated item by item (indexes from `index`). */
async function readToolPage(
  config: ComposioConfig,
  query: Record<string, string | undefined>,
  retry: RetryOptions | undefined,
  index: number,
): Promise<ReadPage> {
  const res = await withComposioRetry(
    () => composioRequest<unknown>(config, "GET", "/tools", { query }),
    retry,
  );
  const body = pageSchema.safeParse(res.data);
  if (!body.success) {
    throw new ComposioError(
      `GET ${COMPOSIO_API_BASE}/tools: unexpected page shape (${body.error.issues[0]?.message})`,
      res.status,
      "invalid_response",
    );
  }
  const tools: ComposioTool[] = [];
  const errors: ToolError[] = [];
  const { items, next_cursor, total_pages, current_page } = body.data;
  for (let i = 0; i < items.length; i++) {
    const parsed = parseTool(items[i], index + i);
    if (isToolError(parsed)) errors.push(parsed);
    else tools.push(parsed);
  }
  return {
    tools,
    errors,
    items: items.length,
    status: res.status,
    listed: { next_cursor, total_pages, current_page },
    totalPages: total_pages,
    wait: rateLimitWait(res),
  };
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

/** `GET /tools/{slug}`, validated. */
export async function getTool(
  config: ComposioConfig,
  slug: string,
  opts: { version?: string; retry?: RetryOptions } = {},
): Promise<ComposioTool> {
  const res = await withComposioRetry(
    () =>
      composioRequest<unknown>(config, "GET", `/tools/${encodeURIComponent(slug)}`, {
        query: { version: opts.version },
      }),
    opts.retry,
  );
  const parsed = parseTool(res.data, 0);
  if (isToolError(parsed)) {
    throw new ComposioError(
      `GET ${COMPOSIO_API_BASE}/tools/${slug}: ${parsed.message}`,
      res.status,
      "invalid_response",
      { transient: false },
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

/** Every toolkit (`GET /toolkits`, all pages); malformed entries are skipped. */
export async function listToolkits(
  config: ComposioConfig,
  opts: { retry?: RetryOptions; category?: string } = {},
): Promise<ComposioToolkit[]> {
  const out: ComposioToolkit[] = [];
  let cursor: string | null = null;
  const seenCursors = new Set<string>();
  for (let page = 1;; page++) {
    const res = await withComposioRetry(
      () =>
        composioRequest<unknown>(config, "GET", "/toolkits", {
          query: { limit: "1000", cursor: cursor ?? undefined, category: opts.category },
        }),
      opts.retry,
    );
    const body = pageSchema.safeParse(res.data);
    if (!body.success) {
      throw new ComposioError(
        `GET ${COMPOSIO_API_BASE}/toolkits: unexpected page shape`,
        res.status,
        "invalid_response",
      );
    }
    for (const item of body.data.items) {
      const kit = composioToolkitSchema.safeParse(item);
      if (kit.success) out.push(kit.data);
    }
    const after = nextCursor(body.data, page);
    const next = "next" in after ? after.next : null;
    const problem = "truncated" in after
      ? `listing cut short (${after.truncated})`
      : next && seenCursors.has(next)
      ? `cursor repeated on page ${page}`
      : null;
    if (problem) {
      throw new ComposioError(
        `GET ${COMPOSIO_API_BASE}/toolkits: ${problem}`,
        res.status,
        "invalid_response",
        {
          // A later listing may be whole; a cursor loop stays one.
          transient: "truncated" in after,
        },
      );
    }
    if (!next) return out;
    cursor = next;
    seenCursors.add(cursor);
  }
}
