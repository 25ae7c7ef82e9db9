// A tenant id from a caller is checked before anything is written for it: a well-formed id
// naming no tenant is the caller's mistake (404), not a foreign-key failure inside a job.
import type { Sql } from "./db.ts";
import { ApiError } from "./errors.ts";

export async function requireTenant(sql: Sql, tenantId: string | undefined): Promise<void> {
  if (tenantId === undefined) return;
  const [row] = await sql`select exists (select from public.tenants where id = ${tenantId}) as ok`;
  if (!row.ok) throw new ApiError(404, "tenant_not_found", `no tenant ${tenantId}`);
}
