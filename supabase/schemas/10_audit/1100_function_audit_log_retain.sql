-- Retention: the only way rows leave. SECURITY DEFINER and owned by audit_retention, the
-- role the immutability trigger lets delete (see 0100_role_audit_retention.sql).
-- It reaches audit_log and internal.audit_chain_anchors through their policies and grants.
grant usage on schema internal to audit_retention;
create function internal.audit_log_retain(p_keep interval default '90 days')
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cutoff constant timestamptz := now() - p_keep;
  v_deleted bigint := 0;
  v_chains integer := 0;
  v_hash text;
  c record;
  n bigint;
begin
  if p_keep is null or p_keep < interval '1 day' then
    raise exception 'p_keep must be at least 1 day, got %', p_keep using errcode = '22023';
  end if;
  -- Per chain, delete the longest prefix (by seq) of rows older than the cutoff, and
  -- anchor the chain at the newest deleted row. Rows appended meanwhile have a larger seq.
  for c in
    select g.tenant_id,
           coalesce(g.tenant_id, '00000000-0000-0000-0000-000000000000') as chain_key,
           coalesce(g.first_kept - 1, g.last_seq) as upto
      from (select l.tenant_id, min(l.seq) as first_seq, max(l.seq) as last_seq,
                   min(l.seq) filter (where l.created_at >= v_cutoff) as first_kept
              from public.audit_log l
             group by l.tenant_id) g
     where coalesce(g.first_kept - 1, g.last_seq) >= g.first_seq
  loop
    if c.tenant_id is null then
      select l.hash into v_hash from public.audit_log l
       where l.tenant_id is null and l.seq = c.upto;
      delete from public.audit_log l where l.tenant_id is null and l.seq <= c.upto;
    else
      select l.hash into v_hash from public.audit_log l
       where l.tenant_id = c.tenant_id and l.seq = c.upto;
      delete from public.audit_log l where l.tenant_id = c.tenant_id and l.seq <= c.upto;
    end if;
    get diagnostics n = row_count;
    insert into internal.audit_chain_anchors as a (chain_key, seq, hash)
    values (c.chain_key, c.upto, v_hash)
    on conflict (chain_key) do update
      set seq = excluded.seq, hash = excluded.hash, anchored_at = now();
    v_deleted := v_deleted + n;
    v_chains := v_chains + 1;
  end loop;
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (null, 'system', 'audit_log_retain', 'audit_retention',
          jsonb_build_object('deleted', v_deleted, 'chains', v_chains,
                             'keep', p_keep::text, 'cutoff', v_cutoff));
  return v_deleted;
end
$$;
comment on function internal.audit_log_retain(interval) is
  'Deletes audit_log rows older than p_keep (default 90 days; at least 1 day) as a per-chain prefix, anchors each chain at its newest deleted row so verification still passes, writes an audit_retention row; returns how many rows went. Owned by the NOLOGIN role audit_retention.';
-- A new owner needs CREATE on the schema at the moment of the transfer only.
grant create on schema internal to audit_retention;
alter function internal.audit_log_retain(interval) owner to audit_retention;
revoke create on schema internal from audit_retention;
revoke all on function internal.audit_log_retain(interval) from public;
grant execute on function internal.audit_log_retain(interval) to postgres;

-- Daily: rows older than 90 days leave through the retention function, which anchors each
-- chain and audits itself. cron.schedule with a job name replaces the job of that name.
select cron.schedule('audit-retention', '27 3 * * *', $$select internal.audit_log_retain()$$);
