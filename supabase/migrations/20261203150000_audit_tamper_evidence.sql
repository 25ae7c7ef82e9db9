-- Tamper evidence that holds against the database owner (docs/audit.md). The owner
-- (postgres) could delete recent rows as a member of audit_retention and move the anchor or
-- the chain head so that audit_log_verify still answered valid, and disabling the
-- immutability trigger left no trace. Now:
-- * retention deletes only rows older than internal.audit_retention_window() (90 days),
--   enforced by the immutability trigger whoever is audit_retention, and each run writes an
--   anchor row into every chain it trims; existing anchors get such a row here;
-- * postgres is no longer a member of audit_retention (it only needed the membership to
--   hand retention over); GRANT ROLE is invisible to event triggers, so the audit exports
--   record the role's members;
-- * ALTER TABLE of audit_log (trigger switches), CREATE/ALTER/DROP TRIGGER on it and changes
--   of the audit functions write auth_policy rows (event triggers, ENABLE ALWAYS);
-- * the audit export (job audit-export, every 5 minutes) sends every chain's head, start and
--   first young row to a sink outside the project; internal.audit_exports records them.

-- Replacing retention needs its owner's privileges; revoked again at the end.
grant audit_retention to postgres;
comment on role audit_retention is
  'Owns internal.audit_log_retain: the only role whose DELETE on public.audit_log the immutability trigger lets through, and only of rows older than internal.audit_retention_window(). NOLOGIN, no members.';

create function internal.audit_retention_window() returns interval
language sql
immutable
parallel safe
set search_path = ''
as $$ select interval '90 days' $$;
comment on function internal.audit_retention_window() is
  'The audit_log retention window: rows younger than this are never deleted, whoever calls (enforced by internal.audit_log_immutable).';
revoke all on function internal.audit_retention_window() from public;
grant execute on function internal.audit_retention_window() to audit_retention;

create or replace function internal.audit_log_immutable() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and current_user = 'audit_retention' then
    if old.created_at < now() - internal.audit_retention_window() then
      return old;
    end if;
    raise exception 'audit_log row % (seq % of its chain) is inside the retention window of %',
      old.id, old.seq, internal.audit_retention_window()
      using errcode = 'PT405',
            hint = 'Retention deletes only rows older than internal.audit_retention_window().';
  end if;
  raise exception 'audit_log is append-only: % is not allowed', tg_op
    using errcode = 'PT405',
          hint = 'Old rows leave only through internal.audit_log_retain(keep interval).';
end
$$;
comment on function internal.audit_log_immutable() is
  'BEFORE UPDATE/DELETE (row) and TRUNCATE (statement) on audit_log: rejects them (PT405) for every role; lets DELETE through only when executing as audit_retention and only of rows older than internal.audit_retention_window().';

-- The default becomes the window itself (NULL); the minimum is the window, not a day.
create or replace function internal.audit_log_retain(p_keep interval default null)
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

-- Chains anchored before this migration get the anchor row retention now writes, so the
-- verifier finds where each legitimately starts. In chain order, as writers lock heads.
insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
select nullif(a.chain_key, '00000000-0000-0000-0000-000000000000'::uuid), 'system',
       'audit_tamper_evidence migration', 'audit_retention',
       jsonb_build_object('anchor_seq', a.seq, 'anchor_hash', a.hash, 'adopted', true,
                          'anchored_at', a.anchored_at)
  from internal.audit_chain_anchors a
 order by a.chain_key;

create table internal.audit_export_marks (
  chain_key uuid primary key,
  seq bigint not null check (seq >= 0)
);
alter table internal.audit_export_marks enable row level security;
comment on table internal.audit_export_marks is
  'Per chain, the seq from which the audit export looks for the first row still inside the retention window (plus the export horizon). Bookkeeping of internal.audit_export_snapshot; RLS on, no policies.';
comment on column internal.audit_export_marks.chain_key is 'As internal.audit_chain_heads.chain_key.';
comment on column internal.audit_export_marks.seq is
  'First seq the next export examines: the last export''s young row, or the head + 1 when every row was old.';

create table internal.audit_exports (
  seq bigint primary key check (seq > 0),
  name text not null unique,
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
  exported_at timestamptz not null,
  chains integer not null check (chains >= 0),
  bytes integer not null check (bytes >= 0),
  recorded_at timestamptz not null default now()
);
alter table internal.audit_exports enable row level security;
comment on table internal.audit_exports is
  'Audit exports sent to the sink outside the project (supabase/functions/audit-export), one row each. RLS on, no policies: the job connects as postgres.';
