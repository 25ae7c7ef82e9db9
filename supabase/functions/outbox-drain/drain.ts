// The drain loop: claim a batch under leases (claim.ts), plan each envelope with the
// tenant's guardrails and the tool's input schema (plan.ts), check the owner of accounts
// never checked and send the allowed ones to Composio (send.ts) and settle the whole batch
// in one statement (settlement.ts), until the time budget or the limit runs out. No transaction is held across an HTTP call: the leases
// are the exclusion.
//
// A 401/403 on our own Composio key halts the drain: nothing more is sent, the envelopes
// claimed but not sent are released (no attempt consumed), and the run fails with an alert.
import { z } from "zod";
import { type ComposioConfig, composioConfig } from "../_shared/composio.ts";
import { getConnectedAccount } from "../_shared/composio_accounts.ts";
import { executeTool } from "../_shared/composio_execute.ts";
import type { JobContext, JobResult } from "../_shared/job.ts";
import { jobBodyFields } from "../_shared/job.ts";
import type { GuardrailConfig } from "../_shared/guardrail_config.ts";
import {
  artifactThreshold,
  flushPendingArtifacts,
  offloadLargeOutputs,
  storageUpload,
  type Upload,
} from "./artifacts.ts";
import { claimBatch, type Claimed } from "./claim.ts";
import { planEnvelope, rulesByTenant, schemasToCompile } from "./plan.ts";
import { reconcileUnknownOutcomes } from "./reconcile.ts";
import { type Execute, type GetAccount, sendBatch, verifyOwnership } from "./send.ts";
import { observe, recordObservation, splitByGrants, takeTokens } from "./flow_control.ts";
import { applySettlements, release, type Settled } from "./settlement.ts";

export const slug = "outbox-drain";
export const defaultBudgetMs = 45_000;
export const defaultBatchSize = 100;
export const defaultConcurrency = 8;
export const defaultLeaseMs = 60_000;
/**
 * Envelopes per invocation when the body names no limit; what remains is chained (jobs.invoke),
 * each invocation a new request with a CPU limit of its own. An envelope costs ~150–200 µs of
 * main-thread CPU (bench/RESULTS.md), so a drain running to its 45 s budget would pass the
 * hosted 2 s CPU limit after ~10,000 and be killed mid-batch, leaving its writes in flight
 * unknown_outcome; 5,000 stay near 1 s.
 */
export const defaultLimit = 5_000;

export const drainBody = z.strictObject({
  ...jobBodyFields,
  /** Envelopes per claim. */
  batch_size: z.number().int().min(1).max(1_000).optional(),
  /** Execute calls in flight at once within a batch. */
  concurrency: z.number().int().min(1).max(64).optional(),
  /** Lease per claimed envelope; the HTTP timeout stays below it. */
  lease_ms: z.number().int().min(1_000).max(600_000).optional(),
  /** Who asked: the schedule, the enqueue kick, or a person. Informational. */
  trigger: z.enum(["cron", "enqueue", "manual"]).optional(),
});
export type DrainBody = z.infer<typeof drainBody>;

export interface DrainDeps {
  composio?: ComposioConfig;
  execute?: Execute;
  getAccount?: GetAccount;
  /** Stores an artifact (default: Storage's REST API with the service key). */
  upload?: Upload;
  /** Outputs above it become artifacts (default: artifactThreshold()). */
  artifactThreshold?: number;
  now?: () => Date;
  random?: () => number;
}

export class DrainHalted extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrainHalted";
  }
}

/** The job: drains until out of time, out of limit, or out of due envelopes. */
export async function runDrain(
  ctx: JobContext<DrainBody>,
  deps: DrainDeps = {},
): Promise<JobResult> {
  const { body, sql } = ctx;
  const batchSize = body.batch_size ?? defaultBatchSize;
  const leaseMs = body.lease_ms ?? defaultLeaseMs;
  const limit = body.limit ?? defaultLimit;
  const worker = `${slug}/${ctx.runId}`;
  const composio = deps.composio ?? composioConfig();
  let storage: Upload | null = null;
  const upload: Upload = deps.upload ?? ((o, t) => (storage ??= storageUpload())(o, t));
  const threshold = deps.artifactThreshold ?? artifactThreshold();
  // Envelopes, plus what artifact uploads cost (artifacts.ts): both count toward the limit.
  let processed = 0;
  let stoppedEarly = false;

  if (!body.dry_run) {
    // First the artifacts earlier drains could not upload: their tools ran long ago.
    await flushPendingArtifacts(sql, {
      tenantId: body.tenant_id ?? null,
      upload,
      budget: {
        outOfTime: ctx.outOfTime,
        left: () => limit - processed,
        charge: (n) => processed += n,
      },
      count: ctx.count,
      random: deps.random ?? Math.random,
      log: ctx.log,
    });
    // Then the unknown outcomes whose tools declare a read-back (reconcile.ts).
    await reconcileUnknownOutcomes({
      sql,
      worker,
      tenantId: body.tenant_id ?? null,
      composio,
      execute: deps.execute ?? executeTool,
      concurrency: body.concurrency ?? defaultConcurrency,
      budget: {
        outOfTime: ctx.outOfTime,
        left: () => limit - processed,
        charge: (n) => processed += n,
      },
      count: ctx.count,
      random: deps.random ?? Math.random,
      log: ctx.log,
    });
  }

  for (;;) {
    if (ctx.outOfTime() || processed >= limit) {
      stoppedEarly = true;
      break;
    }
    const want = Math.min(batchSize, limit - processed);
    const batch = await claimBatch(sql, {
      worker,
      limit: want,
      leaseMs,
      tenantId: body.tenant_id ?? null,
    });
    if (batch.length === 0) break;
    ctx.count("claimed", batch.length);
    processed += batch.length;
    const { halted, cost } = await processBatch(ctx, batch, {
      composio,
      deps,
      worker,
      upload,
      threshold,
    });
    processed += cost;
    if (halted) {
      ctx.log.error("outbox_drain_halted", { alert: true, reason: halted, worker });
      ctx.count("halted");
      throw new DrainHalted(halted);
    }
    if (body.dry_run) {
      stoppedEarly = true;
      break;
    }
  }

  let remaining = false;
  if (stoppedEarly && !body.dry_run) {
    const [row] = await sql`
      select exists (select 1 from public.outbox
                      where internal.outbox_due(status, next_run_at)
                        and (${body.tenant_id ?? null}::uuid is null
                             or tenant_id = ${body.tenant_id ?? null}::uuid)) as due`;
    remaining = Boolean(row?.due);
  }
  return { remaining };
}

