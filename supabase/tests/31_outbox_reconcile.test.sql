-- Reconciliation of unknown outcomes (20261204210000_outbox_reconcile): read-back
-- declarations checked on write, the reconcile claim (declared tools only, a tenant's
-- declaration over the global one, one lease at a time, due and episode rules) and the
-- settle (found, absent only when authoritative after the settle delay, inconclusive, given
-- up; one audit row each; a resolve meanwhile wins). Two fresh tenants; everything rolls back.
begin;
select plan(51);

\set t1 '''31000000-0000-0000-0000-000000000001'''
\set t2 '''31000000-0000-0000-0000-000000000002'''
insert into public.tenants (id, name, plan) values
  (:t1, 'reconcile t1', 'enterprise'), (:t2, 'reconcile t2', 'enterprise');
insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, read_only,
                                 content_hash)
values (:t1, 'R_LIST', 'tk', '20250101_00', 'low', true, 'h1'),
       (:t1, 'W_CREATE', 'tk', '20250101_00', 'medium', false, 'h2');

-- --- declarations, checked on write ---------------------------------------------------------
create function pg_temp.declare_problem(p_args jsonb, p_match jsonb, p_marker text)
returns text language plpgsql as $$
begin
  insert into internal.tool_readbacks (tenant_id, tool_slug, read_tool_slug, read_arguments,
                                       match, marker_argument)
  values ('31000000-0000-0000-0000-000000000002', 'W_PROBE', 'R_LIST', p_args, p_match,
          p_marker);
  delete from internal.tool_readbacks where tool_slug = 'W_PROBE';
  return null;
exception when check_violation then
  return sqlerrm;
end
$$;
\set m '''{"items": "/data/issues", "field": "/body", "value": {"$ref": "/external_id"}, "mode": "contains"}'''

select is(pg_temp.declare_problem('{"owner": {"$ref": "/arguments/owner"}, "state": "all"}',
                                  :m, '/body'),
          null, 'a declaration with references and literals is accepted');
select is(pg_temp.declare_problem('{"q": [{"x": {"$ref": "/arguments/a~1b/0"}}]}', :m, '/body'),
          null, 'references nest in arrays and objects; pointers use ~0 and ~1');
select matches(pg_temp.declare_problem('[]', :m, '/body'),
               '^internal.tool_readbacks: read_arguments must be a JSON object',
               'read_arguments must be an object, and the error names the problem');
select matches(pg_temp.declare_problem('{"a": {"$ref": "/tenant_id"}}', :m, '/body'),
               'read_arguments: .* is not a reference',
               'a reference names only /id, /external_id or /arguments/…');
select matches(pg_temp.declare_problem('{"a": {"b": {"$ref": "/id", "x": 1}}}', :m, '/body'),
               'is not a reference', 'a reference has no other keys, at any depth');
select matches(pg_temp.declare_problem('{"a": {"$ref": "/arguments/~2"}}', :m, '/body'),
               'is not a reference', 'a reference is a valid JSON pointer');
select matches(pg_temp.declare_problem('{}', '{"items": "/data", "field": "/b", "value": "k1", "mode": "equals"}', '/b'),
               'match.value must be a reference', 'the match value comes from the envelope');
select matches(pg_temp.declare_problem('{}', '{"items": "data", "field": "/b", "value": {"$ref": "/id"}, "mode": "equals"}', '/b'),
               'match.items must be a JSON pointer', 'match.items is a pointer');
select matches(pg_temp.declare_problem('{}', '{"items": "/d", "field": "/b", "value": {"$ref": "/id"}, "mode": "like"}', '/b'),
               'match.mode must be equals or contains', 'match.mode is equals or contains');
select matches(pg_temp.declare_problem('{}', '{"items": "/d", "field": "/b", "value": {"$ref": "/id"}, "mode": "equals", "eval": "1"}', '/b'),
               'match takes only', 'match has no other keys');
select matches(pg_temp.declare_problem('{}', :m, null),
               'marker_argument must name the write''s argument that carries /external_id',
               'matching on the external id needs the argument that carries it');
select is(pg_temp.declare_problem('{}', '{"items": "/d", "field": "/title", "value": {"$ref": "/arguments/title"}, "mode": "equals"}', null),
          null, 'matching on an argument of the write needs no marker');
