-- audit_log: hash chain, immutability for every role, tampering named by verification,
-- retention that keeps chains verifiable, audited writes and audited policy DDL. Runs as
-- postgres; everything is rolled back. (Concurrency and the superuser: stack/audit_chain_test.ts.)
begin;
select plan(64);

-- A tenant of our own (no foreign key: any uuid is a chain).
create temporary table t (k text primary key, v uuid);
insert into t values ('x', gen_random_uuid()), ('y', gen_random_uuid());
create function pg_temp.tid(p text) returns uuid language sql as $$ select v from t where k = p $$;

-- --- chain ------------------------------------------------------------------------------
select is(
  array(select tgname || ':' || tgenabled::text from pg_trigger
         where tgrelid = 'public.audit_log'::regclass and not tgisinternal
           and tgfoid in ('internal.audit_log_chain()'::regprocedure,
                          'internal.audit_log_chain_heads()'::regprocedure,
                          'internal.audit_log_immutable()'::regprocedure)
         order by 1),
  array['audit_log_chain:A', 'audit_log_chain_heads:A', 'audit_log_immutable_row:A',
        'audit_log_immutable_truncate:A'],
  'chain and immutability triggers are ENABLE ALWAYS (session_replication_role cannot skip them)');

insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
values (pg_temp.tid('x'), 'job', 'test', 'first', '{"b": 1, "a": [2, 3]}');
-- Whatever the inserter claims for seq and hashes is overwritten.
insert into public.audit_log (tenant_id, actor_type, category, seq, prev_hash, hash)
values (pg_temp.tid('x'), 'job', 'second', 99, 'forged', 'forged');
insert into public.audit_log (tenant_id, actor_type, category)
values (pg_temp.tid('x'), 'user', 'third');

select results_eq(
  $$select seq from public.audit_log where tenant_id = pg_temp.tid('x') order by id$$,
  array[1::bigint, 2, 3], 'seq counts 1, 2, 3 per tenant, whatever the inserter says');
select is(
  (select prev_hash from public.audit_log where tenant_id = pg_temp.tid('x') and seq = 1),
  repeat('0', 64), 'the first row follows 64 zeros');
select is(
  (select count(*)::int from public.audit_log a join public.audit_log b
       on b.tenant_id = a.tenant_id and b.seq = a.seq + 1 and b.prev_hash = a.hash
    where a.tenant_id = pg_temp.tid('x')),
  2, 'each row carries the previous row''s hash');
select is(
  (select count(*)::int from public.audit_log
    where tenant_id = pg_temp.tid('x') and hash = internal.audit_hash(audit_log)
      and hash ~ '^[0-9a-f]{64}$'),
  3, 'hash = sha256(prev_hash || canonical row)');
select is(
  (select hash from internal.audit_chain_heads where chain_key = pg_temp.tid('x')),
  (select hash from public.audit_log where tenant_id = pg_temp.tid('x') and seq = 3),
  'the chain head holds the newest hash');
select is(
  (select hash = encode(extensions.digest(prev_hash || internal.audit_canonical(audit_log), 'sha256'), 'hex')
     from public.audit_log where tenant_id = pg_temp.tid('x') and seq = 1),
  true, 'the hash is the documented sha256 over prev_hash and the canonical text');
select matches(
  (select internal.audit_canonical(audit_log) from public.audit_log
    where tenant_id = pg_temp.tid('x') and seq = 1),
  ',[0-9]{16},', 'created_at enters the hash as epoch microseconds');

insert into public.audit_log (tenant_id, actor_type, category)
values (pg_temp.tid('y'), 'job', 'other_tenant');
select is(
  (select seq from public.audit_log where tenant_id = pg_temp.tid('y')), 1::bigint,
  'another tenant has its own chain');
insert into public.audit_log (tenant_id, actor_type, category) values (null, 'system', 'sys');
select is(
  (select seq from public.audit_log where tenant_id is null order by seq desc limit 1),
  (select seq from internal.audit_chain_heads
    where chain_key = '00000000-0000-0000-0000-000000000000'),
  'system-wide rows (no tenant) chain under the fixed system key');
