// A GitHub issue tracker behind GITHUB_CREATE_ISSUE and GITHUB_LIST_ISSUES, so a write has an
// effect a later read can see: what reconciliation of an unknown outcome reads back. Off
// until a test turns it on (PUT /_sandbox/issues): benches create thousands of issues, and
// other tests rely on the deterministic echo those tools answer otherwise.
//
// Issues are kept per Composio user (the tenant) and repository. A created issue shows in
// listings only `visibility_delay_ms` after its creation, as a search index or a replica
// behind the primary would show it: "sees nothing yet" is then a state a test can reach.
import { isObject, sameSlug } from "./util.ts";

export const CREATE_ISSUE = "GITHUB_CREATE_ISSUE";
export const LIST_ISSUES = "GITHUB_LIST_ISSUES";

export interface IssuesSpec {
  enabled?: boolean;
  /** Created issues are listed only this long after their creation. */
  visibility_delay_ms?: number;
}

export interface SandboxIssue {
  number: number;
  owner: string;
  repo: string;
  title: string;
  body: string | null;
  labels: string[];
  state: "open";
  html_url: string;
  created_at: string;
  /** Sandbox only: when listings start to show it, and which call made it. */
  visible_at: string;
  user_id: string | null;
  envelope_id: string | null;
  log_id: string;
}

const MAX_VISIBILITY_DELAY_MS = 10 * 60_000;

/** Returns a problem description, or null when the spec is usable. */
export function checkIssuesSpec(spec: unknown): string | null {
  if (!isObject(spec)) return "body must be {enabled?, visibility_delay_ms?}";
  if (spec.enabled !== undefined && typeof spec.enabled !== "boolean") {
    return "enabled must be a boolean";
  }
  const d = spec.visibility_delay_ms;
  if (
    d !== undefined &&
    !(Number.isInteger(d) && (d as number) >= 0 && (d as number) <= MAX_VISIBILITY_DELAY_MS)
  ) {
    return `visibility_delay_ms must be an integer in 0..${MAX_VISIBILITY_DELAY_MS}`;
  }
  return null;
}

export class IssueTracker {
  enabled = false;
  visibilityDelayMs = 0;
  private items: SandboxIssue[] = [];

  configure(spec: IssuesSpec): IssuesSpec {
    const problem = checkIssuesSpec(spec);
    if (problem) throw new TypeError(problem);
    if (spec.enabled !== undefined) this.enabled = spec.enabled;
    if (spec.visibility_delay_ms !== undefined) this.visibilityDelayMs = spec.visibility_delay_ms;
    return { enabled: this.enabled, visibility_delay_ms: this.visibilityDelayMs };
  }

  /** Whether executes of `slug` go to the tracker. */
  handles(slug: string): boolean {
    return this.enabled && (sameSlug(slug, CREATE_ISSUE) || sameSlug(slug, LIST_ISSUES));
  }

  /** Runs a create or a list; returns the answer's `data`. */
  run(
    slug: string,
    args: Record<string, unknown>,
    call: { user_id: string | null; envelope_id: string | null; log_id: string; now: Date },
  ): unknown {
    const owner = typeof args.owner === "string" ? args.owner : "";
    const repo = typeof args.repo === "string" ? args.repo : "";
    if (sameSlug(slug, CREATE_ISSUE)) {
      const number = 1 +
        this.items.filter((i) => i.user_id === call.user_id && i.owner === owner && i.repo === repo)
          .length;
      const issue: SandboxIssue = {
        number,
        owner,
        repo,
        title: typeof args.title === "string" ? args.title : "",
        body: typeof args.body === "string" ? args.body : null,
        labels: Array.isArray(args.labels) ? args.labels.filter((l) => typeof l === "string") : [],
        state: "open",
        html_url: `https://github.com/${owner}/${repo}/issues/${number}`,
        created_at: call.now.toISOString(),
        visible_at: new Date(call.now.getTime() + this.visibilityDelayMs).toISOString(),
        user_id: call.user_id,
        envelope_id: call.envelope_id,
        log_id: call.log_id,
      };
      this.items.push(issue);
      return publicIssue(issue);
    }
    // Newest first, as GitHub lists by default; open ones unless asked for closed or all.
    const state = args.state === "closed" || args.state === "all" ? args.state : "open";
    const perPage = clampInt(args.per_page, 1, 100, 30);
    const page = clampInt(args.page, 1, Number.MAX_SAFE_INTEGER, 1);
    const seen = this.items
      .filter((i) =>
        i.user_id === call.user_id && i.owner === owner && i.repo === repo &&
        Date.parse(i.visible_at) <= call.now.getTime() &&
        (state === "all" || i.state === state)
      )
      .reverse();
    if (args.direction === "asc") seen.reverse();
    return { issues: seen.slice((page - 1) * perPage, page * perPage).map(publicIssue) };
  }

  /** Every issue created, oldest first, with the sandbox's own fields. */
  all(): SandboxIssue[] {
    return structuredClone(this.items);
  }

  reset(): void {
    this.enabled = false;
    this.visibilityDelayMs = 0;
    this.items = [];
  }
}

/** An issue as GitHub answers it: without the sandbox's bookkeeping. */
function publicIssue(i: SandboxIssue) {
  return {
    number: i.number,
    title: i.title,
    body: i.body,
    labels: i.labels.map((name) => ({ name })),
    state: i.state,
    html_url: i.html_url,
    created_at: i.created_at,
  };
}

function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  return Number.isInteger(v) ? Math.min(Math.max(v as number, min), max) : fallback;
}
