// Flow control of a batch: before sending, each (tenant, toolkit) takes tokens from its
// rate bucket and from the project's Composio bucket, once per batch
// (internal.outbox_rate_take); what is held back is deferred to when a token comes, without
// spending an attempt. After sending, what Composio's answers said about the project's limit
// (X-RateLimit, -Remaining, -Window-Size, a 429's Retry-After) feeds the project's bucket
// (internal.composio_rate_observe), so the next batch, of any drain, takes from the truth.
import type { RateLimit } from "../_shared/composio.ts";
import type { ExecuteOutcome } from "../_shared/composio_execute.ts";
import type { Sql } from "../_shared/db.ts";
import type { Claimed } from "./claim.ts";
import type { Settled } from "./settlement.ts";

export interface Want {
  tenant_id: string;
  toolkit: string;
  n: number;
}

export interface Grant extends Want {
  granted: number;
  /** When a held-back envelope of this pair may go; null when all were granted. */
  retry_at: Date | null;
}

/** The batch's wants per (tenant, toolkit), in the order of their first envelope. */
export function wantsOf(envs: readonly Claimed[]): Want[] {
  const wants = new Map<string, Want>();
  for (const e of envs) {
    const key = `${e.tenant_id}\n${e.toolkit}`;
    const w = wants.get(key);
    if (w) w.n++;
    else wants.set(key, { tenant_id: e.tenant_id, toolkit: e.toolkit, n: 1 });
  }
  return [...wants.values()];
}

/**
 * Which envelopes go: the first `granted` of each pair, in the batch's order (the claim's:
 * priority first); the rest are deferred to the pair's retry_at, their attempt unspent.
 */
export function splitByGrants(
  envs: readonly Claimed[],
  grants: readonly Grant[],
  details: Record<string, unknown>,
): { send: Claimed[]; held: Settled[] } {
  const left = new Map(grants.map((g) => [`${g.tenant_id}\n${g.toolkit}`, g]));
  const used = new Map<string, number>();
  const send: Claimed[] = [];
  const held: Settled[] = [];
  for (const e of envs) {
    const key = `${e.tenant_id}\n${e.toolkit}`;
    const g = left.get(key);
    const n = used.get(key) ?? 0;
    if (g === undefined || n < g.granted) {
      send.push(e);
      used.set(key, n + 1);
      continue;
    }
    const until = g.retry_at ?? new Date(Date.now() + 1_000);
    held.push({
      settlement: {
        op: "park",
        id: e.id,
        token: e.lease_token,
        status: "deferred",
        reason: `throttled: the rate limit of ${e.toolkit} for this tenant or of the project ` +
          `is spent until ${until.toISOString()}`,
        until: until.toISOString(),
        details: { ...details, attempt: e.attempts, throttled: true },
        outcome: "throttled",
      },
      counter: "throttled",
    });
  }
  return { send, held };
}

/** Takes the batch's tokens: one statement for all its pairs. */
export async function takeTokens(sql: Sql, envs: readonly Claimed[]): Promise<Grant[]> {
  const wants = wantsOf(envs);
  if (wants.length === 0) return [];
  return await sql<Grant[]>`
    select tenant_id::text, toolkit, wanted as n, granted, retry_at
      from internal.outbox_rate_take(${sql.json(wants as never)})`;
}

/** What a batch's answers said about the project's limit, for composio_rate_observe. */
export interface RateObservation {
  /** The latest answer's headers (limit, remaining, window), when one carried them. */
  latest: RateLimit | null;
  /** A 429 came back; its Retry-After (the longest), if any said. */
  limited: boolean;
  retryAfterMs: number | null;
}

/** The latest answer that carried the limit wins; any 429 closes the bucket, the longest wait. */
export function observe(
  execs: ReadonlyArray<{ exec: ExecuteOutcome; at: number }>,
): RateObservation {
  let latest: { rl: RateLimit; at: number } | null = null;
  let limited = false;
  let retryAfterMs: number | null = null;
  for (const { exec, at } of execs) {
    const rl = exec.rateLimit;
    if (rl && rl.limit !== null && rl.remaining !== null && rl.windowSeconds !== null) {
      if (latest === null || at >= latest.at) latest = { rl, at };
    }
    if (exec.call.kind === "response" && exec.call.status === 429) {
      limited = true;
      const ra = exec.call.retryAfterMs ?? rl?.retryAfterMs ?? null;
      if (ra !== null) retryAfterMs = Math.max(retryAfterMs ?? 0, ra);
    }
  }
  return { latest: latest?.rl ?? null, limited, retryAfterMs };
}

/** Feeds the project's bucket; nothing to say, no statement. */
export async function recordObservation(sql: Sql, o: RateObservation): Promise<void> {
  if (o.latest === null && !o.limited) return;
  await sql`
    select internal.composio_rate_observe(${o.latest?.limit ?? null}::int,
                                          ${o.latest?.remaining ?? null}::int,
                                          ${o.latest?.windowSeconds ?? null}::int,
                                          ${
    o.retryAfterMs === null ? null : Math.ceil(o.retryAfterMs)
  }::bigint,
                                          ${o.limited})`;
}
