// The user routes of connected-accounts: an owner of the token's tenant asks to connect a
// toolkit (initiate) and to have the result confirmed (refresh). Who the caller is comes
// from the verified JWT; whether they are an owner of that tenant, from tenant_members,
// read as the caller (RLS decides what they see), with the very next request after a
// removal or demotion. Composio is called with the service's key for the tenant's Composio
// user (the tenant id, as the drain executes): the caller names a toolkit, never an account
// id or a user.
import type { Hono } from "hono";
import { type AppContext, type AppEnv, parseJsonBody } from "../_shared/app.ts";
import { type ComposioConfig, composioConfig, ComposioError } from "../_shared/composio.ts";
import { getConnectedAccount, initiateConnectedAccount } from "../_shared/composio_accounts.ts";
import { serviceDb, type Sql, withUserContext } from "../_shared/db.ts";
import { ApiError, badRequest, forbidden, notFound } from "../_shared/errors.ts";
import { tenantUser } from "../_shared/middleware/caller.ts";
import { initiateBody, refreshBody } from "./input.ts";
import { type GetAccount, initiatedRows, refreshOne } from "./refresh.ts";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ConnectDeps {
  sql?: () => Sql;
  composio?: () => ComposioConfig;
  getAccount?: GetAccount;
}

/** The caller's tenant and user when they are an owner of it; 403 otherwise. */
async function requireOwner(
  c: AppContext,
  sql: Sql,
): Promise<{ tenantId: string; userId: string }> {
  const claims = c.get("claims");
  const tenantId = claims.tenant_id;
  const userId = typeof claims.sub === "string" ? claims.sub : "";
  if (!uuid.test(tenantId) || !uuid.test(userId)) {
    throw forbidden("the token names no tenant of this project");
  }
  const rows = await withUserContext(sql, claims, (tx) =>
    tx<{ role: string }[]>`
      select role from public.tenant_members
       where tenant_id = ${tenantId}::uuid and user_id = ${userId}::uuid`);
  if (rows.length === 0) throw forbidden(`you are not a member of tenant ${tenantId}`);
  if (rows[0].role !== "owner") {
    throw forbidden(`only an owner of tenant ${tenantId} may connect or confirm accounts`);
  }
  return { tenantId, userId };
}

function upstream(err: ComposioError): ApiError {
  const status = err.status === 429 ? 503 : 502;
  return new ApiError(status, "composio_error", `Composio: ${err.upstream ?? err.message}`, {
    status: err.status,
    request_id: err.requestId,
  });
}

export function mountConnectRoutes(app: Hono<AppEnv>, deps: ConnectDeps = {}) {
  const db = deps.sql ?? serviceDb;
  const composio = deps.composio ?? composioConfig;

  app.post("/initiate", tenantUser(), async (c: AppContext) => {
    const sql = db();
    const { tenantId, userId } = await requireOwner(c, sql);
    const body = await parseJsonBody(c, initiateBody);
    const [config] = await sql<{ auth_config_id: string }[]>`
      select auth_config_id from internal.composio_auth_configs where toolkit = ${body.toolkit}`;
    if (!config) {
      throw badRequest(
        "toolkit_not_offered",
        `toolkit ${body.toolkit} cannot be connected in this project (no Composio auth config)`,
        { toolkit: body.toolkit },
      );
    }
    let request;
    try {
      request = await initiateConnectedAccount(composio(), {
        authConfigId: config.auth_config_id,
        userId: tenantId,
        callbackUrl: body.callback_url ?? null,
      });
    } catch (err) {
      if (err instanceof ComposioError) throw upstream(err);
      throw err;
    }
    const [row] = await sql<{ id: string; created_at: Date }[]>`
      insert into public.connected_accounts (tenant_id, toolkit, external_account_id, status,
                                             metadata)
      values (${tenantId}, ${body.toolkit}, ${request.id}, 'initiated',
              ${sql.json({ auth_config_id: config.auth_config_id, initiated_by: userId })})
      returning id::text, created_at`;
    c.get("log").info("connected_account_initiated", {
      tenant_id: tenantId,
      account_id: row.id,
      toolkit: body.toolkit,
    });
    return c.json({
      id: row.id,
      toolkit: body.toolkit,
      status: "initiated",
      redirect_url: request.redirectUrl,
      created_at: row.created_at,
    }, 201);
  });

  app.post("/refresh", tenantUser(), async (c: AppContext) => {
    const sql = db();
    const { tenantId } = await requireOwner(c, sql);
    const body = await parseJsonBody(c, refreshBody);
    if (body.id) {
      const [known] = await sql`
        select 1 from public.connected_accounts where id = ${body.id} and tenant_id = ${tenantId}`;
      if (!known) throw notFound(`no connected account ${body.id} in tenant ${tenantId}`);
    }
    const rows = await initiatedRows(sql, { tenantId, id: body.id ?? null, limit: 50 });
    const config = composio();
    const results = [];
    // Composio's failures are answers (unchecked), not errors of the request.
    for (const row of rows) {
      results.push(
        await refreshOne(sql, row, {
          composio: config,
          getAccount: deps.getAccount ?? getConnectedAccount,
        }),
      );
    }
    const accounts = await sql`
      select id::text, toolkit, status, linked_at, created_at from public.connected_accounts
       where tenant_id = ${tenantId}
         and (${body.id ?? null}::uuid is null or id = ${body.id ?? null}::uuid)
       order by created_at, id`;
    return c.json({
      tenant_id: tenantId,
      checked: results.length,
      changed: results.filter((r) => r.changed).map((r) => r.id),
      unchecked: results.filter((r) => r.unchecked).map((r) => r.id),
      accounts,
    });
  });
}
