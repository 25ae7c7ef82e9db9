-- Retention: the only way rows leave. SECURITY DEFINER and owned by audit_retention, the
-- role the immutability trigger lets delete, and only rows older than the retention window
-- (see 0100_role_audit_retention.sql, 0400_function_audit_log_immutable.sql).
-- It reaches audit_log and internal.audit_chain_anchors through their policies and grants.
--
-- Each chain it trims gets an anchor row of its own (category audit_retention, in that
-- chain): what was removed and the hash the chain now starts from. The row is hash-chained
-- like any other and reaches the next audit export, so a verifier outside the project sees
-- where the chain legitimately starts; the anchors table alone is the owner's to move.
grant usage on schema internal to audit_retention;
create function internal.audit_log_retain(p_keep interval default null)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_window constant interval := internal.audit_retention_window();
  v_keep constant interval := coalesce(p_keep, v_window);
  v_cutoff constant timestamptz := now() - v_keep;
  v_deleted bigint := 0;
  v_chains integer := 0;
  c record;
  d record;
begin
  if v_keep < v_window then
    raise exception 'p_keep must be at least the retention window (%), got %', v_window, p_keep
      using errcode = '22023';
  end if;
  -- Per chain, delete the longest prefix (by seq) of rows older than the cutoff, and
  -- anchor the chain at the newest deleted row. Rows appended meanwhile have a larger seq.
  -- Chains in key order: the anchor rows lock chain heads in one order, as writers do.
  for c in
    select g.tenant_id,
           coalesce(g.tenant_id, '00000000-0000-0000-0000-000000000000') as chain_key,
           coalesce(g.first_kept - 1, g.last_seq) as upto
      from (select l.tenant_id, min(l.seq) as first_seq, max(l.seq) as last_seq,
                   min(l.seq) filter (where l.created_at >= v_cutoff) as first_kept
              from public.audit_log l
             group by l.tenant_id) g
     where coalesce(g.first_kept - 1, g.last_seq) >= g.first_seq
     order by 2
  loop
    if c.tenant_id is null then
      with gone as (
        delete from public.audit_log l where l.tenant_id is null and l.seq <= c.upto
        returning l.seq, l.hash, l.created_at
      )
      select count(*) as n, min(g.seq) as first_seq, max(g.created_at) as newest,
             (array_agg(g.hash order by g.seq desc))[1] as hash
        into d from gone g;
    else
      with gone as (
        delete from public.audit_log l where l.tenant_id = c.tenant_id and l.seq <= c.upto
        returning l.seq, l.hash, l.created_at
      )
      select count(*) as n, min(g.seq) as first_seq, max(g.created_at) as newest,
             (array_agg(g.hash order by g.seq desc))[1] as hash
        into d from gone g;
    end if;
    insert into internal.audit_chain_anchors as a (chain_key, seq, hash)
    values (c.chain_key, c.upto, d.hash)
    on conflict (chain_key) do update
      set seq = excluded.seq, hash = excluded.hash, anchored_at = now();
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    values (c.tenant_id, 'system', 'audit_log_retain', 'audit_retention',
            jsonb_build_object('anchor_seq', c.upto, 'anchor_hash', d.hash,
                               'deleted', d.n, 'first_deleted_seq', d.first_seq,
                               'newest_deleted_at', d.newest, 'cutoff', v_cutoff,
                               'keep', v_keep::text));
    v_deleted := v_deleted + d.n;
    v_chains := v_chains + 1;
  end loop;
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (null, 'system', 'audit_log_retain', 'audit_retention',
          jsonb_build_object('deleted', v_deleted, 'chains', v_chains,
                             'keep', v_keep::text, 'cutoff', v_cutoff));
  return v_deleted;
end
$$;
comment on function internal.audit_log_retain(interval) is
  'Deletes audit_log rows older than p_keep (default and minimum: internal.audit_retention_window()) as a per-chain prefix, anchors each chain at its newest deleted row and writes an anchor row (category audit_retention: anchor_seq, anchor_hash, deleted, newest_deleted_at) into that chain, then a summary row in the system chain; returns how many rows went. Owned by the NOLOGIN role audit_retention.';
-- A new owner needs CREATE on the schema at the moment of the transfer only.
grant create on schema internal to audit_retention;
alter function internal.audit_log_retain(interval) owner to audit_retention;
revoke create on schema internal from audit_retention;
revoke all on function internal.audit_log_retain(interval) from public;
grant execute on function internal.audit_log_retain(interval) to postgres;
-- The hand-over needed the membership; nothing else does (see 0100_role_audit_retention.sql).
revoke audit_retention from postgres;

-- Daily: rows older than the window leave through the retention function, which anchors
-- each chain and audits itself. cron.schedule with a job name replaces the job of that name.
select cron.schedule('audit-retention', '27 3 * * *', $$select internal.audit_log_retain()$$);
