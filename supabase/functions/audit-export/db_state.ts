// What the verifier reads from the database, in one REPEATABLE READ transaction (one
// snapshot): the rows as text, heads and anchors as plain tables, the recorded exports and
// the guards straight from the catalogs. No project function is called: the database owner
// could replace any of them. search_path is pg_catalog alone, so no object the owner made
// can stand in for a built-in.
import type { Sql, Tx } from "../_shared/db.ts";
import type { Guards } from "./export_doc.ts";
import type { AuditRowText } from "./row_hash.ts";
import { type DbState, systemChain } from "./verify.ts";

const pageSize = 5000;
const zeroKey = "00000000-0000-0000-0000-000000000000";
const keyOf = (chainKey: string) => (chainKey === zeroKey ? systemChain : chainKey);

const state = (c: string) =>
  c === "A" ? "always" : c === "O" ? "origin" : c === "R" ? "replica" : "disabled";

export async function readGuards(tx: Sql | Tx): Promise<Guards> {
  const [g] = await tx`
    select
      (select coalesce(pg_catalog.jsonb_agg(r.rolname::text order by r.rolname), '[]')
         from pg_catalog.pg_roles r
        where not r.rolsuper and r.rolname <> 'audit_retention'
          and pg_catalog.pg_has_role(r.oid, 'audit_retention', 'MEMBER')) as members,
      (select coalesce(pg_catalog.jsonb_object_agg(t.tgname, t.tgenabled::text), '{}')
         from pg_catalog.pg_trigger t
        where t.tgrelid = 'public.audit_log'::regclass and not t.tgisinternal) as triggers,
      (select coalesce(pg_catalog.jsonb_object_agg(e.evtname, e.evtenabled::text), '{}')
         from pg_catalog.pg_event_trigger e
        where e.evtname like 'audit\\_%') as events`;
  const map = (o: Record<string, string>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, state(v)]));
  return {
    audit_retention_members: g.members,
    audit_log_triggers: map(g.triggers),
    event_triggers: map(g.events),
  } as Guards;
}

/** The columns of an audit row as the verifier reads them (row_hash.ts AuditRowText). */
export const rowColumns = `l.tenant_id::text as tenant_id, l.seq::text as seq, l.id::text as id,
  l.actor_id, l.actor_type, l.category,
  ((extract(epoch from l.created_at) * 1000000)::bigint)::text as created_us,
  l.envelope_id::text as envelope_id, l.payload::text as payload, l.prev_hash, l.hash`;

async function* rows(tx: Sql | Tx, chains: string[] | null): AsyncIterable<AuditRowText> {
  if (!chains || chains.includes(systemChain)) {
    let after = "0";
    for (;;) {
      const page = await tx.unsafe(
        `select ${rowColumns} from public.audit_log l
          where l.tenant_id is null and l.seq > $1::bigint order by l.seq limit ${pageSize}`,
        [after],
      ) as unknown as AuditRowText[];
      yield* page;
      if (page.length < pageSize) break;
      after = page[page.length - 1].seq;
    }
  }
  const tenants = chains?.filter((c) => c !== systemChain) ?? null;
  if (tenants && tenants.length === 0) return;
  let at = [zeroKey, "-1"];
  for (;;) {
    const page = await tx.unsafe(
      `select ${rowColumns} from public.audit_log l
        where l.tenant_id is not null and (l.tenant_id, l.seq) > ($1::uuid, $2::bigint)
          ${tenants ? "and l.tenant_id = any($3::uuid[])" : ""}
        order by l.tenant_id, l.seq limit ${pageSize}`,
      tenants ? [at[0], at[1], tenants] : at,
    ) as unknown as AuditRowText[];
    yield* page;
    if (page.length < pageSize) break;
    const last = page[page.length - 1];
    at = [last.tenant_id!, last.seq];
  }
}

/** Runs `fn` with the database state, in a snapshot of its own (or in `sql`'s transaction). */
export async function withDbState<T>(sql: Sql | Tx, fn: (db: DbState) => Promise<T>): Promise<T> {
  const run = async (tx: Sql | Tx): Promise<T> => {
    await tx`set local search_path = pg_catalog`;
    const [[now], heads, anchors, recorded, guards] = await Promise.all([
      tx`select ((extract(epoch from now()) * 1000000)::bigint)::text as us`,
      tx`select chain_key::text as k, seq::text as seq, hash from internal.audit_chain_heads`,
      tx`select chain_key::text as k, seq::text as seq, hash from internal.audit_chain_anchors`,
      tx`select seq::text as seq, hash from internal.audit_exports order by seq`,
      readGuards(tx),
    ]);
    const byKey = (list: typeof heads) =>
      new Map(list.map((r) => [keyOf(r.k), { seq: Number(r.seq), hash: r.hash as string }]));
    return await fn({
      nowUs: Number(now.us),
      heads: byKey(heads),
      anchors: byKey(anchors),
      recorded: recorded.map((r) => ({ seq: Number(r.seq), hash: r.hash as string })),
      guards,
      rows: (chains) => rows(tx, chains),
    });
  };
  if ("savepoint" in sql) return await run(sql);
  return await (sql as Sql).begin("isolation level repeatable read read only", run) as T;
}
