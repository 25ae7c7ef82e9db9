// Paging as Composio does it: the cursor is base64 of the page number and page size, and a
// page reports where it is among all of them.

// Composio documents no default page size for /tools; 20 mirrors its toolkit listings. The
// toolkit list documents "max allowed is 1000"; both routes are clamped there.
const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  total_pages: number;
  current_page: number;
  total_items: number;
}

/** The page the query asks for, or the problem with the query. */
export function paginate<T>(all: T[], q: URLSearchParams): Page<T> | string {
  let limit = DEFAULT_LIMIT;
  let page = 1;
  const rawLimit = q.get("limit");
  if (rawLimit !== null && rawLimit !== "") {
    const n = Number(rawLimit);
    if (!Number.isInteger(n) || n < 1) return `limit must be a positive integer, got ${rawLimit}`;
    limit = Math.min(n, MAX_LIMIT);
  }
  const cursor = q.get("cursor");
  if (cursor) {
    const decoded = decodeCursor(cursor);
    if (!decoded) return "Invalid cursor";
    ({ page, limit } = decoded); // the cursor's limit wins, so pages never overlap
  }
  const start = (page - 1) * limit;
  return {
    items: all.slice(start, start + limit),
    next_cursor: start + limit < all.length ? encodeCursor(page + 1, limit) : null,
    total_pages: Math.ceil(all.length / limit),
    current_page: page,
    total_items: all.length,
  };
}

function encodeCursor(page: number, limit: number): string {
  return btoa(JSON.stringify({ page, limit }));
}

function decodeCursor(cursor: string): { page: number; limit: number } | null {
  try {
    const v = JSON.parse(atob(cursor));
    const ok = Number.isInteger(v?.page) && v.page >= 1 && Number.isInteger(v?.limit) &&
      v.limit >= 1 && v.limit <= MAX_LIMIT;
    return ok ? { page: v.page, limit: v.limit } : null;
  } catch {
    return null;
  }
}
