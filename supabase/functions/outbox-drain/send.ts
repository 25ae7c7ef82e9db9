// Sending a batch's allowed envelopes to Composio with bounded concurrency, each call's
// answer turned into its settlement (settlement.ts). A call never starts with less lease
// left than the margin, and its HTTP timeout stays below the lease. A 401/403 on our own key
// halts the sending; an exception of our own code halts it too and is handed back to fail
// the run: the envelope is released when its request had not left, and a write whose
// request had left is parked unknown_outcome (it may have happened), never run again.
import type { ComposioConfig } from "../_shared/composio.ts";
import {
  type ExecuteOutcome,
  type ExecuteRequest,
  ExecutorError,
} from "../_shared/composio_execute.ts";
import type { Sql } from "../_shared/db.ts";
import type { Claimed } from "./claim.ts";
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
  /** Why sending stopped early (our key refused, our own bug), if it did. */
  halt: string | null;
  /** The exception of our own code, to fail the run with. */
  bug: unknown;
}

export async function sendBatch(sql: Sql, envs: Claimed[], opts: SendOptions): Promise<Sent> {
  const out: Sent = { settled: [], halt: null, bug: null };
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
            connectedAccountId: env.account_external_id ?? env.connected_account_id,
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