-- The session's time zone and DateStyle do not change a hash.
set local timezone = 'Pacific/Chatham';
set local datestyle = 'SQL, DMY';
select is(
  (select count(*)::int from public.audit_log
    where tenant_id = pg_temp.tid('x') and hash = internal.audit_hash(audit_log)),
  3, 'hashes recompute the same under another time zone and DateStyle');
insert into public.audit_log (tenant_id, actor_type, category, created_at)
values (pg_temp.tid('x'), 'job', 'tz', '2026-03-01 12:00:00+13:45');
reset timezone;
reset datestyle;
select is(
  (select count(*)::int from public.audit_log
    where tenant_id = pg_temp.tid('x') and hash = internal.audit_hash(audit_log)),
  4, 'a row written under another time zone verifies under UTC');
select results_eq(
  $$select valid, rows_checked, first_bad_id, problem from internal.audit_log_verify(pg_temp.tid('x'))$$,
  $$values (true, 4::bigint, null::bigint, null::text)$$, 'an intact chain verifies');

-- --- immutability for every role --------------------------------------------------------
create function pg_temp.as_role(p_role text, p_sql text) returns text
language plpgsql as $$
declare
  n bigint;
begin
  perform set_config('role', p_role, true);
  perform set_config('request.jwt.claims', json_build_object(
    'sub', '00000000-0000-0000-0000-0000000000a1', 'role', p_role,
    'tenant_id', '00000000-0000-0000-0000-00000000000a', 'tenant_role', 'owner')::text, true);
  execute p_sql;
  get diagnostics n = row_count;
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims', '', true);
  return n || ' rows';
exception when others then
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims', '', true);
  return sqlstate;
end
$$;

select is(pg_temp.as_role('postgres', 'update public.audit_log set payload = ''{}'''),
          'PT405', 'postgres (the owner) cannot UPDATE');
select is(pg_temp.as_role('postgres', 'delete from public.audit_log'),
          'PT405', 'postgres cannot DELETE');
select is(pg_temp.as_role('postgres', 'truncate public.audit_log'),
          'PT405', 'postgres cannot TRUNCATE');
select is(pg_temp.as_role('service_role', 'update public.audit_log set payload = ''{}'''),
          'PT405', 'service_role cannot UPDATE');
select is(pg_temp.as_role('service_role', 'delete from public.audit_log'),
          'PT405', 'service_role cannot DELETE');
select is(pg_temp.as_role('service_role', 'truncate public.audit_log'),
          'PT405', 'service_role cannot TRUNCATE');
select is(pg_temp.as_role('authenticated', 'update public.audit_log set payload = ''{}'''),
          '0 rows', 'an owner (authenticated) updates nothing');
select is(pg_temp.as_role('authenticated', 'delete from public.audit_log'),
          '0 rows', 'an owner (authenticated) deletes nothing');
select is(pg_temp.as_role('authenticated', 'truncate public.audit_log'),
          '42501', 'authenticated may not TRUNCATE');
select is(pg_temp.as_role('anon', 'delete from public.audit_log'),
          '0 rows', 'anon deletes nothing');
select is(
  array(select r from unnest(array['anon', 'authenticated', 'service_role', 'authenticator']) r
         where pg_has_role(r, 'audit_retention', 'member')),
  '{}'::text[], 'no API role (nor authenticator, which PostgREST logs in as) can become audit_retention');
select is(pg_temp.as_role('service_role', 'select internal.audit_log_retain()'),
          '42501', 'service_role cannot run retention');
select is(
  (select prosrc ~* 'current_setting|set_config|session_user'
     from pg_proc where oid = 'internal.audit_log_immutable()'::regprocedure),
  false, 'no setting turns immutability off: the trigger reads none, only the executing role');

-- --- tampering (as the owner, triggers disabled): named by verification -----------------
create temporary table tampered (case_name text, valid boolean, bad_seq bigint, problem text);
create function pg_temp.tamper(p_case text, p_sql text) returns void
language plpgsql as $$
declare
  v record;
