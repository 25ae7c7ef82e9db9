// Reconciliation's decisions, without I/O: from a write tool's read-back declaration and an
// unknown_outcome envelope, the read to run (or why none may run), and from the read's
// answer, the verdict. reconcile.ts does the claiming, reading and settling.
//
// The one rule everything here serves: a write whose outcome is unknown runs again only when
// a read that is authoritative for its key, made after the settle delay, found nothing
// carrying the envelope's marker. Everything uncertain (a failed or unusable read, several
// matches, a read that is not authoritative, one made too early, a write whose arguments do
// not carry the marker) settles nothing and is read again later, then left for the operator.
import { z } from "zod";
import { backoffCap, type BackoffPolicy } from "../_shared/backoff.ts";
import type { CallResult } from "../_shared/execution_policy.ts";
import { isPinnedVersion } from "../_shared/composio_execute.ts";

const pointer = z.string().regex(/^(\/([^~/]|~[01])*)*$/, "must be a JSON pointer");
/** A reference to a field of the envelope as reconciliation sees it (EnvelopeView). */
const refPattern = /^\/(id|external_id|arguments(\/([^~/]|~[01])*)*)$/;
const envelopeRef = z.strictObject({ $ref: z.string().regex(refPattern) });

/** A row of internal.tool_readbacks as outbox_reconcile_claim returns it (checked on write too). */
export const readbackDeclaration = z.object({
  tool_slug: z.string(),
  read_tool_slug: z.string().min(1),
  read_arguments: z.record(z.string(), z.unknown()),
  match: z.strictObject({
    items: pointer,
    field: pointer,
    value: envelopeRef,
    mode: z.enum(["equals", "contains"]),
  }),
  marker_argument: pointer.min(1).nullable(),
  authoritative: z.boolean(),
  settle_delay_ms: z.number().int().min(0),
  max_attempts: z.number().int().min(1),
}).refine(
  (d) => d.marker_argument !== null || d.match.value.$ref.startsWith("/arguments"),
  { message: "marker_argument is required when match.value is /id or /external_id" },
);
export type ReadbackDeclaration = z.infer<typeof readbackDeclaration>;

/** The envelope as references see it: `{"$ref": "/external_id"}`, `/arguments/owner`. */
export interface EnvelopeView {
  id: string;
  external_id: string | null;
  arguments: Record<string, unknown>;
}

/** Tokens of a JSON pointer (RFC 6901); null when it is not one. */
export function pointerTokens(p: string): string[] | null {
  if (!pointer.safeParse(p).success) return null;
  return p === ""
    ? []
    : p.slice(1).split("/").map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** What a JSON pointer names in `doc`, if anything. */
export function resolvePointer(
  doc: unknown,
  p: string,
): { found: true; value: unknown } | { found: false } {
  const tokens = pointerTokens(p);
  if (tokens === null) return { found: false };
  let at: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(at)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= at.length) return { found: false };
      at = at[Number(t)];
    } else if (at !== null && typeof at === "object" && Object.hasOwn(at, t)) {
      at = (at as Record<string, unknown>)[t];
    } else return { found: false };
  }
  return { found: true, value: at };
}

/**
 * Whether `text` holds `value` as a whole token: not next to a letter, digit, `_`, `-` or
 * `.`, so the marker `k1` is not found inside `k12` or `k1.5`.
 */
export function containsToken(text: string, value: string): boolean {
  if (value === "") return false;
  const word = /[A-Za-z0-9_.-]/;
  for (let i = text.indexOf(value); i >= 0; i = text.indexOf(value, i + 1)) {
    const before = i === 0 ? "" : text[i - 1];
    const after = text[i + value.length] ?? "";
    if (!word.test(before) && !word.test(after)) return true;
  }
  return false;
}

/** Whether an item's field holds the match value, by the declared mode. */
export function fieldMatches(field: unknown, value: string, mode: "equals" | "contains"): boolean {
  if (mode === "contains") return typeof field === "string" && containsToken(field, value);
  return (typeof field === "string" || typeof field === "number") && String(field) === value;
}

