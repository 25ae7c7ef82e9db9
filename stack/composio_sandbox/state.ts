// Everything the sandbox remembers between requests, and the control operations tests use
// to steer it (in-process, or through the /_sandbox routes). reset() rebuilds it all from
// the fixtures read at start.
import {
  type AccountFixtures,
  type AccountStatus,
  type AuthConfig,
  isAccountStatus,
  newAccountId,
  type SandboxAccount,
} from "./accounts.ts";
import {
  type Catalog,
  cloneCatalog,
  newToolkit,
  normalizeTool,
  type ToolDef,
  type ToolkitInfo,
} from "./catalog.ts";
import type { ExecutionRecord, ExecutionsReport } from "./execution_log.ts";
import { checkFault, type Fault, faultResponse, type FaultSpec, matchFault } from "./faults.ts";
import { type GenerateSpec, generateTools, MAX_GENERATED } from "./generate.ts";
import { type IssuesSpec, IssueTracker, type SandboxIssue } from "./issues.ts";
import {
  checkRateLimit,
  DEFAULT_RATE_LIMIT,
  type RateLimitSpec,
  RollingWindow,
} from "./rate_limit.ts";
import { sameSlug } from "./util.ts";

/** What tests may do to the sandbox; every operation also has a /_sandbox route. */
export interface SandboxControl {
  /**
   * Restore fixture catalogs and connected accounts; clear faults, the execution log,
   * request counts, execute results, the rate limit and the issue tracker (off again).
   */
  reset(): void;
  addFault(spec: FaultSpec): Fault;
  clearFaults(): void;
  faults(): Fault[];
  executions(): ExecutionsReport;
  /** Replace one toolkit's tools (creating the toolkit if new); returns the tool count. */
  setCatalog(toolkit: string, tools: unknown[]): number;
  /** Remove one tool; false if it was not there. */
  removeTool(toolkit: string, slug: string): boolean;
  /** Replace a toolkit's tools with `count` generated ones; same seed, same tools. */
  generateCatalog(spec: GenerateSpec): number;
  /** Data returned by successful executes of `slug`. */
  setExecuteResult(slug: string, data: unknown): void;
  /**
   * Appends items served as they are (no normalisation) after the toolkit's tools in
   * `GET /tools` listings filtered by that toolkit: malformed tools for client tests.
   * Returns how many raw items the toolkit now has.
   */
  addRawTools(toolkit: string, items: unknown[]): number;
  /** Sets the toolkit's latest version and/or available versions (and its tools'). */
  setToolkitVersions(
    toolkit: string,
    spec: { version?: string; available_versions?: string[] },
  ): ToolkitInfo;
  /** Marks a tool deprecated (listed with is_deprecated) or live again; false if absent. */
  setDeprecated(toolkit: string, slug: string, deprecated: boolean): boolean;
  /** Limits every API route to `limit` requests per rolling window; null lifts the limit. */
  setRateLimit(spec: RateLimitSpec | null): void;
  /** API requests answered past the key check, by "METHOD /path". */
  requests(): Record<string, number>;
  /**
   * Makes a connected account under any Composio user, as if that user had connected it
   * (ACTIVE unless told): another tenant's account, for ownership tests.
   */
  createAccount(spec: AccountSpec): SandboxAccount;
  /** Sets an account's status (ACTIVE: the user finished the consent); null if unknown. */
  setAccountStatus(id: string, status: AccountStatus): SandboxAccount | null;
  /** Every connected account, oldest first. */
  accounts(): SandboxAccount[];
  /**
   * Turns the issue tracker behind GITHUB_CREATE_ISSUE / GITHUB_LIST_ISSUES on or off and
   * sets how long a created issue stays out of listings; returns the settings.
   */
  setIssues(spec: IssuesSpec): IssuesSpec;
  /** Every issue created, oldest first, with the call that made it. */
  issues(): SandboxIssue[];
}

export interface AccountSpec {
  user_id: string;
  toolkit: string;
  status?: AccountStatus;
  /** Default: a new `ca_…` id. */
  id?: string;
}

export class SandboxState {
  catalog: Catalog;
  faultQueue: Fault[] = [];
  log: ExecutionRecord[] = [];
  results = new Map<string, unknown>();
  rawTools = new Map<string, unknown[]>();
  /** Null: no limit, and no rate-limit headers except on 429 faults. */
  rateLimit: RollingWindow | null = null;
  requestCounts = new Map<string, number>();
  issues = new IssueTracker();
  private faultSeq = 0;
  private logSeq = 0;

  authConfigs: AuthConfig[];
  accountList: SandboxAccount[];

  constructor(
    private readonly fixtures: Catalog,
    private readonly accountFixtures: AccountFixtures = { auth_configs: [], accounts: [] },
  ) {
    this.catalog = cloneCatalog(fixtures);
    this.authConfigs = structuredClone(accountFixtures.auth_configs);
    this.accountList = structuredClone(accountFixtures.accounts);
  }

