-- What one audit export holds, read in one statement (one snapshot): per chain its start
-- (the anchor retention left), its head, and its first young row, i.e. the first row by seq
-- created after now() - retention window + p_horizon. Retention may not remove that row
-- until p_horizon after the export, so a chain found starting past it before then was cut
-- illegitimately (docs/audit.md). Plus the guards the verifier checks: audit_log's trigger
-- states, the audit event triggers' states and who can become audit_retention, none of
-- which an event trigger sees change.
--
-- p_advance moves the per-chain marks (internal.audit_export_marks) to the young rows found,
-- so the next export starts there; a dry run passes false.
create function internal.audit_export_snapshot(p_horizon interval, p_advance boolean default true)
returns jsonb
language sql
volatile
set search_path = ''
as $$
  with p as (
    select now() as at, internal.audit_retention_window() as retention_window,
           now() - internal.audit_retention_window() + p_horizon as young_after
     where p_horizon >= interval '0' and p_horizon < internal.audit_retention_window()
  ),
  c as (
    select h.chain_key,
           nullif(h.chain_key, '00000000-0000-0000-0000-000000000000'::uuid) as tenant_id,
           coalesce(a.seq, 0) as start_seq, coalesce(a.hash, repeat('0', 64)) as start_hash,
           h.seq as head_seq, h.hash as head_hash, y.seq as young_seq, y.created_at as young_at
      from p
     cross join internal.audit_chain_heads h
      left join internal.audit_chain_anchors a on a.chain_key = h.chain_key
      left join internal.audit_export_marks m on m.chain_key = h.chain_key
      left join lateral (
        -- Two branches so each uses the (tenant_id, seq) index: tenants, and the system
        -- chain's NULL tenant. Only the branch of this chain's kind returns anything.
        (select l.seq, l.created_at from public.audit_log l
          where h.chain_key <> '00000000-0000-0000-0000-000000000000'::uuid
            and l.tenant_id = h.chain_key
            and l.seq >= greatest(m.seq, coalesce(a.seq, 0) + 1) and l.seq <= h.seq
            and l.created_at >= p.young_after
          order by l.seq limit 1)
        union all
        (select l.seq, l.created_at from public.audit_log l
          where h.chain_key = '00000000-0000-0000-0000-000000000000'::uuid
            and l.tenant_id is null
            and l.seq >= greatest(m.seq, coalesce(a.seq, 0) + 1) and l.seq <= h.seq
            and l.created_at >= p.young_after
          order by l.seq limit 1)
        limit 1
      ) y on true
  ),
  marked as (
    insert into internal.audit_export_marks as m (chain_key, seq)
    select c.chain_key, coalesce(c.young_seq, c.head_seq + 1) from c where p_advance
    on conflict (chain_key) do update set seq = excluded.seq
      where m.seq is distinct from excluded.seq
    returning 1
  )
  select pg_catalog.jsonb_build_object(
    'at', pg_catalog.to_char(p.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'retention_window_seconds', extract(epoch from p.retention_window)::bigint,
    'horizon_seconds', extract(epoch from p_horizon)::bigint,
    'chains', (select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                 'tenant_id', c.tenant_id, 'start_seq', c.start_seq, 'start_hash', c.start_hash,
                 'head_seq', c.head_seq, 'head_hash', c.head_hash, 'young_seq', c.young_seq,
                 'young_at', pg_catalog.to_char(c.young_at at time zone 'UTC',
                                                'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                 order by c.chain_key), '[]') from c),
    'guards', pg_catalog.jsonb_build_object(
      'audit_retention_members',
        (select coalesce(pg_catalog.jsonb_agg(r.rolname::text order by r.rolname), '[]')
           from pg_catalog.pg_roles r
          where not r.rolsuper and r.rolname <> 'audit_retention'
            and pg_catalog.pg_has_role(r.oid, 'audit_retention', 'MEMBER')),
      'audit_log_triggers',
        (select coalesce(pg_catalog.jsonb_object_agg(t.tgname, case t.tgenabled
                   when 'A' then 'always' when 'O' then 'origin' when 'R' then 'replica'
                   else 'disabled' end), '{}')
           from pg_catalog.pg_trigger t
          where t.tgrelid = 'public.audit_log'::regclass and not t.tgisinternal),
      'event_triggers',
        (select coalesce(pg_catalog.jsonb_object_agg(e.evtname, case e.evtenabled
                   when 'A' then 'always' when 'O' then 'origin' when 'R' then 'replica'
                   else 'disabled' end), '{}')
           from pg_catalog.pg_event_trigger e
          where e.evtname like 'audit\_%')),
    'marks_moved', (select count(*) from marked))
  from p
$$;
comment on function internal.audit_export_snapshot(interval, boolean) is
  'One audit export''s content as jsonb: at, retention_window_seconds, horizon_seconds, chains (tenant_id, start_seq/hash, head_seq/hash, young_seq/young_at: the first row created after at - window + p_horizon) and guards (audit_retention_members, audit_log_triggers, event_triggers). NULL when p_horizon is negative or not below the window. Moves internal.audit_export_marks unless p_advance is false.';
revoke all on function internal.audit_export_snapshot(interval, boolean) from public;
