-- Moves each chain head once per statement (see internal.audit_log_chain). SECURITY
-- DEFINER for the same reason: inserters have no rights on internal.audit_chain_heads.
create function internal.audit_log_chain_heads() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update internal.audit_chain_heads h
     set seq = n.seq, hash = n.hash, moved_at = now()
    from (select distinct on (1) coalesce(r.tenant_id, '00000000-0000-0000-0000-000000000000') as chain_key,
                 r.seq, r.hash
            from new_rows r
           order by 1, r.seq desc) n
   where h.chain_key = n.chain_key;
  return null;
end
$$;
comment on function internal.audit_log_chain_heads() is
  'AFTER INSERT statement trigger on audit_log: moves each chain head the statement extended to its newest row (seq, hash).';
revoke all on function internal.audit_log_chain_heads() from public;