select throws_ok($$insert into internal.tool_readbacks (tool_slug, read_tool_slug, match, marker_argument)
                   values ('W_CREATE', 'W_CREATE', '{"items": "/d", "field": "/b", "value": {"$ref": "/id"}, "mode": "equals"}', '/b')$$,
                 '23514', null, 'a write cannot be its own read-back');
select throws_ok($$insert into internal.tool_readbacks (tool_slug, read_tool_slug, match, marker_argument)
                   values ('w_create', 'R_LIST', '{"items": "/d", "field": "/b", "value": {"$ref": "/id"}, "mode": "equals"}', '/b')$$,
                 '23514', null, 'slugs are written as the catalog writes them');

-- The global declaration (not authoritative) and t1's own (authoritative, with a settle delay
-- and a small read budget).
insert into internal.tool_readbacks (tenant_id, tool_slug, read_tool_slug, read_arguments,
                                     match, marker_argument, authoritative, settle_delay_ms,
                                     max_attempts)
values (null, 'W_CREATE', 'R_LIST', '{"state": "all"}', :m, '/body', false, 0, 5),
       (:t1, 'W_CREATE', 'R_LIST', '{"owner": {"$ref": "/arguments/owner"}}', :m, '/body', true,
        60000, 2);
select throws_ok($$insert into internal.tool_readbacks (tool_slug, read_tool_slug, match, marker_argument)
                   values ('W_CREATE', 'R_LIST', '{"items": "/d", "field": "/b", "value": {"$ref": "/id"}, "mode": "equals"}', '/b')$$,
                 '23505', null, 'one global declaration per tool');
select is((select count(*)::int from public.audit_log
            where category = 'config_change' and payload ->> 'table' = 'tool_readbacks'
              and payload ->> 'op' = 'insert' and tenant_id is not distinct from :t1),
          1, 'a declaration''s change is audited (config_change)');

-- --- claim ----------------------------------------------------------------------------------
-- t1: u1 unknown an hour ago, u2 just now, u5 an hour ago, u6 an hour ago; u3 an undeclared
-- tool; u4 running. t2: v1, under the global declaration.
\set u1 '''31000000-0001-0000-0000-000000000001'''
\set u2 '''31000000-0001-0000-0000-000000000002'''
\set u3 '''31000000-0001-0000-0000-000000000003'''
\set u4 '''31000000-0001-0000-0000-000000000004'''
\set u5 '''31000000-0001-0000-0000-000000000005'''
\set u6 '''31000000-0001-0000-0000-000000000006'''
\set v1 '''31000000-0002-0000-0000-000000000001'''
insert into public.outbox (id, tenant_id, tool_slug, toolkit, risk, read_only, external_id,
                           arguments, status, attempts, outcome, completed_at, lease_token,
                           lease_expires_at)
values (:u1, :t1, 'W_CREATE', 'tk', 'medium', false, 'k1', '{"owner": "o", "body": "ref k1"}',
        'unknown_outcome', 1, 'http_500', now() - interval '1 hour', null, null),
       (:u2, :t1, 'W_CREATE', 'tk', 'medium', false, 'k2', '{"owner": "o", "body": "ref k2"}',
        'unknown_outcome', 1, 'timeout', now(), null, null),
       (:u3, :t1, 'W_OTHER', 'tk', 'medium', false, 'k3', '{}', 'unknown_outcome', 1, 'timeout',
        now() - interval '2 hours', null, null),
       (:u4, :t1, 'W_CREATE', 'tk', 'medium', false, 'k4', '{}', 'running', 0, null, null,
        gen_random_uuid(), now() + interval '1 minute'),
       (:u5, :t1, 'W_CREATE', 'tk', 'medium', false, 'k5', '{"owner": "o", "body": "ref k5"}',
        'unknown_outcome', 1, 'http_502', now() - interval '50 minutes', null, null),
       (:u6, :t1, 'W_CREATE', 'tk', 'medium', false, 'k6', '{"body": "ref k6"}',
        'unknown_outcome', 1, 'timeout', now() - interval '40 minutes', null, null),
       (:v1, :t2, 'W_CREATE', 'tk', 'medium', false, 'k7', '{"body": "ref k7"}',
        'unknown_outcome', 1, 'timeout', now() - interval '1 hour', null, null);

create temporary table c1 as select * from public.outbox_reconcile_claim('w1', 10, 60000, :t1);
select is((select array_agg(id order by unknown_since) from c1),
          array[:u1, :u5, :u6, :u2]::uuid[],
          'the claim takes the unknown_outcome envelopes of declared tools, oldest unknown first');
