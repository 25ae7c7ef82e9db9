// Connected accounts as the sandbox keeps them: per Composio user (user_id), each made with
// one of the project's auth configs, and presented in Composio's v3/v3.1 shapes
// (composio-base-py `connected_account_create_response.py`, `…_retrieve_response.py`,
// `…_list_response.py`; the API reference's POST/GET /connected_accounts). The fixture file
// holds the project's auth configs and the accounts the seed's rows name
// (stack/fixtures/composio_accounts.json).
import { isObject } from "./util.ts";

export const ACCOUNT_STATUSES = [
  "INITIALIZING",
  "INITIATED",
  "ACTIVE",
  "FAILED",
  "EXPIRED",
  "INACTIVE",
] as const;
export type AccountStatus = typeof ACCOUNT_STATUSES[number];

export interface AuthConfig {
  id: string;
  toolkit: string;
  auth_scheme: string;
  /** What a finished consent grants (state.val.scope of an active account). */
  scopes: string[];
}

export interface SandboxAccount {
  id: string;
  user_id: string;
  toolkit: string;
  auth_config_id: string;
  status: AccountStatus;
  callback_url: string | null;
  scopes: string[];
  created_at: string;
  updated_at: string;
}

export interface AccountFixtures {
  auth_configs: AuthConfig[];
  accounts: SandboxAccount[];
}

export function isAccountStatus(v: unknown): v is AccountStatus {
  return typeof v === "string" && (ACCOUNT_STATUSES as readonly string[]).includes(v);
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];

export async function loadAccountFixtures(file: string | URL): Promise<AccountFixtures> {
  const raw = JSON.parse(await Deno.readTextFile(file));
  if (!isObject(raw) || !Array.isArray(raw.auth_configs) || !Array.isArray(raw.accounts)) {
    throw new Error(`${file}: expected {auth_configs, accounts}`);
  }
  const at = "2026-01-03T09:00:00.000Z";
  const authConfigs: AuthConfig[] = raw.auth_configs.map((a: Record<string, unknown>) => ({
    id: String(a.id),
    toolkit: String(a.toolkit),
    auth_scheme: typeof a.auth_scheme === "string" ? a.auth_scheme : "OAUTH2",
    scopes: strings(a.scopes),
  }));
  const accounts = raw.accounts.map((a: Record<string, unknown>) => {
    const config = authConfigs.find((c) => c.toolkit === a.toolkit);
    if (!config) throw new Error(`${file}: account ${a.id} names a toolkit without auth config`);
    if (!isAccountStatus(a.status)) throw new Error(`${file}: account ${a.id}: bad status`);
    return {
      id: String(a.id),
      user_id: String(a.user_id),
      toolkit: config.toolkit,
      auth_config_id: config.id,
      status: a.status,
      callback_url: null,
      scopes: a.scopes === undefined ? [...config.scopes] : strings(a.scopes),
      created_at: at,
      updated_at: at,
    } satisfies SandboxAccount;
  });
  return { auth_configs: authConfigs, accounts };
}

/** A new account id in Composio's form (`ca_` and a nanoid). */
export function newAccountId(): string {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `ca_${Array.from(bytes, (b) => alphabet[b & 63]).join("")}`;
}

/**
 * The connection state Composio answers with: OAuth2's `{authScheme, val: {status, …}}`.
 * An initiated one carries the redirect URL; an active one the granted scope (and, at
 * Composio, the tokens: the sandbox sends a stand-in so a client that logs or stores the
 * state is caught by the tests that look for it).
 */
function state(a: SandboxAccount, scheme: string, redirectUrl: string | null) {
  const val: Record<string, unknown> = { status: a.status };
  if (a.status === "INITIATED" && redirectUrl) val.redirectUrl = redirectUrl;
  if (a.status === "ACTIVE") {
    val.access_token = `sandbox-token-${a.id}`;
    val.token_type = "Bearer";
    val.scope = a.scopes.join(" ");
  }
  if (a.callback_url) val.callback_url = a.callback_url;
  return { authScheme: scheme, val };
}

/** GET /connected_accounts/{id} and each list item. */
export function presentAccount(a: SandboxAccount, config: AuthConfig | undefined) {
  const scheme = config?.auth_scheme ?? "OAUTH2";
  return {
    id: a.id,
    user_id: a.user_id,
    status: a.status,
    status_reason: a.status === "FAILED" ? "The user did not finish the consent" : null,
    is_disabled: a.status === "INACTIVE",
    toolkit: { slug: a.toolkit },
    auth_config: {
      id: a.auth_config_id,
      auth_scheme: scheme,
      is_composio_managed: true,
      is_disabled: false,
    },
    state: state(a, scheme, null),
    data: {},
    params: {},
    test_request_endpoint: "",
    created_at: a.created_at,
    updated_at: a.updated_at,
  };
}

/** POST /connected_accounts: the connection request. */
export function presentCreated(a: SandboxAccount, config: AuthConfig, redirectUrl: string) {
  return {
    id: a.id,
    connectionData: state(a, config.auth_scheme, redirectUrl),
    // Deprecated at Composio, still sent.
    status: a.status,
    redirect_url: redirectUrl,
    redirect_uri: redirectUrl,
    deprecated: { uuid: crypto.randomUUID(), authConfigUuid: crypto.randomUUID() },
  };
}

/**
 * The accounts a list query selects: `user_ids`, `toolkit_slugs`, `statuses` (also the
 * SDK's misspelt `statues`) and `auth_config_ids`, each repeated or comma-separated;
 * newest first (Composio's default order, by created_at).
 */
export function filterAccounts(all: SandboxAccount[], q: URLSearchParams): SandboxAccount[] {
  const list = (name: string) =>
    q.getAll(name).flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean);
  const users = list("user_ids");
  const kits = list("toolkit_slugs").map((s) => s.toLowerCase());
  const statuses = [...list("statuses"), ...list("statues")].map((s) => s.toUpperCase());
  const configs = list("auth_config_ids");
  return all
    .filter((a) =>
      (!users.length || users.includes(a.user_id)) &&
      (!kits.length || kits.includes(a.toolkit)) &&
      (!statuses.length || statuses.includes(a.status)) &&
      (!configs.length || configs.includes(a.auth_config_id))
    )
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || a.id.localeCompare(b.id));
}