begin
  begin
    alter table public.audit_log disable trigger audit_log_immutable_row;
    execute p_sql;
    alter table public.audit_log enable always trigger audit_log_immutable_row;
    select * into v from internal.audit_log_verify(pg_temp.tid('x'));
    raise exception using errcode = 'ZZ999';
  exception when sqlstate 'ZZ999' then null;
  end;
  insert into tampered values (p_case, v.valid, v.first_bad_seq, v.problem);
end
$$;
select pg_temp.tamper('payload', $$update public.audit_log set payload = '{"b": 2}'
                                   where tenant_id = pg_temp.tid('x') and seq = 2$$);
-- Changed and re-hashed so the row fits itself: the next row no longer follows it.
select pg_temp.tamper('rehash', $$update public.audit_log set category = 'forged'
                                  where tenant_id = pg_temp.tid('x') and seq = 2;
                                  update public.audit_log set hash = internal.audit_hash(audit_log)
                                  where tenant_id = pg_temp.tid('x') and seq = 2$$);
select pg_temp.tamper('middle', $$delete from public.audit_log
                                  where tenant_id = pg_temp.tid('x') and seq = 2$$);
select pg_temp.tamper('tail', $$delete from public.audit_log
                                where tenant_id = pg_temp.tid('x') and seq = 4$$);
select pg_temp.tamper('created_at', $$update public.audit_log set created_at = created_at + interval '1 microsecond'
                                      where tenant_id = pg_temp.tid('x') and seq = 3$$);
select results_eq(
  $$select case_name, valid, bad_seq, problem from tampered order by case_name$$,
  $$values ('created_at', false, 3::bigint, 'hash does not match the row''s content'),
           ('middle', false, 3::bigint, 'seq 3 follows 1: rows missing'),
           ('payload', false, 2::bigint, 'hash does not match the row''s content'),
           ('rehash', false, 3::bigint, 'prev_hash does not match the previous row''s hash'),
           ('tail', false, null::bigint,
            'chain head is at seq 4 but the newest row is seq 3: rows missing at the end')$$,
  'verification names the first tampered row (changed, re-hashed, deleted, truncated at the end)');
select is((select valid from internal.audit_log_verify(pg_temp.tid('x'))), true,
          'the untampered chain still verifies');

-- --- retention --------------------------------------------------------------------------
insert into public.audit_log (tenant_id, actor_type, category, created_at)
select pg_temp.tid('y'), 'job', 'old', now() - interval '100 days' from generate_series(1, 3);
insert into public.audit_log (tenant_id, actor_type, category, created_at)
values (pg_temp.tid('y'), 'job', 'recent', now() - interval '10 days'),
       (pg_temp.tid('y'), 'job', 'older_again', now() - interval '200 days');
-- y: seq 1 (now), 2-4 (100 days), 5 (10 days), 6 (200 days). A prefix of old rows goes:
-- seq 1 is recent, so nothing of y goes at 90 days; at 5 days, 1..4 are not all old either.
select cmp_ok(internal.audit_log_retain(), '>=', 0::bigint, 'retention runs as postgres');
select is((select count(*)::int from public.audit_log where tenant_id = pg_temp.tid('y')), 6,
          'a recent row early in the chain keeps everything after it');

-- A chain of old rows only: z.
insert into t values ('z', gen_random_uuid());
insert into public.audit_log (tenant_id, actor_type, category, created_at)
select pg_temp.tid('z'), 'job', 'old_' || i, now() - interval '100 days' from generate_series(1, 3) i;
insert into public.audit_log (tenant_id, actor_type, category, created_at)
values (pg_temp.tid('z'), 'job', 'new', now()),
       (pg_temp.tid('z'), 'job', 'old_again', now() - interval '100 days');
create temporary table before_retention as
select hash from public.audit_log where tenant_id = pg_temp.tid('z') and seq = 3;
select cmp_ok(internal.audit_log_retain(interval '90 days'), '>=', 3::bigint,
              'retention deletes old rows');
