// Sending a batch's allowed envelopes to Composio with bounded concurrency, each call's
// answer turned into its settlement (settlement.ts). A call never starts with less lease
// left than the margin, and its HTTP timeout stays below the lease. A 401/403 on our own key
// halts the sending; an exception of our own code halts it too and is handed back to fail
// the run: the envelope is released when its request had not left, and a write whose
// request had left is parked unknown_outcome (it may have happened), never run again.
//
// Before that, the accounts never checked (plan.ts: verify) are looked up at Composio, one
// call per account of the batch, judged by ownership.ts and the answers recorded in one
// statement (internal.connected_accounts_record_ownership), so the next batch need not ask.
import { callResultOf, type ComposioConfig, ComposioError } from "../_shared/composio.ts";
import type { ComposioAccount } from "../_shared/composio_accounts.ts";
import {
  type ExecuteOutcome,
  type ExecuteRequest,
  ExecutorError,
} from "../_shared/composio_execute.ts";
import type { Sql } from "../_shared/db.ts";
import type { Claimed } from "./claim.ts";
import {
  judgeOwnership,
  type OwnershipAnswer,
  ownershipSettlement,
  type OwnershipVerdict,
} from "./ownership.ts";
import { release, type Settled, settlementOf } from "./settlement.ts";

/** Never start a call with less lease than this left; the HTTP timeout stays below the lease. */
const LEASE_MARGIN_MS = 1_000;

export type Execute = (config: ComposioConfig, req: ExecuteRequest) => Promise<ExecuteOutcome>;

export interface SendOptions {
  composio: ComposioConfig;
  execute: Execute;
  concurrency: number;
  maxAttempts: (env: Claimed) => number;
  random: () => number;
  details: Record<string, unknown>;
}

export interface Sent {
  settled: Settled[];
  /** Every answer, with when it came: its rate-limit headers feed the project's bucket. */
  answers: Array<{ exec: ExecuteOutcome; at: number }>;
  /** Why sending stopped early (our key refused, our own bug), if it did. */
  halt: string | null;
  /** The exception of our own code, to fail the run with. */
  bug: unknown;
}

export async function sendBatch(sql: Sql, envs: Claimed[], opts: SendOptions): Promise<Sent> {
  const out: Sent = { settled: [], answers: [], halt: null, bug: null };
  if (envs.length === 0) return out;
  // Marked before the calls: after a crash, an expired lease of a marked write means it may
  // have been sent (unknown_outcome), of an unmarked one that it was not (retry).
  await sql`select public.outbox_mark_sending(${envs.map((e) => e.id)}::uuid[],
                                              ${envs.map((e) => e.lease_token)}::uuid[])`;
  let next = 0;
  const lane = async () => {
    while (next < envs.length) {
      const env = envs[next++];
      const leaseLeft = env.lease_expires_at.getTime() - Date.now() - LEASE_MARGIN_MS;
      if (out.halt !== null || leaseLeft < LEASE_MARGIN_MS) {
        out.settled.push(
          release(
            env,
            out.halt !== null ? "drain halted" : "lease too short to send",
            opts.details,
          ),
        );
        continue;
      }
      let exec: ExecuteOutcome;
      try {
        exec = await opts.execute(
          { ...opts.composio, timeoutMs: Math.min(opts.composio.timeoutMs, leaseLeft) },
          {
            slug: env.tool_slug,
            arguments: env.arguments,
            envelopeId: env.id,
            // The account's own id only: the envelope's text may name the row, and only an
            // id the ownership check passed is ever sent.
            connectedAccountId: env.account_external_id,
            userId: env.tenant_id,
            version: env.version,
          },
        );
      } catch (err) {
        out.bug ??= err;
        out.halt ??= "our own code failed during an execution";
        out.settled.push(settledByBug(env, err, opts.details));
        continue;
      }
      out.answers.push({ exec, at: Date.now() });
      const s = settlementOf(env, exec, opts.maxAttempts(env), opts);
      out.settled.push(s);
      if (s.halt) out.halt ??= s.halt;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, envs.length) }, lane));
  return out;
}

