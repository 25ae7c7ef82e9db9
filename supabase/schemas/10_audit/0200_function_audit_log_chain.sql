-- The hash chain per tenant (NULL tenant: one system chain under a fixed key). This BEFORE
-- INSERT row trigger takes the chain's head row in internal.audit_chain_heads FOR UPDATE
-- and assigns the next seq, prev_hash and hash = sha256(prev_hash || canonical row);
-- internal.audit_log_chain_heads moves the head once per statement. Concurrent inserts on
-- one tenant queue on that row lock until the holder commits, so the chain cannot fork.
-- Plain INSERTs of the seed columns work: whatever the inserter put in seq, prev_hash and
-- hash is overwritten.
--
-- SECURITY DEFINER (owner postgres) so that any role allowed to insert (postgres,
-- service_role, the retention role) advances the head, while the head table stays closed
-- to everyone else.
--
-- The row trigger locks the head but does not write it: the statement trigger moves each
-- head once per statement, to the newest row the statement added. Rows of the current
-- statement are thus newer than their head, and the row trigger takes the newest of the
-- two. (Writing the head for every row would leave one row version per insert that the
-- transaction itself must step over: a 100-row insert on one tenant got 5× slower.)
--
-- A transaction that inserts audit rows for several tenants takes their chain heads in
-- the order it inserts: insert multi-tenant batches in tenant order to avoid deadlocks.
--
-- The hash is internal.audit_hash(new), written out: a function call per row costs the
-- trigger a third of its throughput (see internal.audit_canonical for the canonical text).
create function internal.audit_log_chain() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_key constant uuid := coalesce(new.tenant_id, '00000000-0000-0000-0000-000000000000');
  v_seq bigint;
  v_prev text;
begin
  -- The head, locked, and the newest row this statement already chained after it (the
  -- head moves when the statement ends): one query.
  if new.tenant_id is null then
    select coalesce(l.seq, h.seq), coalesce(l.hash, h.hash) into v_seq, v_prev
      from internal.audit_chain_heads h
      left join lateral (select a.seq, a.hash from public.audit_log a
                          where a.tenant_id is null and a.seq > h.seq
                          order by a.seq desc limit 1) l on true
     where h.chain_key = v_key
       for update of h;
  else
    select coalesce(l.seq, h.seq), coalesce(l.hash, h.hash) into v_seq, v_prev
      from internal.audit_chain_heads h
      left join lateral (select a.seq, a.hash from public.audit_log a
                          where a.tenant_id = new.tenant_id and a.seq > h.seq
                          order by a.seq desc limit 1) l on true
     where h.chain_key = v_key
       for update of h;
  end if;
  if not found then
    -- A new chain: its head starts at 0 (a concurrent first insert may win the race).
    insert into internal.audit_chain_heads (chain_key, seq, hash)
    values (v_key, 0, repeat('0', 64))
    on conflict (chain_key) do nothing;
    select h.seq, h.hash into v_seq, v_prev
      from internal.audit_chain_heads h where h.chain_key = v_key for update;
  end if;
  new.seq := v_seq + 1;
  new.prev_hash := v_prev;
  -- = internal.audit_hash(new), written out (see above).
  new.hash := pg_catalog.encode(extensions.digest(new.prev_hash || pg_catalog.concat_ws(',',
    pg_catalog.quote_nullable(new.actor_id), pg_catalog.quote_literal(new.actor_type),
    pg_catalog.quote_literal(new.category),
    (extract(epoch from new.created_at) * 1000000)::bigint,
    pg_catalog.quote_nullable(new.envelope_id), new.id,
    pg_catalog.quote_literal(new.payload::text), new.seq, pg_catalog.quote_nullable(new.tenant_id)), 'sha256'), 'hex');
  return new;
end
$$;
comment on function internal.audit_log_chain() is
  'BEFORE INSERT row trigger on audit_log: takes the chain head FOR UPDATE, sets seq, prev_hash and hash after the newest row of the chain. Whatever the inserter put in those columns is overwritten.';
revoke all on function internal.audit_log_chain() from public;