  findAccount(id: string): SandboxAccount | undefined {
    return this.accountList.find((a) => a.id === id);
  }

  authConfig(id: string): AuthConfig | undefined {
    return this.authConfigs.find((c) => c.id === id);
  }

  /** A connection request: a new INITIATED account of `userId` with the auth config. */
  initiateAccount(config: AuthConfig, userId: string, callbackUrl: string | null): SandboxAccount {
    const at = new Date().toISOString();
    const account: SandboxAccount = {
      id: newAccountId(),
      user_id: userId,
      toolkit: config.toolkit,
      auth_config_id: config.id,
      status: "INITIATED",
      callback_url: callbackUrl,
      scopes: [...config.scopes],
      created_at: at,
      updated_at: at,
    };
    this.accountList.push(account);
    return account;
  }

  createAccount(spec: AccountSpec): SandboxAccount {
    if (typeof spec?.user_id !== "string" || !spec.user_id) {
      throw new TypeError("user_id must be a non-empty string");
    }
    const config = this.authConfigs.find((c) => c.toolkit === spec.toolkit);
    if (!config) throw new TypeError(`no auth config for toolkit ${spec.toolkit}`);
    if (spec.status !== undefined && !isAccountStatus(spec.status)) {
      throw new TypeError(
        "status must be INITIALIZING, INITIATED, ACTIVE, FAILED, EXPIRED or INACTIVE",
      );
    }
    if (spec.id !== undefined && (typeof spec.id !== "string" || this.findAccount(spec.id))) {
      throw new TypeError("id must be a string no other account has");
    }
    const account = this.initiateAccount(config, spec.user_id, null);
    if (spec.id) account.id = spec.id;
    account.status = spec.status ?? "ACTIVE";
    return structuredClone(account);
  }

  setAccountStatus(id: string, status: AccountStatus): SandboxAccount | null {
    if (!isAccountStatus(status)) {
      throw new TypeError(
        "status must be INITIALIZING, INITIATED, ACTIVE, FAILED, EXPIRED or INACTIVE",
      );
    }
    const account = this.findAccount(id);
    if (!account) return null;
    account.status = status;
    account.updated_at = new Date().toISOString();
    return structuredClone(account);
  }

  accounts(): SandboxAccount[] {
    return structuredClone(this.accountList);
  }

  /** The first queued fault matching the request, spent by one. */
  takeFault(req: Parameters<typeof matchFault>[1]): Fault | null {
    const { fault, queue } = matchFault(this.faultQueue, req);
    this.faultQueue = queue;
    return fault;
  }

  /** The answer to a request a fault with a status hit. */
  faultAnswer(fault: Fault): Response {
    return faultResponse(fault, this.rateLimit?.spec ?? DEFAULT_RATE_LIMIT);
  }

  countRequest(key: string): void {
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
  }

  findTool(slug: string): ToolDef | undefined {
    for (const kit of this.catalog.values()) {
      const tool = kit.tools.find((t) => sameSlug(t.slug, slug));
      if (tool) return tool;
    }
  }

  nextLogId(): string {
    return `log_sandbox_${String(++this.logSeq).padStart(6, "0")}`;
  }

  reset(): void {
    this.catalog = cloneCatalog(this.fixtures);
    this.faultQueue = [];
    this.log = [];
    this.results = new Map();
    this.rawTools = new Map();
    this.rateLimit = null;
    this.requestCounts = new Map();
    this.issues.reset();
    this.logSeq = 0;
    this.authConfigs = structuredClone(this.accountFixtures.auth_configs);
    this.accountList = structuredClone(this.accountFixtures.accounts);
  }

  addFault(spec: FaultSpec): Fault {
    const problem = checkFault(spec);
    if (problem) throw new TypeError(problem);
    const fault: Fault = {
      ...spec,
      id: `fault_${++this.faultSeq}`,
      route: spec.route ?? "execute",
      remaining: spec.times ?? null,
    };
    this.faultQueue = [...this.faultQueue, fault];
    return { ...fault };
  }

  clearFaults(): void {
    this.faultQueue = [];
  }

  faults(): Fault[] {
    return this.faultQueue.map((f) => ({ ...f }));
  }

  executions(): ExecutionsReport {
    const by_envelope: Record<string, number> = {};
    for (const e of this.log) {
      if (e.envelope_id !== null) {
        by_envelope[e.envelope_id] = (by_envelope[e.envelope_id] ?? 0) + 1;
      }
    }
    return { by_envelope, total: this.log.length, log: structuredClone(this.log) };
  }

