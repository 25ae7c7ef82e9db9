// An audit_log row's hash, recomputed outside the database: the verifier must not trust
// internal.audit_hash or internal.audit_log_verify, which the database owner can replace.
// Same text as internal.audit_canonical (supabase/schemas/10_audit/0800_function_audit_canonical.sql):
// actor_id, actor_type, category, created_at (epoch microseconds), envelope_id, id, payload
// (its jsonb text), seq, tenant_id, comma-separated, text as SQL literals; hash = sha256 hex
// of prev_hash || that text. audit_export_test.ts checks it against the database.
import { createHash } from "node:crypto";

/** The row as the verifier reads it: every value as the text Postgres prints. */
export interface AuditRowText {
  tenant_id: string | null;
  seq: string;
  id: string;
  actor_id: string | null;
  actor_type: string;
  category: string;
  /** (extract(epoch from created_at) * 1000000)::bigint */
  created_us: string;
  envelope_id: string | null;
  payload: string;
  prev_hash: string;
  hash: string;
}

/** Postgres' quote_literal: quotes doubled; with a backslash, E'' and backslashes doubled. */
export function quoteLiteral(s: string): string {
  const body = s.replaceAll("'", "''");
  return s.includes("\\") ? `E'${body.replaceAll("\\", "\\\\")}'` : `'${body}'`;
}

/** Postgres' quote_nullable: NULL unquoted. */
export function quoteNullable(s: string | null): string {
  return s === null ? "NULL" : quoteLiteral(s);
}

export function canonicalRow(r: AuditRowText): string {
  return [
    quoteNullable(r.actor_id),
    quoteLiteral(r.actor_type),
    quoteLiteral(r.category),
    r.created_us,
    quoteNullable(r.envelope_id),
    r.id,
    quoteLiteral(r.payload),
    r.seq,
    quoteNullable(r.tenant_id),
  ].join(",");
}

/** sha256 hex of prev_hash || canonical text: the hash the row must carry. */
export function rowHash(r: AuditRowText): string {
  return createHash("sha256").update(r.prev_hash + canonicalRow(r), "utf8").digest("hex");
}