select results_eq(
  $$select seq from public.audit_log where tenant_id = pg_temp.tid('z') order by seq$$,
  array[4::bigint, 5, 6],
  'the old prefix of the chain is gone, later rows stay, and retention''s anchor row follows');
select results_eq(
  $$select seq, hash from internal.audit_chain_anchors where chain_key = pg_temp.tid('z')$$,
  $$select 3::bigint, hash from before_retention$$, 'the chain is anchored at the newest deleted row');
select results_eq(
  $$select valid, rows_checked from internal.audit_log_verify(pg_temp.tid('z'))$$,
  $$values (true, 3::bigint)$$, 'the retained chain verifies from its anchor');
select results_eq(
  $$select category, payload ->> 'anchor_seq', payload ->> 'anchor_hash', payload ->> 'deleted',
           payload ->> 'first_deleted_seq'
      from public.audit_log where tenant_id = pg_temp.tid('z') and seq = 6$$,
  $$select 'audit_retention'::text, '3'::text, hash, '3'::text, '1'::text from before_retention$$,
  'the trimmed chain holds an anchor row: what went, and the hash it now starts from');
select is(
  (select payload ->> 'keep' from public.audit_log
    where tenant_id is null and category = 'audit_retention' order by seq desc limit 1),
  '90 days', 'retention writes its own audit row');
select is((select valid from internal.audit_log_verify(null)), true,
          'the system chain (with the retention row) verifies');
insert into public.audit_log (tenant_id, actor_type, category) values (pg_temp.tid('z'), 'job', 'after');
select is((select valid from internal.audit_log_verify(pg_temp.tid('z'))), true,
          'the chain goes on after retention');
select throws_ok($$select internal.audit_log_retain(interval '89 days')$$, '22023', null,
                 'retention keeps at least the retention window');
select is(internal.audit_retention_window(), interval '90 days', 'the retention window is 90 days');
-- Whoever is audit_retention: no row younger than the window leaves.
select is(pg_has_role('postgres', 'audit_retention', 'member'), false,
          'postgres is no longer a member of audit_retention');
grant audit_retention to postgres;
select is(pg_temp.as_role('audit_retention',
            format('delete from public.audit_log where tenant_id = %L and seq = 7', pg_temp.tid('z'))),
          'PT405', 'audit_retention itself cannot delete a row inside the retention window');
select is(pg_temp.as_role('audit_retention',
            format('delete from public.audit_log where tenant_id = %L and seq = 5', pg_temp.tid('z'))),
          '1 rows', 'audit_retention can delete a row older than the window (the chain then shows the gap)');
revoke audit_retention from postgres;
select is(
  (select proowner::regrole::text || ' ' || prosecdef from pg_proc
    where oid = 'internal.audit_log_retain(interval)'::regprocedure),
  'audit_retention true', 'retention is SECURITY DEFINER owned by audit_retention');
select is(
  (select rolcanlogin::text || ' ' || rolsuper from pg_roles where rolname = 'audit_retention'),
  'false false', 'audit_retention is NOLOGIN and not a superuser');

-- --- audited writes ---------------------------------------------------------------------
create function pg_temp.last_change(p_tenant uuid) returns public.audit_log
language sql as $$
  select * from public.audit_log where tenant_id = p_tenant and category = 'config_change'
   order by seq desc limit 1
$$;
insert into public.tenants (id, name) values (pg_temp.tid('x'), 'audited tenant');
select is(
  (select count(*)::int from public.audit_log
    where tenant_id = pg_temp.tid('x') and category = 'config_change'
      and payload @> '{"table": "tenants", "op": "insert"}'
      and payload ->> 'id' = pg_temp.tid('x')::text),
  1, 'inserting a tenant writes a config_change row under that tenant');
select is(
  pg_temp.as_role('authenticated', $$update public.guardrails set trust_threshold = 0.55
                                     where tenant_id = '00000000-0000-0000-0000-00000000000a'$$),
  '1 rows', 'an owner updates the guardrails');
