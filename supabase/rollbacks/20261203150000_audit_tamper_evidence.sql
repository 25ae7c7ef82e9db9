-- Reverts 20261203150000_audit_tamper_evidence.sql. The audit_log rows it or the trigger-DDL
-- event triggers wrote (anchor rows, auth_policy rows) stay: audit_log is append-only.
-- postgres becomes a member of audit_retention again, as before.
grant audit_retention to postgres;

drop event trigger audit_trigger_drop;
drop event trigger audit_trigger_ddl;
drop function internal.audit_trigger_ddl();

select jobs.unschedule('audit-export-tick');
delete from jobs.registry where slug = 'audit-export';

drop function internal.audit_export_snapshot(interval, boolean);
drop table internal.audit_exports;
drop table internal.audit_export_marks;

create or replace function internal.audit_log_immutable() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and current_user = 'audit_retention' then
    return old;
  end if;
  raise exception 'audit_log is append-only: % is not allowed', tg_op
    using errcode = 'PT405',
          hint = 'Old rows leave only through internal.audit_log_retain(keep interval).';
end
$$;
comment on function internal.audit_log_immutable() is
  'BEFORE UPDATE/DELETE (row) and TRUNCATE (statement) on audit_log: rejects them (PT405) for every role; lets DELETE through only when executing as audit_retention.';

create or replace function internal.audit_log_retain(p_keep interval default '90 days')
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

drop function internal.audit_retention_window();
comment on role audit_retention is
  'Owns internal.audit_log_retain: the only role whose DELETE on public.audit_log the immutability trigger lets through. NOLOGIN.';

delete from supabase_migrations.schema_migrations where version = '20261203150000';