comment on column internal.audit_exports.seq is 'The export''s sequence number (1, 2, …), as in its JSON.';
comment on column internal.audit_exports.name is 'Its object name at the sink.';
comment on column internal.audit_exports.hash is 'sha256 of its canonical JSON (without the hash field): what the next export carries as prev_hash.';
comment on column internal.audit_exports.prev_hash is 'The previous export''s hash (64 zeros for the first).';
comment on column internal.audit_exports.exported_at is 'The database time of its snapshot.';
comment on column internal.audit_exports.chains is 'How many chains it holds.';
comment on column internal.audit_exports.bytes is 'Its size in bytes.';
comment on column internal.audit_exports.recorded_at is 'When the sink accepted it.';

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

create function internal.audit_trigger_ddl() returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_log constant oid := pg_catalog.to_regclass('public.audit_log');
  r record;
  a record;
  v_events jsonb := '[]';
  v_triggers jsonb;
begin
  if v_log is null then
    return;
  end if;
  if tg_event = 'sql_drop' then
    select coalesce(jsonb_agg(jsonb_build_object('command', tg_tag,
                                                 'object_type', d.object_type,
                                                 'object', d.object_identity)
                              order by d.object_identity), '[]')
      into v_events
      from pg_catalog.pg_event_trigger_dropped_objects() d
     where (d.object_type = 'trigger' and d.address_names[1:2] = array['public', 'audit_log'])
        or (d.object_type = 'function' and d.object_identity in (
              'internal.audit_log_chain()', 'internal.audit_log_chain_heads()',
              'internal.audit_log_immutable()', 'internal.audit_log_retain(interval)',
              'internal.audit_retention_window()', 'internal.audit_trigger_ddl()'));
  else
    for r in select * from pg_catalog.pg_event_trigger_ddl_commands() loop
      if (r.command_tag = 'ALTER TABLE' and r.objid = v_log)
         or (r.command_tag in ('CREATE TRIGGER', 'ALTER TRIGGER')
             and exists (select 1 from pg_catalog.pg_trigger t
                          where t.oid = r.objid and t.tgrelid = v_log))
         or (r.command_tag in ('CREATE FUNCTION', 'ALTER FUNCTION')
             and (r.objid in (select t.tgfoid from pg_catalog.pg_trigger t where t.tgrelid = v_log)
                  or r.object_identity in ('internal.audit_log_retain(interval)',
                                           'internal.audit_retention_window()',
                                           'internal.audit_trigger_ddl()')))
      then
        v_events := v_events || jsonb_build_object('command', r.command_tag,
                                                   'object_type', r.object_type,
                                                   'object', r.object_identity);
      end if;
    end loop;
  end if;
  if jsonb_array_length(v_events) = 0 then
    return;
  end if;
  select coalesce(jsonb_object_agg(t.tgname, case t.tgenabled when 'A' then 'always'
                                                               when 'O' then 'origin'
                                                               when 'R' then 'replica'
                                                               else 'disabled' end), '{}')
    into v_triggers
    from pg_catalog.pg_trigger t
   where t.tgrelid = v_log and not t.tgisinternal;
  select * into a from internal.audit_actor();
  begin
    insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
    select null, a.actor_type, a.actor_id, 'auth_policy',
           e || jsonb_build_object('audit_log_triggers', v_triggers)
      from jsonb_array_elements(v_events) e;
  exception when not_null_violation then
    raise exception 'audit_log''s chain trigger must stay enabled: the audit row recording % could not be chained', tg_tag
      using errcode = 'PT405',
            hint = 'Change the trigger''s function with CREATE OR REPLACE FUNCTION instead.';
  end;
end
$$;
comment on function internal.audit_trigger_ddl() is
  'Event trigger function: writes an auth_policy audit row (system chain) with audit_log''s trigger states for ALTER TABLE of audit_log, CREATE/ALTER/DROP TRIGGER on it, and CREATE/ALTER/DROP of the audit trigger, retention and retention-window functions. Refuses a statement that leaves the chain trigger unable to chain that row.';
revoke all on function internal.audit_trigger_ddl() from public;

create event trigger audit_trigger_ddl on ddl_command_end
  when tag in ('ALTER TABLE', 'CREATE TRIGGER', 'ALTER TRIGGER', 'CREATE FUNCTION',
               'ALTER FUNCTION')
  execute function internal.audit_trigger_ddl();
create event trigger audit_trigger_drop on sql_drop
  when tag in ('DROP TRIGGER', 'DROP FUNCTION')
  execute function internal.audit_trigger_ddl();
alter event trigger audit_trigger_ddl enable always;
alter event trigger audit_trigger_drop enable always;
comment on event trigger audit_trigger_ddl is
  'Audits ALTER TABLE of audit_log (trigger switches among them), CREATE/ALTER TRIGGER on it and changes of the audit functions (category auth_policy).';
comment on event trigger audit_trigger_drop is
  'Audits DROP TRIGGER on audit_log and DROP FUNCTION of the audit functions (category auth_policy).';

select jobs.register('audit-export', 30000, 300);
select jobs.schedule('audit-export-tick', '*/5 * * * *', 'audit-export', '{}');

revoke audit_retention from postgres;