/**
 * Plans, sends and settles one claimed batch; returns the halt reason, if any, and what its
 * artifacts cost toward the limit.
 */
async function processBatch(
  ctx: JobContext<DrainBody>,
  batch: Claimed[],
  { composio, deps, worker, upload, threshold }: {
    composio: ComposioConfig;
    deps: DrainDeps;
    worker: string;
    upload: Upload;
    threshold: number;
  },
): Promise<{ halted: string | null; cost: number }> {
  const { sql, body } = ctx;
  const now = deps.now?.() ?? new Date();
  const details = { worker };

  const rules = rulesByTenant(batch);
  for (const [tenant, r] of rules) {
    // One alert per tenant and batch; its envelopes are parked, so the next pass skips them.
    if (r instanceof Error) {
      ctx.log.error("outbox_guardrails_unusable", {
        alert: true,
        tenant_id: tenant,
        error: r.message,
      });
    }
  }
  const schemas = await schemasToCompile(sql, batch);

  const settled: Settled[] = [];
  const settle = (one: Settled) => {
    settled.push(one);
    ctx.count(one.counter);
  };
  const toSend: Claimed[] = [];
  const toVerify: Claimed[] = [];
  for (const env of batch) {
    const p = planEnvelope(
      env,
      rules.get(env.tenant_id)!,
      now,
      (k) => schemas.get(k) ?? {},
      details,
    );
    if (p.kind === "send") toSend.push(p.env);
    else if (p.kind === "verify") toVerify.push(p.env);
    else if (body.dry_run) {
      // A dry run decides and reports, and changes nothing but the leases it gives back.
      settled.push(release(env, `dry_run: would ${p.settlement.op} (${p.counter})`, details));
      ctx.count(`would_${p.counter}`);
    } else settle(p);
  }

  let halt: string | null = null;
  let bug: unknown = null;
  if (body.dry_run) {
    for (const e of toSend) {
      settled.push(release(e, "dry_run", details));
      ctx.count("would_execute");
    }
    for (const e of toVerify) {
      settled.push(release(e, "dry_run: would check the account's owner", details));
      ctx.count("would_check_account");
    }
  } else {
    const checked = await verifyOwnership(sql, toVerify, {
      composio,
      getAccount: deps.getAccount ?? getConnectedAccount,
      concurrency: body.concurrency ?? defaultConcurrency,
      now,
      details,
    });
    checked.settled.forEach(settle);
    toSend.push(...checked.send);
    halt = checked.halt;
  }
  if (halt !== null) {
    // Our key was refused on the check: nothing is sent, the batch goes back unspent.
    for (const e of toSend) settle(release(e, "drain halted", details));
  } else if (!body.dry_run) {
    // Flow control: what the rate buckets hold back waits, its attempt unspent.
    const { send, held } = splitByGrants(toSend, await takeTokens(sql, toSend), details);
    held.forEach(settle);
    const sent = await sendBatch(sql, send, {
      composio,
      execute: deps.execute ?? executeTool,
      concurrency: body.concurrency ?? defaultConcurrency,
      // Only envelopes with usable rules are sent (planEnvelope settles the others).
      maxAttempts: (env) => (rules.get(env.tenant_id) as GuardrailConfig).maxAttempts[env.risk],
      random: deps.random ?? Math.random,
      details,
    });
    sent.settled.forEach(settle);
    await recordObservation(sql, observe(sent.answers));
    halt = sent.halt;
    bug = sent.bug;
  }
  let cost = 0;
  try {
    // Before the settle, within the leases: the settle records where each output went.
    const off = await offloadLargeOutputs(settled, new Map(batch.map((e) => [e.id, e])), {
      threshold,
      upload,
      concurrency: body.concurrency ?? defaultConcurrency,
      log: ctx.log,
    });
    cost = off.cost;
    if (off.uploaded) ctx.count("artifacts_uploaded", off.uploaded);
    if (off.pending) ctx.count("artifacts_pending", off.pending);
    if (off.dropped) ctx.count("artifacts_dropped", off.dropped);
  } catch (err) {
    // Our own bug: the batch still settles (an output not yet offloaded stays inline), and
    // the run fails with it.
    bug ??= err;
  }
  const lost = await applySettlements(sql, settled.map((s) => s.settlement));
  if (lost > 0) {
    ctx.count("lease_lost", lost);
    ctx.log.warn("outbox_lease_lost", { count: lost });
  }
  if (bug !== null) throw bug;
  return { halted: halt, cost };
}
