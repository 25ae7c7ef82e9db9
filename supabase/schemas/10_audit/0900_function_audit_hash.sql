-- = sha256(prev_hash || internal.audit_canonical(row)), the expression written out (see
-- internal.audit_canonical).
create function internal.audit_hash(p_row public.audit_log) returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  return pg_catalog.encode(extensions.digest(p_row.prev_hash || pg_catalog.concat_ws(',',
    pg_catalog.quote_nullable(p_row.actor_id), pg_catalog.quote_literal(p_row.actor_type),
    pg_catalog.quote_literal(p_row.category),
    (extract(epoch from p_row.created_at) * 1000000)::bigint,
    pg_catalog.quote_nullable(p_row.envelope_id), p_row.id,
    pg_catalog.quote_literal(p_row.payload::text), p_row.seq, pg_catalog.quote_nullable(p_row.tenant_id)), 'sha256'), 'hex');
end
$$;
comment on function internal.audit_hash(public.audit_log) is
  'sha256 hex of prev_hash || audit_canonical(row): the hash the row must carry.';
revoke all on function internal.audit_hash(public.audit_log) from public;
