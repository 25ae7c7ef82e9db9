// GET /drift-monitor with a user JWT: the caller's tenant's latest drift snapshot. The query
// runs as the user (withUserContext), so RLS (catalog_audit_select_member) decides which
// rows exist for them; the tenant filter is the policy's, not ours.
import type { AppContext } from "../_shared/app.ts";
import { serviceDb, withUserContext } from "../_shared/db.ts";

/** Needs the tenantUser() middleware in front (index.ts). */
export async function latestDrift(c: AppContext): Promise<Response> {
  const claims = c.get("claims");
  const rows = await withUserContext(serviceDb(), claims, (tx) =>
    tx`
      select id, tenant_id::text, run_id, snapshot, breaking_count, non_breaking_count,
             created_at
        from public.catalog_audit
       order by created_at desc, id desc
       limit 1`);
  const row = rows[0];
  return c.json({
    tenant_id: claims.tenant_id,
    latest: row
      ? {
        id: Number(row.id),
        tenant_id: row.tenant_id,
        run_id: row.run_id === null ? null : Number(row.run_id),
        breaking_count: row.breaking_count,
        non_breaking_count: row.non_breaking_count,
        drift: row.breaking_count > 0
          ? "breaking"
          : row.non_breaking_count > 0
          ? "non_breaking"
          : "none",
        created_at: row.created_at,
        snapshot: row.snapshot,
      }
      : null,
  });
}