select is((select array_agg(distinct (readback ->> 'authoritative')) from c1), array['true'],
          'the tenant''s own declaration wins over the global one');
select is((select array_agg(past_settle_delay order by unknown_since) from c1),
          array[true, true, true, false], 'past the settle delay: all but the one just parked');
select is((select read_version || '/' || read_read_only || '/' || reconcile_attempt
             || '/' || status from c1 join public.outbox o using (id) where id = :u1),
          '20250101_00/true/1/unknown_outcome',
          'with the read tool''s catalog row and the read''s number; the envelope stays unknown_outcome');
select is((select count(*)::int from public.outbox_reconcile_claim('w2', 10, 60000, :t1)), 0,
          'a second claim takes nothing while the leases hold');
create temporary table c2 as select * from public.outbox_reconcile_claim('w1', 10, 60000, :t2);
select is((select array_agg(id) from c2), array[:v1]::uuid[], 't2 under the global declaration');
select is((select (readback ->> 'authoritative') || '/' || coalesce(read_version, 'none') from c2),
          'false/none', '… not authoritative; t2''s catalog lacks the read tool');

-- --- settle ---------------------------------------------------------------------------------
select lives_ok($$select public.outbox_resolve('31000000-0001-0000-0000-000000000006', 'done',
                                                'pgtap', 'checked by hand')$$,
                'an operator resolves u6 while its read is out');
create temporary table s1 as
select * from public.outbox_reconcile_settle(jsonb_build_array(
  jsonb_build_object('id', :u1, 'token', (select lease_token from c1 where id = :u1),
                     'verdict', 'found', 'item', '{"number": 7, "body": "ref k1"}'::jsonb,
                     'details', '{"read_tool": "R_LIST", "worker": "w1"}'::jsonb),
  jsonb_build_object('id', :u2, 'token', (select lease_token from c1 where id = :u2),
                     'verdict', 'absent', 'reason', 'no item carries k2', 'delay_ms', 5000),
  jsonb_build_object('id', :u5, 'token', (select lease_token from c1 where id = :u5),
                     'verdict', 'absent', 'reason', 'no item carries k5'),
  jsonb_build_object('id', :u6, 'token', (select lease_token from c1 where id = :u6),
                     'verdict', 'found', 'item', '{}'::jsonb),
  jsonb_build_object('id', :v1, 'token', (select lease_token from c2 where id = :v1),
                     'verdict', 'absent', 'reason', 'no item carries k7', 'delay_ms', 5000),
  jsonb_build_object('id', :u3, 'token', gen_random_uuid(), 'verdict', 'found', 'item', '{}'::jsonb)));
select is((select array_agg(coalesce(verdict, '-') || ':' || coalesce(status, '-')) from s1),
          array['found:succeeded', 'inconclusive:unknown_outcome', 'absent:retry', '-:-',
                'inconclusive:unknown_outcome', '-:-'],
          'found, absent before the delay, absent, resolved meanwhile, not authoritative, no lease');

select is((select status || '/' || attempts || '/' || outcome || '/' || (result -> 'data' ->> 'number')
                  || '/' || (result ->> 'reconciled_by') || '/' || (completed_at is not null)
             from public.outbox where id = :u1),
          'succeeded/1/reconciled/7/R_LIST/true',
          'found: succeeded with the item as its result, no attempt added');
select is((select content ->> 'number' from public.evidence where envelope_id = :u1), '7',
          '… the item is the envelope''s evidence');
select is((select array_agg(category) from public.audit_log where envelope_id = :u1),
          array['outbox_reconciled'], '… one audit row');
select is((select payload ->> 'verdict' || '/' || (payload ->> 'read') || '/' || (payload ->> 'read_tool')
                  || '/' || (payload ->> 'status') from public.audit_log where envelope_id = :u1),
          'found/1/R_LIST/succeeded', '… naming the verdict, the read and its tool');
select ok(not exists (select from internal.outbox_reconcile where envelope_id = :u1),
          '… and the reconcile row is gone');

select is((select status || '/' || attempts || '/' || outcome || '/' || (next_run_at <= now())
             from public.outbox where id = :u5),
          'retry/1/reconciled_absent/true',
          'absent, authoritative, after the delay: back to retry, due now, no attempt added');
select is((select array_agg(category) from public.audit_log where envelope_id = :u5),
          array['outbox_reconcile_retry'], '… one audit row');

select is((select status from public.outbox where id = :u2), 'unknown_outcome',
          'absent before the settle delay: the write does not run again');
