-- Verification: one statement (one snapshot, so a concurrent insert is seen with its
-- head or not at all).
create function internal.audit_log_verify(p_tenant_id uuid)
returns table (valid boolean, rows_checked bigint, first_bad_id bigint, first_bad_seq bigint,
               problem text)
language sql
stable
set search_path = ''
as $$
  with k as (
    select coalesce(p_tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) as chain_key
  ),
  start as (
    select coalesce(a.seq, 0) as seq, coalesce(a.hash, repeat('0', 64)) as hash
      from k left join internal.audit_chain_anchors a on a.chain_key = k.chain_key
  ),
  head as (
    select coalesce(h.seq, 0) as seq, coalesce(h.hash, repeat('0', 64)) as hash
      from k left join internal.audit_chain_heads h on h.chain_key = k.chain_key
  ),
  r as (
    select l.id, l.seq, l.prev_hash, l.hash, internal.audit_hash(l) as recomputed,
           lag(l.seq) over w as lag_seq, lag(l.hash) over w as lag_hash
      from public.audit_log l
     where l.tenant_id is not distinct from p_tenant_id
    window w as (order by l.seq)
  ),
  bad as (
    select r.id, r.seq,
           case
             when r.seq <> coalesce(r.lag_seq, s.seq) + 1 then
               format('seq %s follows %s: rows missing', r.seq, coalesce(r.lag_seq, s.seq))
             when r.prev_hash <> coalesce(r.lag_hash, s.hash) then
               'prev_hash does not match the previous row''s hash'
             when r.hash <> r.recomputed then 'hash does not match the row''s content'
           end as problem
      from r cross join start s
  ),
  first_bad as (
    select * from bad where problem is not null order by seq limit 1
  ),
  tail as (
    select max(r.seq) as seq, (array_agg(r.hash order by r.seq desc))[1] as hash,
           count(*) as n
      from r
  )
  select fb.id is null and t_ok.ok, t.n, fb.id, fb.seq,
         coalesce(fb.problem, case when not t_ok.ok then t_ok.why end)
    from tail t
    cross join head hd
    cross join start s
    cross join lateral (
      select coalesce(t.seq, s.seq) = hd.seq and coalesce(t.hash, s.hash) = hd.hash as ok,
             format('chain head is at seq %s but the newest row is seq %s: rows missing at the end',
                    hd.seq, coalesce(t.seq, s.seq)) as why
    ) t_ok
    left join first_bad fb on true
$$;
comment on function internal.audit_log_verify(uuid) is
  'Walks the tenant''s chain (NULL: the system chain) from its anchor: valid, rows checked, and the first row whose seq, prev_hash or hash does not fit (id, seq, problem); also catches rows missing after the newest.';
revoke all on function internal.audit_log_verify(uuid) from public;
