// Leasing a batch: public.outbox_claim (supabase/schemas/50_outbox/1100_function_outbox_claim.sql)
// leases due envelopes under the tenants' concurrency caps and returns each with everything
// the plan needs, in one statement committed before any call is made.
import type { Sql } from "../_shared/db.ts";
import type { RiskTier } from "../_shared/guardrails.ts";

/** A leased envelope as outbox_claim returns it. */
export interface Claimed {
  id: string;
  tenant_id: string;
  tool_slug: string;
  toolkit: string;
  arguments: Record<string, unknown>;
  connected_account_id: string | null;
  risk: RiskTier;
  read_only: boolean;
  trust_context: Record<string, unknown>;
  attempts: number;
  status_before: "pending" | "retry";
  lease_token: string;
  lease_expires_at: Date;
  /** The tool's current catalog row (all null when the tenant's catalog lacks the tool). */
  version: string | null;
  content_hash: string | null;
  tool_toolkit: string | null;
  required_scopes: string[] | null;
  deprecated: boolean | null;
  /** The account it would run with (null when there is none). */
  account_status: string | null;
  account_scopes: string[] | null;
  account_external_id: string | null;
  /** The account's row id (null when there is none). */
  account_id: string | null;
  /**
   * Whether Composio said the account's current external id is the tenant's: null when it
   * was never checked for this id (ownership.ts).
   */
  account_owned: boolean | null;
  /** A person approved it. */
  approved: boolean;
  /** The tenant's guardrails row, its configuration columns (plan.ts parses it per tenant). */
  guardrails: Record<string, unknown> | null;
}

export interface ClaimRequest {
  worker: string;
  limit: number;
  leaseMs: number;
  tenantId: string | null;
}

export async function claimBatch(sql: Sql, req: ClaimRequest): Promise<Claimed[]> {
  return await sql<Claimed[]>`
    select * from public.outbox_claim(${req.worker}, ${req.limit}, ${req.leaseMs},
                                      ${req.tenantId}::uuid)`;
}