select is((select last_error || '/' || (next_attempt_at = now() + interval '5 seconds')
                  || '/' || (lease_token is null) || '/' || attempts
             from internal.outbox_reconcile where envelope_id = :u2),
          'absent, but the read came before the settle delay had passed/true/true/1',
          '… the read is recorded, the next one after delay_ms');
select is((select array_agg(category || ':' || (payload ->> 'verdict')) from public.audit_log
            where envelope_id = :u2),
          array['outbox_reconcile_inconclusive:inconclusive'], '… one audit row');
select ok((select payload ? 'next_read_at' from public.audit_log where envelope_id = :u2),
          '… naming when the next read may start');
select is((select status || '/' || r.last_error from public.outbox o
             join internal.outbox_reconcile r on r.envelope_id = o.id where o.id = :v1),
          'unknown_outcome/absent, but the read is not authoritative for it',
          'absent where the read is not authoritative: left unknown_outcome');
select is((select array_agg(category) from public.audit_log where envelope_id = :u6),
          array['outbox_resolved'], 'a resolve meanwhile wins: the late read writes nothing');
select is((select status from public.outbox where id = :u3), 'unknown_outcome',
          'an element without the lease changes nothing');

-- --- next reads, giving up, a new episode ---------------------------------------------------
select is((select count(*)::int from public.outbox_reconcile_claim('w3', 10, 60000, :t1)), 0,
          'u2''s next read is not due yet');
update internal.outbox_reconcile set next_attempt_at = now() - interval '1 second'
 where envelope_id = :u2;
update public.outbox set completed_at = now() - interval '1 hour' where id = :u2;
create temporary table c3 as select * from public.outbox_reconcile_claim('w3', 10, 60000, :t1);
select is((select array_agg(id::text || '#' || reconcile_attempt) from c3),
          array[:u2 || '#2'], 'due again: the second read');
select is((select array_agg(verdict || ':' || status) from public.outbox_reconcile_settle(
             jsonb_build_array(jsonb_build_object(
               'id', :u2, 'token', (select lease_token from c3), 'verdict', 'inconclusive',
               'reason', 'the read failed: 503', 'delay_ms', 0)))),
          array['given_up:unknown_outcome'],
          'reads spent after the settle delay: left for the operator');
select is((select array_agg(category) from public.audit_log where envelope_id = :u2),
          array['outbox_reconcile_inconclusive', 'outbox_reconcile_given_up'],
          '… with an audit row');
select is((select count(*)::int from public.outbox_reconcile_claim('w4', 10, 60000, :t1)), 0,
          'an envelope left for the operator is not read again');
-- A re-run parked it again (one more attempt): a new episode, counted afresh.
update public.outbox set attempts = 2 where id = :u2;
select is((select array_agg(id::text || '#' || reconcile_attempt)
             from public.outbox_reconcile_claim('w4', 10, 60000, :t1)),
          array[:u2 || '#1'], 'a later unknown_outcome of the same envelope starts afresh');
select is((select status from public.outbox_resolve(:u2, 'retry', 'pgtap')), 'retry',
          'the operator still resolves an envelope being read back');

-- --- refused input ------------------------------------------------------------------------
select throws_ok($$select * from public.outbox_reconcile_settle('[{"id": "31000000-0001-0000-0000-000000000002", "token": "31000000-0001-0000-0000-000000000002", "verdict": "maybe"}]')$$,
                 '22023', null, 'an unknown verdict refuses the batch');
select throws_ok($$select * from public.outbox_reconcile_settle('[{"id": "31000000-0001-0000-0000-000000000002", "token": "31000000-0001-0000-0000-000000000002", "verdict": "found"}]')$$,
                 '22023', null, 'found without the item refuses the batch');
select throws_ok($$select * from public.outbox_reconcile_settle('{}')$$, '22023', null,
                 'the batch is an array');
select throws_ok($$select * from public.outbox_reconcile_claim('w', 0, 60000)$$, '22023', null,
                 'the claim takes 1..1000');
select ok(not has_function_privilege('authenticated', 'public.outbox_reconcile_claim(text, integer, integer, uuid)', 'execute')
          and not has_function_privilege('anon', 'public.outbox_reconcile_settle(jsonb)', 'execute')
          and has_function_privilege('service_role', 'public.outbox_reconcile_settle(jsonb)', 'execute'),
          'the service runs them, the API''s users cannot');

select * from finish();
rollback;
