// Confirming initiated accounts with Composio: each is read back
// (GET connected_accounts/{id}) and its row set to what Composio reports (reconcile.ts).
// An account that turns active gets linked_at, its granted scopes and its ownership check
// recorded, and the warm-scan trigger syncs its toolkit as for any account becoming active.
// Owners ask for it after the consent (POST /connected-accounts/refresh); the schedule
// catches up on accounts initiated in the last day whose app never asked.
import { z } from "zod";
import { type ComposioConfig, composioConfig, ComposioError } from "../_shared/composio.ts";
import { type ComposioAccount, getConnectedAccount } from "../_shared/composio_accounts.ts";
import type { Sql } from "../_shared/db.ts";
import { jobBodyFields, type JobDefinition } from "../_shared/job.ts";
import { type AccountAnswer, type OurStatus, reconcile } from "./reconcile.ts";

export const slug = "connected-accounts";

export type GetAccount = (config: ComposioConfig, id: string) => Promise<ComposioAccount>;

export interface InitiatedRow {
  id: string;
  tenant_id: string;
  toolkit: string;
  external_account_id: string;
  created_at: Date;
}

export interface Refreshed {
  id: string;
  toolkit: string;
  status: OurStatus;
  /** The row changed (Composio reported another status). */
  changed: boolean;
  /** Composio gave no usable answer this time. */
  unchecked: boolean;
}

async function askComposio(
  config: ComposioConfig,
  getAccount: GetAccount,
  id: string,
): Promise<AccountAnswer> {
  try {
    return { kind: "account", account: await getAccount(config, id) };
  } catch (err) {
    if (!(err instanceof ComposioError)) throw err;
    if (err.status === 404) return { kind: "not_found" };
    return { kind: "failed", message: err.message };
  }
}

/** Reads one initiated row back from Composio and applies the answer. */
export async function refreshOne(
  sql: Sql,
  row: InitiatedRow,
  deps: { composio: ComposioConfig; getAccount: GetAccount },
): Promise<Refreshed> {
  const answer = await askComposio(deps.composio, deps.getAccount, row.external_account_id);
  const update = reconcile(row.tenant_id, row, answer);
  if (update === null) {
    return {
      id: row.id,
      toolkit: row.toolkit,
      status: "initiated",
      changed: false,
      unchecked: answer.kind === "failed",
    };
  }
  // Guarded: another refresh may have got there first, or the service re-pointed the row.
  const [done] = await sql<{ status: OurStatus }[]>`
    update public.connected_accounts
       set status = ${update.status},
           linked_at = case when ${update.linked} then now() else linked_at end,
           scopes = coalesce(${update.scopes}::text[], scopes),
           verified_external_account_id = case when ${update.owned}::boolean is null
                                               then verified_external_account_id
                                               else external_account_id end,
           verified_owned = coalesce(${update.owned}::boolean, verified_owned),
           verified_at = case when ${update.owned}::boolean is null then verified_at
                              else now() end
     where id = ${row.id} and status = 'initiated'
       and external_account_id = ${row.external_account_id}
    returning status`;
  return {
    id: row.id,
    toolkit: row.toolkit,
    status: done?.status ?? update.status,
    changed: done !== undefined,
    unchecked: false,
  };
}

/** A batch of initiated rows, oldest first, after the (created_at, id) cursor. */
export async function initiatedRows(
  sql: Sql,
  opts: {
    tenantId: string | null;
    id?: string | null;
    /** Only rows initiated within this many hours (the schedule's window). */
    withinHours?: number;
    after?: { created_at: Date; id: string } | null;
    limit: number;
  },
): Promise<InitiatedRow[]> {
  const after = opts.after ?? null;
  return await sql<InitiatedRow[]>`
    select id::text, tenant_id::text, toolkit, external_account_id, created_at
      from public.connected_accounts
     where status = 'initiated' and external_account_id is not null
       and (${opts.tenantId}::uuid is null or tenant_id = ${opts.tenantId}::uuid)
       and (${opts.id ?? null}::uuid is null or id = ${opts.id ?? null}::uuid)
       and (${opts.withinHours ?? null}::int is null
            or created_at > now() - make_interval(hours => ${opts.withinHours ?? null}::int))
       and (${after?.created_at ?? null}::timestamptz is null
            or (created_at, id) > (${after?.created_at ?? null}::timestamptz,
                                   ${after?.id ?? null}::uuid))
     order by created_at, id
     limit ${opts.limit}`;
}

/** Accounts the schedule still looks at: the consent is done within minutes, or not at all. */
export const scheduleWindowHours = 24;
const batchSize = 50;

export const refreshJobBody = z.strictObject({ ...jobBodyFields });

/** The job (service key): every tenant's (or one tenant's) recently initiated accounts. */
export function refreshJob(
  deps: { composio?: () => ComposioConfig; getAccount?: GetAccount } = {},
): JobDefinition<typeof refreshJobBody> {
  return {
    slug,
    schema: refreshJobBody,
    defaultBudgetMs: 25_000,
    run: async (ctx) => {
      const { sql, body } = ctx;
      const limit = body.limit ?? 500;
      let after: { created_at: Date; id: string } | null = null;
      let seen = 0;
      const composio = (deps.composio ?? composioConfig)();
      for (;;) {
        if (ctx.outOfTime() || seen >= limit) return { remaining: true };
        const rows: InitiatedRow[] = await initiatedRows(sql, {
          tenantId: body.tenant_id ?? null,
          withinHours: scheduleWindowHours,
          after,
          limit: Math.min(batchSize, limit - seen),
        });
        if (rows.length === 0) return {};
        seen += rows.length;
        after = rows[rows.length - 1];
        if (body.dry_run) {
          ctx.count("would_check", rows.length);
          continue;
        }
        for (const row of rows) {
          const r = await refreshOne(sql, row, {
            composio,
            getAccount: deps.getAccount ?? getConnectedAccount,
          });
          ctx.count("checked");
          if (r.unchecked) ctx.count("errors");
          else if (r.changed) ctx.count(r.status);
          else ctx.count("unchanged");
        }
      }
    },
  };
}
