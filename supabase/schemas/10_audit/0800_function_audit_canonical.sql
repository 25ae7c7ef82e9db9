-- Canonical form and hash. The canonical text of a row is its fields in alphabetical order
-- of their names (actor_id, actor_type, category, created_at as UTC epoch microseconds,
-- envelope_id, id, payload, seq, tenant_id), comma-separated: numbers in decimal, text and
-- uuids as SQL literals (quote_literal: quotes and backslashes doubled, NULL unquoted),
-- payload as the literal of its jsonb text (jsonb sorts keys, shorter first, then bytewise,
-- at every level, and prints numbers and strings one way). Neither the session's time
-- zone nor DateStyle nor the inserting client's key order changes a hash; the quoting
-- makes the text unambiguous. The same expression is written out in audit_canonical,
-- audit_hash and the chain trigger (a function call per row costs the trigger a third of
-- its throughput); supabase/tests/20_audit.test.sql checks that they agree.
create function internal.audit_canonical(p_row public.audit_log) returns text
language sql
stable
set search_path = ''
as $$
  select pg_catalog.concat_ws(',',
    pg_catalog.quote_nullable(p_row.actor_id), pg_catalog.quote_literal(p_row.actor_type),
    pg_catalog.quote_literal(p_row.category),
    (extract(epoch from p_row.created_at) * 1000000)::bigint,
    pg_catalog.quote_nullable(p_row.envelope_id), p_row.id,
    pg_catalog.quote_literal(p_row.payload::text), p_row.seq, pg_catalog.quote_nullable(p_row.tenant_id))
$$;
comment on function internal.audit_canonical(public.audit_log) is
  'Canonical text of an audit_log row for its hash: actor_id, actor_type, category, created_at (UTC epoch microseconds), envelope_id, id, payload (jsonb text), seq, tenant_id; comma-separated, text as SQL literals.';
revoke all on function internal.audit_canonical(public.audit_log) from public;