type Built = { ok: true; value: unknown } | { ok: false; problem: string };

/** The read's arguments: the template with each `{"$ref": …}` replaced by the envelope's field. */
export function buildReadArguments(
  template: Record<string, unknown>,
  view: EnvelopeView,
): { ok: true; args: Record<string, unknown> } | { ok: false; problem: string } {
  const walk = (v: unknown, at: string): Built => {
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (const [i, x] of v.entries()) {
        const b = walk(x, `${at}/${i}`);
        if (!b.ok) return b;
        out.push(b.value);
      }
      return { ok: true, value: out };
    }
    if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (Object.hasOwn(o, "$ref")) {
        const ref = envelopeRef.safeParse(o);
        if (!ref.success) return { ok: false, problem: `read_arguments${at} is not a reference` };
        const r = resolvePointer(view, ref.data.$ref);
        if (!r.found || r.value === null || r.value === undefined) {
          return {
            ok: false,
            problem: `read_arguments${at} refers to ${ref.data.$ref}, which the envelope lacks`,
          };
        }
        return { ok: true, value: structuredClone(r.value) };
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) {
        const b = walk(x, `${at}/${k.replaceAll("~", "~0").replaceAll("/", "~1")}`);
        if (!b.ok) return b;
        out[k] = b.value;
      }
      return { ok: true, value: out };
    }
    return { ok: true, value: v };
  };
  const built = walk(template, "");
  return built.ok
    ? { ok: true, args: built.value as Record<string, unknown> }
    : { ok: false, problem: built.problem };
}

/** What the claim hands reconciliation for one envelope (outbox_reconcile_claim). */
export interface ReconcileFacts {
  view: EnvelopeView;
  tenantId: string;
  toolkit: string;
  readback: unknown;
  readVersion: string | null;
  readToolkit: string | null;
  readReadOnly: boolean | null;
  accountExternalId: string | null;
  accountOwned: boolean | null;
}

export interface ReadRequest {
  slug: string;
  arguments: Record<string, unknown>;
  version: string;
  connectedAccountId: string | null;
  userId: string;
}

export type ReadPlan =
  | { kind: "read"; decl: ReadbackDeclaration; request: ReadRequest; value: string }
  /** No read may run; the reason is recorded (never an argument's value). */
  | { kind: "skip"; reason: string };

/** The read to run for an envelope, or why there is none. */
export function planRead(f: ReconcileFacts): ReadPlan {
  const parsed = readbackDeclaration.safeParse(f.readback);
  if (!parsed.success) {
    return {
      kind: "skip",
      reason: `the read-back declaration is unusable: ${
        parsed.error.issues.map((i) => `${i.path.join(".") || "declaration"} ${i.message}`)
          .join("; ")
      }`,
    };
  }
  const decl = parsed.data;
  const read = decl.read_tool_slug;
  if (f.readVersion === null) {
    return { kind: "skip", reason: `the read tool ${read} is not in the tenant's catalog` };
  }
  // Reads may be repeated; anything else might act.
  if (f.readReadOnly !== true) {
    return { kind: "skip", reason: `the read tool ${read} is not read_only in the catalog` };
  }
  if (!isPinnedVersion(f.readVersion)) {
    return { kind: "skip", reason: `the read tool ${read} has no pinned version` };
  }
  if (f.readToolkit !== null && f.readToolkit.toLowerCase() !== f.toolkit.toLowerCase()) {
    return {
      kind: "skip",
      reason:
        `the read tool ${read} is of toolkit ${f.readToolkit}, the write's account of ${f.toolkit}`,
    };
  }
  if (f.accountExternalId !== null && f.accountOwned !== true) {
    return { kind: "skip", reason: "the account's owner is not confirmed as the tenant" };
  }
  const ref = decl.match.value.$ref;
  const v = resolvePointer(f.view, ref);
  const value = v.found && (typeof v.value === "string" || typeof v.value === "number")
    ? String(v.value)
    : "";
  if (value === "") return { kind: "skip", reason: `the envelope has no ${ref} to match` };
  if (decl.marker_argument !== null) {
    const carried = resolvePointer(f.view.arguments, decl.marker_argument);
    const ok = carried.found &&
      ((typeof carried.value === "string" && containsToken(carried.value, value)) ||
        (typeof carried.value === "number" && String(carried.value) === value));
    // Without the marker in the write, no item could show it: absence would prove nothing.
    if (!ok) {
      return {
        kind: "skip",
        reason: `the write's argument ${decl.marker_argument} does not carry ${ref}`,
      };
    }
  }
  const args = buildReadArguments(decl.read_arguments, f.view);
  if (!args.ok) return { kind: "skip", reason: args.problem };
  return {
    kind: "read",
    decl,
    value,
    request: {
      slug: read,
      arguments: args.args,
      version: f.readVersion,
      connectedAccountId: f.accountExternalId,
      userId: f.tenantId,
    },
  };
}