select results_eq(
  $$select actor_type, actor_id, payload from pg_temp.last_change('00000000-0000-0000-0000-00000000000a')$$,
  $$select 'user'::text, '00000000-0000-0000-0000-0000000000a1'::text,
           jsonb_build_object('table', 'guardrails', 'op', 'update', 'id', id::text,
                              'changed_columns', '["trust_threshold"]'::jsonb)
      from public.guardrails where tenant_id = '00000000-0000-0000-0000-00000000000a'$$,
  'the update is audited with the user as actor and the changed column names only');
update public.connected_accounts set status = 'inactive'
 where id = 'a0000000-0009-0000-0000-000000000001';
select is(
  (select array[actor_type, actor_id, payload ->> 'op', payload ->> 'changed_columns']
     from pg_temp.last_change('00000000-0000-0000-0000-00000000000a')),
  array['system', 'postgres', 'update', '["status"]'],
  'without a JWT the actor is the database role');
select is(
  (select count(*)::int from public.audit_log
    where tenant_id = '00000000-0000-0000-0000-00000000000a' and category = 'config_change'
      and exists (select 1 from jsonb_each(payload) e
                   where e.key not in ('table', 'op', 'id', 'changed_columns'))),
  0, 'payloads hold table, op, id and column names only: no values');
delete from public.objectives where id = 'a0000000-0008-0000-0000-000000000001';
select is(
  (select payload from pg_temp.last_change('00000000-0000-0000-0000-00000000000a')),
  '{"table": "objectives", "op": "delete", "id": "a0000000-0008-0000-0000-000000000001", "changed_columns": []}'::jsonb,
  'deletes are audited');
select is(
  (select array_agg(c.relname::text order by c.relname) from pg_trigger g
     join pg_class c on c.oid = g.tgrelid
    where g.tgname = 'audit_change' and g.tgfoid = 'internal.audit_row_change()'::regprocedure),
  array['approvals', 'connected_accounts', 'edits', 'grades', 'guardrails', 'objectives',
        'plans', 'tenant_invitations', 'tenant_members', 'tenants', 'tool_readbacks'],
  'every configuration and decision table is audited');

-- --- policy DDL ---------------------------------------------------------------------------
create temporary table mark as select max(id) as id from public.audit_log;
create function pg_temp.policy_events() returns setof text
language sql as $$
  select (payload ->> 'command') || ' ' || (payload ->> 'object')
         || coalesce(' rls=' || (payload ->> 'row_security'), '')
    from public.audit_log where tenant_id is null and category = 'auth_policy'
     and id > (select coalesce(max(id), 0) from mark)
   order by seq
$$;
create policy audit_test_policy on public.tasks for select to authenticated using (false);
alter policy audit_test_policy on public.tasks using (true);
drop policy audit_test_policy on public.tasks;
alter table public.tasks disable row level security;
alter table public.tasks enable row level security;
alter table public.tasks add column audit_test_col int;
select results_eq(
  $$select * from pg_temp.policy_events()$$,
  array['CREATE POLICY audit_test_policy on public.tasks',
        'ALTER POLICY audit_test_policy on public.tasks',
        'DROP POLICY audit_test_policy on public.tasks',
        'ALTER TABLE public.tasks rls=false',
        'ALTER TABLE public.tasks rls=true'],
  'policy DDL and RLS switches are audited as auth_policy, other ALTER TABLEs are not');
select is(
  (select array_agg(evtname || ' ' || evtowner::regrole::text || ' ' || evtenabled::text order by evtname)
     from pg_event_trigger where evtname like 'audit_policy%'),
  array['audit_policy_ddl postgres O', 'audit_policy_drop postgres O'],
  'the event triggers are owned by postgres, as on hosted');

-- --- trigger DDL --------------------------------------------------------------------------
create temporary table mark2 as select max(id) as id from public.audit_log;
create function pg_temp.trigger_events() returns setof text
language sql as $$
  select (payload ->> 'command') || ' ' || (payload ->> 'object')
         || coalesce(' immutable_row=' || (payload -> 'audit_log_triggers' ->> 'audit_log_immutable_row'), '')
    from public.audit_log where tenant_id is null and category = 'auth_policy'
     and id > (select max(id) from mark2) and payload ? 'audit_log_triggers'
   order by seq
