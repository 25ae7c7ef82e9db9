// Reconciliation of unknown outcomes, at the start of each drain invocation: envelopes whose
// write tool declares a read-back (internal.tool_readbacks) are leased for one read each
// (public.outbox_reconcile_claim), the declared read runs through the same execute path as
// any tool, with the tenant's Composio user and the account the write ran with, and the
// verdicts (reconcile_policy.ts) settle in one statement (public.outbox_reconcile_settle):
// found → succeeded, absent where the read is authoritative after the settle delay → retry
// (the loop that follows may run it at once), anything else → still unknown_outcome, read
// again later, then left for the operator.
//
// Bounded per invocation (reconcileLimit, and the invocation's time and limit: each read
// counts as one envelope). A 401/403 on our key stops the reads; the rest of the batch is
// recorded unread and the drain's own sends meet the same answer.
import type { ComposioConfig } from "../_shared/composio.ts";
import type { Sql } from "../_shared/db.ts";
import type { Logger } from "../_shared/log.ts";
import { judgeRead, nextReadDelay, planRead, type ReadVerdict } from "./reconcile_policy.ts";
import type { Execute } from "./send.ts";

/** Reads per invocation at most: reconciliation must not crowd out the queue. */
export const reconcileLimit = 20;
const LEASE_MS = 60_000;
/** Never start a read with less lease than this left. */
const LEASE_MARGIN_MS = 1_000;

/** An envelope as outbox_reconcile_claim returns it. */
export interface ReconcileClaimed {
  id: string;
  tenant_id: string;
  tool_slug: string;
  toolkit: string;
  arguments: Record<string, unknown>;
  external_id: string | null;
  attempts: number;
  lease_token: string;
  lease_expires_at: Date;
  reconcile_attempt: number;
  unknown_since: Date;
  settle_deadline: Date;
  past_settle_delay: boolean;
  readback: unknown;
  read_version: string | null;
  read_toolkit: string | null;
  read_read_only: boolean | null;
  account_external_id: string | null;
  account_owned: boolean | null;
}

/** One element of outbox_reconcile_settle's batch. */
type ReconcileResult =
  & { id: string; token: string; details: Record<string, unknown> }
  & (
    | { verdict: "found"; item: unknown }
    | { verdict: "absent"; reason: string }
    | { verdict: "inconclusive"; reason: string; delay_ms: number }
  );

export interface ReconcileOptions {
  sql: Sql;
  worker: string;
  tenantId: string | null;
  composio: ComposioConfig;
  execute: Execute;
  concurrency: number;
  /** The invocation's time and limit: every read is charged one. */
  budget: { outOfTime(): boolean; left(): number; charge(n: number): void };
  count: (name: string, n?: number) => void;
  random: () => number;
  log: Logger;
}

/** Reads back one batch of unknown outcomes and settles what the reads show. */
export async function reconcileUnknownOutcomes(opts: ReconcileOptions): Promise<void> {
  const want = Math.min(reconcileLimit, opts.budget.left());
  if (want <= 0 || opts.budget.outOfTime()) return;
  const rows = await opts.sql<ReconcileClaimed[]>`
    select * from public.outbox_reconcile_claim(${opts.worker}, ${want}, ${LEASE_MS},
                                                ${opts.tenantId}::uuid)`;
  if (rows.length === 0) return;
  opts.budget.charge(rows.length);
  opts.count("reconcile_reads", rows.length);

  const results: ReconcileResult[] = [];
  let halted: string | null = null;
  let bug: unknown = null;
  let next = 0;
  const lane = async () => {
    while (next < rows.length) {
      const env = rows[next++];
      const { verdict, readTool, readMs } = await readBack(env, opts, halted);
      if (verdict.kind === "halt") halted ??= verdict.reason;
      if (verdict.kind === "bug") bug ??= verdict.error;
      results.push(resultOf(env, verdict, { worker: opts.worker, readTool, readMs }, opts.random));
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, rows.length) }, lane));

  const settled = await opts.sql<{ verdict: string | null }[]>`
    select verdict from public.outbox_reconcile_settle(${opts.sql.json(results as never)})`;
  const by = new Map<string, number>();
  for (const s of settled) by.set(s.verdict ?? "lost", (by.get(s.verdict ?? "lost") ?? 0) + 1);
  const names: Record<string, string> = {
    found: "reconciled",
    absent: "reconcile_retried",
    inconclusive: "reconcile_inconclusive",
    given_up: "reconcile_given_up",
    lost: "reconcile_lease_lost",
  };
  for (const [verdict, n] of by) opts.count(names[verdict] ?? verdict, n);
  if (halted !== null) {
    opts.log.warn("outbox_reconcile_halted", { reason: halted, worker: opts.worker });
  }
  if (bug !== null) throw bug;
}

type Outcome = ReadVerdict | { kind: "bug"; error: unknown; reason: string };

async function readBack(
  env: ReconcileClaimed,
  opts: ReconcileOptions,
  halted: string | null,
): Promise<{ verdict: Outcome; readTool: string | null; readMs?: number }> {
  const plan = planRead({
    view: { id: env.id, external_id: env.external_id, arguments: env.arguments },
    tenantId: env.tenant_id,
    toolkit: env.toolkit,
    readback: env.readback,
    readVersion: env.read_version,
    readToolkit: env.read_toolkit,
    readReadOnly: env.read_read_only,
    accountExternalId: env.account_external_id,
    accountOwned: env.account_owned,
  });
  if (plan.kind === "skip") {
    return { verdict: { kind: "inconclusive", reason: plan.reason }, readTool: null };
  }
  const readTool = plan.request.slug;
  if (halted !== null) {
    return { verdict: { kind: "inconclusive", reason: `not read: ${halted}` }, readTool };
  }
  const leaseLeft = env.lease_expires_at.getTime() - Date.now() - LEASE_MARGIN_MS;
  if (opts.budget.outOfTime() || leaseLeft < LEASE_MARGIN_MS) {
    return {
      verdict: { kind: "inconclusive", reason: "not read: the drain ran out of time" },
      readTool,
    };
  }
  try {
    const exec = await opts.execute(
      { ...opts.composio, timeoutMs: Math.min(opts.composio.timeoutMs, leaseLeft) },
      { ...plan.request, envelopeId: env.id },
    );
    return {
      verdict: judgeRead(plan.decl, plan.value, exec, env.past_settle_delay),
      readTool,
      readMs: Math.round(exec.durationMs),
    };
  } catch (err) {
    const reason = `our own code failed during the read: ${(err as Error)?.message ?? err}`;
    // A read has no effect to fear; the run fails with the bug once the batch is settled.
    return { verdict: { kind: "bug", error: err, reason }, readTool };
  }
}

function resultOf(
  env: ReconcileClaimed,
  verdict: Outcome,
  d: { worker: string; readTool: string | null; readMs?: number },
  random: () => number,
): ReconcileResult {
  const details: Record<string, unknown> = { worker: d.worker };
  if (d.readTool !== null) details.read_tool = d.readTool;
  if (d.readMs !== undefined) details.read_ms = d.readMs;
  const base = { id: env.id, token: env.lease_token, details };
  switch (verdict.kind) {
    case "found":
      return { ...base, verdict: "found", item: verdict.item ?? null };
    case "absent":
      return { ...base, verdict: "absent", reason: verdict.reason };
    default:
      return {
        ...base,
        verdict: "inconclusive",
        reason: verdict.reason,
        delay_ms: nextReadDelay(
          env.reconcile_attempt,
          env.settle_deadline.getTime() - Date.now(),
          random,
        ),
      };
  }
}