/** The read's answer: what executeTool returned. */
export interface ReadAnswer {
  call: CallResult;
  body: unknown;
}

export type ReadVerdict =
  | { kind: "found"; item: unknown }
  | { kind: "absent"; reason: string }
  | { kind: "inconclusive"; reason: string }
  /** Our own Composio key was refused: read nothing more in this drain. */
  | { kind: "halt"; reason: string };

/**
 * Judges a read. `pastSettleDelay` is the claim's: whether the delay had passed before the
 * read started (outbox_reconcile_settle checks it again).
 */
export function judgeRead(
  decl: ReadbackDeclaration,
  value: string,
  answer: ReadAnswer,
  pastSettleDelay: boolean,
): ReadVerdict {
  const call = answer.call;
  if (call.kind !== "response" || call.status >= 300 || call.successful === false) {
    if (call.kind === "response" && (call.status === 401 || call.status === 403)) {
      return { kind: "halt", reason: `Composio rejected our API key (${call.status})` };
    }
    return { kind: "inconclusive", reason: `the read failed: ${describe(call)}` };
  }
  const list = resolvePointer(answer.body, decl.match.items);
  if (!list.found || !Array.isArray(list.value)) {
    return {
      kind: "inconclusive",
      reason: `the read's answer has no list at ${decl.match.items}`,
    };
  }
  const matches = list.value.filter((item) => {
    const f = resolvePointer(item, decl.match.field);
    return f.found && fieldMatches(f.value, value, decl.match.mode);
  });
  if (matches.length === 1) return { kind: "found", item: matches[0] };
  if (matches.length > 1) {
    return {
      kind: "inconclusive",
      reason: `${matches.length} items match: which one the write made is ambiguous`,
    };
  }
  if (!decl.authoritative) {
    return { kind: "inconclusive", reason: "absent, but the read is not authoritative for it" };
  }
  if (!pastSettleDelay) {
    return { kind: "inconclusive", reason: "not visible yet, and the settle delay has not passed" };
  }
  return {
    kind: "absent",
    reason: `the authoritative read ${decl.read_tool_slug} found no item after the settle delay`,
  };
}

function describe(call: CallResult): string {
  switch (call.kind) {
    case "response":
      return call.status < 300 ? "the tool reported failure" : `HTTP ${call.status}`;
    case "network_error":
      return "network error";
    case "invalid_answer":
      return "an unusable answer";
    default:
      return call.kind.replaceAll("_", " ");
  }
}

const READ_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 15 * 60_000 };

/**
 * How long until the next read after `read` (1-based) settled nothing: backoff between half
 * and all of its cap (never zero, so a failing read does not spin), but never past the end
 * of the settle delay, when absence first becomes conclusive.
 */
export function nextReadDelay(read: number, msToDeadline: number, random: () => number): number {
  const cap = backoffCap(read, READ_BACKOFF);
  const r = random();
  const delay = Math.floor(cap / 2 + (cap / 2) * (r >= 0 && r < 1 ? r : 0));
  return msToDeadline > 0 ? Math.min(delay, Math.ceil(msToDeadline)) : delay;
}