function settledByBug(env: Claimed, err: unknown, details: Record<string, unknown>): Settled {
  const reason = `our own code failed: ${(err as Error)?.message ?? String(err)}`;
  if (err instanceof ExecutorError && err.sent && !env.read_only) {
    return {
      settlement: {
        op: "park",
        id: env.id,
        token: env.lease_token,
        status: "unknown_outcome",
        reason,
        details,
      },
      counter: "unknown_outcome",
    };
  }
  return release(env, reason, details);
}

export type GetAccount = (config: ComposioConfig, id: string) => Promise<ComposioAccount>;

export interface VerifyOptions {
  composio: ComposioConfig;
  getAccount: GetAccount;
  concurrency: number;
  now: Date;
  details: Record<string, unknown>;
}

export interface Verified {
  /** Envelopes whose account is the tenant's: send them. */
  send: Claimed[];
  /** The others: not owned (DLQ), not checked (parked), or released on a halt. */
  settled: Settled[];
  halt: string | null;
}

/**
 * Checks the owner of each unchecked account of `envs` with Composio (one call per account),
 * records the answers, and says which envelopes may be sent. An exception of our own code
 * fails the run (the leases expire; nothing was sent).
 */
export async function verifyOwnership(
  sql: Sql,
  envs: Claimed[],
  opts: VerifyOptions,
): Promise<Verified> {
  const out: Verified = { send: [], settled: [], halt: null };
  if (envs.length === 0) return out;
  const byAccount = new Map<string, Claimed[]>();
  for (const env of envs) {
    const key = `${env.account_id}\n${env.account_external_id}`;
    byAccount.set(key, [...(byAccount.get(key) ?? []), env]);
  }
  const groups = [...byAccount.values()];
  const verdicts = new Map<Claimed[], OwnershipVerdict>();
  let next = 0;
  const lane = async () => {
    while (next < groups.length) {
      const group = groups[next++];
      const first = group[0];
      const leaseLeft = Math.min(...group.map((e) => e.lease_expires_at.getTime())) - Date.now() -
        LEASE_MARGIN_MS;
      const answer: OwnershipAnswer = leaseLeft < LEASE_MARGIN_MS
        ? { kind: "failed", call: { kind: "lease_lost" } }
        : await askOwner(
          { ...opts.composio, timeoutMs: Math.min(opts.composio.timeoutMs, leaseLeft) },
          opts.getAccount,
          first.account_external_id!,
        );
      verdicts.set(group, judgeOwnership(first.tenant_id, answer));
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, groups.length) }, lane));

  const checks = [...verdicts].flatMap(([group, v]) =>
    v.kind === "owned" || v.kind === "not_owned"
      ? [{
        account_id: group[0].account_id,
        external_account_id: group[0].account_external_id,
        owned: v.kind === "owned",
      }]
      : []
  );
  if (checks.length > 0) {
    await sql`select internal.connected_accounts_record_ownership(${sql.json(checks)})`;
  }
  const halted = [...verdicts.values()].find((v) => v.kind === "halt");
  for (const [group, verdict] of verdicts) {
    for (const env of group) {
      const s = halted
        ? ownershipSettlement(env, halted, opts.now, opts.details)
        : ownershipSettlement(env, verdict, opts.now, opts.details);
      if (s === null) out.send.push(env);
      else out.settled.push(s);
    }
  }
  out.halt = halted?.kind === "halt" ? halted.reason : null;
  return out;
}

/** Composio's answer for one account id, as facts (a failure is an answer too). */
async function askOwner(
  config: ComposioConfig,
  getAccount: GetAccount,
  externalId: string,
): Promise<OwnershipAnswer> {
  try {
    const account = await getAccount(config, externalId);
    return { kind: "account", userId: account.userId };
  } catch (err) {
    if (!(err instanceof ComposioError)) throw err;
    return { kind: "failed", call: callResultOf(err) };
  }
}