$$;
alter table public.audit_log disable trigger audit_log_immutable_row;
alter table public.audit_log enable trigger audit_log_immutable_row;
alter table public.audit_log enable always trigger audit_log_immutable_row;
create trigger audit_test_trigger before update on public.audit_log
  for each row execute function internal.audit_log_immutable();
drop trigger audit_test_trigger on public.audit_log;
create or replace function internal.audit_retention_window() returns interval
language sql immutable parallel safe set search_path = '' as $$ select interval '90 days' $$;
alter table public.tasks add column audit_test_col2 int;
select results_eq(
  $$select * from pg_temp.trigger_events()$$,
  array['ALTER TABLE public.audit_log immutable_row=disabled',
        'ALTER TABLE public.audit_log immutable_row=origin',
        'ALTER TABLE public.audit_log immutable_row=always',
        'CREATE TRIGGER audit_test_trigger on public.audit_log immutable_row=always',
        'DROP TRIGGER audit_test_trigger on public.audit_log immutable_row=always',
        'CREATE FUNCTION internal.audit_retention_window() immutable_row=always'],
  'trigger switches, trigger DDL on audit_log and changes of audit functions are audited with the trigger states; other tables are not');
select is(
  (select actor_id from public.audit_log where id > (select max(id) from mark2)
    and category = 'auth_policy' order by id limit 1),
  'postgres', 'the audited actor is the role that ran the DDL');
select throws_ok($$alter table public.audit_log disable trigger audit_log_chain$$, 'PT405', null,
                 'disabling the chain trigger is refused: its own audit row could not be chained');
select throws_ok($$drop trigger audit_log_chain on public.audit_log$$, 'PT405', null,
                 'so is dropping it');
create temporary table mark3 as select max(id) as id from public.audit_log;
grant audit_retention to postgres;
revoke audit_retention from postgres;
select is(
  (select count(*)::int from public.audit_log where id > (select max(id) from mark3)),
  0, 'GRANT / REVOKE of a role writes nothing: no event trigger sees it (the exports record members)');
select is(
  (select array_agg(evtname || ' ' || evtowner::regrole::text || ' ' || evtenabled::text order by evtname)
     from pg_event_trigger where evtname like 'audit_trigger%'),
  array['audit_trigger_ddl postgres A', 'audit_trigger_drop postgres A'],
  'the trigger-DDL event triggers are owned by postgres and ENABLE ALWAYS (replica sessions fire them too)');

-- --- export snapshot ----------------------------------------------------------------------
select is(
  (select jsonb_build_object('start', c ->> 'start_seq', 'head', c ->> 'head_seq', 'young', c ->> 'young_seq',
                             'head_hash_ok', c ->> 'head_hash' = (select hash from public.audit_log
                                                                   where tenant_id = pg_temp.tid('z') and seq = 7))
     from jsonb_array_elements(internal.audit_export_snapshot(interval '1 hour') -> 'chains') c
    where c ->> 'tenant_id' = pg_temp.tid('z')::text),
  '{"start": "3", "head": "7", "young": "4", "head_hash_ok": true}'::jsonb,
  'the snapshot holds each chain''s start (anchor), head and first young row');
select is(
  (select seq from internal.audit_export_marks where chain_key = pg_temp.tid('z')), 4::bigint,
  'the next export resumes at that young row');
select is(
  (select jsonb_build_object('members', s -> 'guards' -> 'audit_retention_members',
                             'immutable', s -> 'guards' -> 'audit_log_triggers' ->> 'audit_log_immutable_row',
                             'event', s -> 'guards' -> 'event_triggers' ->> 'audit_trigger_ddl',
                             'window', s -> 'retention_window_seconds')
     from internal.audit_export_snapshot(interval '1 hour', false) s),
  '{"members": [], "immutable": "always", "event": "always", "window": 7776000}'::jsonb,
  'the snapshot records the guards no event trigger sees change');
select is(internal.audit_export_snapshot(interval '90 days'), null,
          'a horizon not below the window is refused (NULL)');

select * from finish();
rollback;