  setCatalog(toolkit: string, tools: unknown[]): number {
    const kit = this.catalog.get(toolkit.toLowerCase()) ?? newToolkit(toolkit);
    const normalized = tools.map((raw) => normalizeTool(raw, kit.info));
    this.catalog.set(kit.info.slug, { info: kit.info, tools: normalized });
    return normalized.length;
  }

  removeTool(toolkit: string, slug: string): boolean {
    const kit = this.catalog.get(toolkit.toLowerCase());
    const before = kit?.tools.length ?? 0;
    if (kit) kit.tools = kit.tools.filter((t) => !sameSlug(t.slug, slug));
    return (kit?.tools.length ?? 0) < before;
  }

  generateCatalog({ toolkit, count, seed }: GenerateSpec): number {
    if (!Number.isInteger(count) || count < 0 || count > MAX_GENERATED) {
      throw new TypeError(`count must be an integer in 0..${MAX_GENERATED}`);
    }
    const kit = this.catalog.get(toolkit.toLowerCase()) ?? newToolkit(toolkit);
    const tools = generateTools(kit.info, count, seed ?? 1).map((t) => normalizeTool(t, kit.info));
    this.catalog.set(kit.info.slug, { info: kit.info, tools });
    return tools.length;
  }

  setExecuteResult(slug: string, data: unknown): void {
    this.results.set(slug.toUpperCase(), structuredClone(data));
  }

  addRawTools(toolkit: string, items: unknown[]): number {
    if (!Array.isArray(items)) throw new TypeError("items must be an array");
    const key = toolkit.toLowerCase();
    const list = [...(this.rawTools.get(key) ?? []), ...structuredClone(items)];
    this.rawTools.set(key, list);
    return list.length;
  }

  setToolkitVersions(
    toolkit: string,
    spec: { version?: string; available_versions?: string[] },
  ): ToolkitInfo {
    const kit = this.catalog.get(toolkit.toLowerCase());
    if (!kit) throw new TypeError(`no toolkit ${toolkit}`);
    if (spec.version !== undefined && (typeof spec.version !== "string" || !spec.version)) {
      throw new TypeError("version must be a non-empty string");
    }
    const av = spec.available_versions;
    if (av !== undefined && !(Array.isArray(av) && av.every((v) => typeof v === "string"))) {
      throw new TypeError("available_versions must be an array of strings");
    }
    const version = spec.version ?? kit.info.version;
    const versions = av ?? kit.info.available_versions;
    kit.info = {
      ...kit.info,
      version,
      available_versions: versions.includes(version) ? [...versions] : [...versions, version],
    };
    for (const t of kit.tools) {
      t.version = kit.info.version;
      t.available_versions = [...kit.info.available_versions];
    }
    return structuredClone(kit.info);
  }

  setDeprecated(toolkit: string, slug: string, deprecated: boolean): boolean {
    if (typeof deprecated !== "boolean") throw new TypeError("is_deprecated must be a boolean");
    const tool = this.catalog.get(toolkit.toLowerCase())?.tools.find((t) => sameSlug(t.slug, slug));
    if (tool) tool.is_deprecated = deprecated;
    return tool !== undefined;
  }

  setRateLimit(spec: RateLimitSpec | null): void {
    if (spec === null) {
      this.rateLimit = null;
      return;
    }
    const problem = checkRateLimit(spec);
    if (problem) throw new TypeError(problem);
    this.rateLimit = new RollingWindow({ limit: spec.limit, window_seconds: spec.window_seconds });
  }

  requests(): Record<string, number> {
    return Object.fromEntries(this.requestCounts);
  }

  /** The control operations, bound, for the public sandbox object. */
  control(): SandboxControl {
    return {
      reset: () => this.reset(),
      addFault: (spec) => this.addFault(spec),
      clearFaults: () => this.clearFaults(),
      faults: () => this.faults(),
      executions: () => this.executions(),
      setCatalog: (toolkit, tools) => this.setCatalog(toolkit, tools),
      removeTool: (toolkit, slug) => this.removeTool(toolkit, slug),
      generateCatalog: (spec) => this.generateCatalog(spec),
      setExecuteResult: (slug, data) => this.setExecuteResult(slug, data),
      addRawTools: (toolkit, items) => this.addRawTools(toolkit, items),
      setToolkitVersions: (toolkit, spec) => this.setToolkitVersions(toolkit, spec),
      setDeprecated: (toolkit, slug, deprecated) => this.setDeprecated(toolkit, slug, deprecated),
      setRateLimit: (spec) => this.setRateLimit(spec),
      requests: () => this.requests(),
      createAccount: (spec) => this.createAccount(spec),
      setAccountStatus: (id, status) => this.setAccountStatus(id, status),
      accounts: () => this.accounts(),
      setIssues: (spec) => this.issues.configure(spec),
      issues: () => this.issues.all(),
    };
  }
}
