// Composio's connected accounts (v3.1): initiate a connection for a Composio user with the
// project's auth config, and read one account back. What an answer means for us (whose
// account it is, which of our statuses) is decided by the callers' policy modules; this
// module only speaks the API. Composio's answers carry the connection's tokens in `state`:
// only the status, the owner and the granted scope are read, nothing else is kept.
import { z } from "zod";
import {
  COMPOSIO_API_BASE,
  type ComposioConfig,
  ComposioError,
  composioRequest,
} from "./composio.ts";

/** Composio's connection statuses (composio-base `ConnectedAccountStatuses`). */
export const composioAccountStatuses = [
  "INITIALIZING",
  "INITIATED",
  "ACTIVE",
  "FAILED",
  "EXPIRED",
  "INACTIVE",
] as const;
export type ComposioAccountStatus = typeof composioAccountStatuses[number];

const scopeSchema = z.union([z.string(), z.array(z.string())]).nullish();

/** An account as GET /connected_accounts/{id} answers it: the fields we read. */
export const composioAccountSchema = z.object({
  id: z.string().min(1),
  // Whose account it is: the ownership check rests on this, so it is required.
  user_id: z.string().min(1),
  status: z.enum(composioAccountStatuses),
  is_disabled: z.boolean().nullish(),
  toolkit: z.object({ slug: z.string().min(1) }),
  auth_config: z.object({ id: z.string().min(1) }),
  state: z.object({ val: z.object({ scope: scopeSchema }).nullish() }).nullish(),
});

export interface ComposioAccount {
  id: string;
  userId: string;
  status: ComposioAccountStatus;
  disabled: boolean;
  toolkit: string;
  authConfigId: string;
  /** Scopes the connection was granted, when Composio says (OAuth2's state.val.scope). */
  scopes: string[] | null;
}

/** The answer to an initiate: the account id Composio made and where the user consents. */
export const composioConnectionRequestSchema = z.object({
  id: z.string().min(1),
  // redirect_url at the top level is deprecated in favour of connectionData.val.redirectUrl;
  // Composio sends both.
  redirect_url: z.string().nullish(),
  status: z.enum(composioAccountStatuses).nullish(),
  connectionData: z.object({
    val: z.object({
      status: z.enum(composioAccountStatuses).nullish(),
      redirectUrl: z.string().nullish(),
    }).nullish(),
  }).nullish(),
});

export interface ConnectionRequest {
  id: string;
  status: ComposioAccountStatus;
  /** Null for schemes without a consent step (an API key given at initiate). */
  redirectUrl: string | null;
}

function invalid(method: string, path: string, status: number, error: z.ZodError): ComposioError {
  const issues = error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
  return new ComposioError(
    `${method} ${COMPOSIO_API_BASE}${path}: unexpected answer (${issues})`,
    status,
    "invalid_response",
    { transient: false },
  );
}

function scopesOf(v: z.infer<typeof scopeSchema>): string[] | null {
  if (v === null || v === undefined) return null;
  const list = Array.isArray(v) ? v : v.split(/[\s,]+/);
  return [...new Set(list.map((s) => s.trim()).filter(Boolean))].sort();
}

/**
 * `GET /api/v3.1/connected_accounts/{id}`: any account of the project, whoever's it is (the
 * caller checks `userId`). Throws ComposioError: a 404 when Composio has no such account,
 * invalid_response when the answer lacks what we read.
 */
export async function getConnectedAccount(
  config: ComposioConfig,
  id: string,
): Promise<ComposioAccount> {
  const path = `/connected_accounts/${encodeURIComponent(id)}`;
  const res = await composioRequest<unknown>(config, "GET", path);
  const parsed = composioAccountSchema.safeParse(res.data);
  if (!parsed.success) throw invalid("GET", path, res.status, parsed.error);
  const a = parsed.data;
  return {
    id: a.id,
    userId: a.user_id,
    status: a.status,
    disabled: a.is_disabled === true,
    toolkit: a.toolkit.slug.toLowerCase(),
    authConfigId: a.auth_config.id,
    scopes: scopesOf(a.state?.val?.scope),
  };
}

/**
 * `POST /api/v3.1/connected_accounts`: a connection request for Composio user `userId` with
 * auth config `authConfigId`; Composio sends the user back to `callbackUrl` after the
 * consent. Not retried: a second request would make a second account.
 */
export async function initiateConnectedAccount(
  config: ComposioConfig,
  req: { authConfigId: string; userId: string; callbackUrl?: string | null },
): Promise<ConnectionRequest> {
  const path = "/connected_accounts";
  const res = await composioRequest<unknown>(config, "POST", path, {
    body: {
      auth_config: { id: req.authConfigId },
      connection: {
        user_id: req.userId,
        ...(req.callbackUrl ? { callback_url: req.callbackUrl } : {}),
      },
    },
  });
  const parsed = composioConnectionRequestSchema.safeParse(res.data);
  if (!parsed.success) throw invalid("POST", path, res.status, parsed.error);
  const r = parsed.data;
  return {
    id: r.id,
    status: r.connectionData?.val?.status ?? r.status ?? "INITIATED",
    redirectUrl: r.connectionData?.val?.redirectUrl ?? r.redirect_url ?? null,
  };
}
