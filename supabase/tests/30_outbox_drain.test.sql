-- outbox-drain's SQL functions (20261123150000_outbox_drain): claim with per-tenant caps
-- and lease reclaim, token-guarded settlement with one audit row per outcome, DLQ moves,
-- operator requeue and resolve. Uses three fresh tenants; everything rolls back.
begin;
select plan(45);

-- Three tenants: t1 cap 1, t2 cap 2, t3 the default cap 1 (enterprise: a later case raises
-- the caps beyond the free plan's).
insert into public.tenants (id, name, plan) values
  ('30000000-0000-0000-0000-000000000001', 'outbox t1', 'enterprise'),
  ('30000000-0000-0000-0000-000000000002', 'outbox t2', 'enterprise'),
  ('30000000-0000-0000-0000-000000000003', 'outbox t3', 'enterprise');
update public.guardrails g set concurrency_cap = c.cap
  from (values ('30000000-0000-0000-0000-000000000001'::uuid, 1),
               ('30000000-0000-0000-0000-000000000002'::uuid, 2)) as c (tenant, cap)
 where g.tenant_id = c.tenant;

-- Four due envelopes per tenant: two reads, two writes (ids encode tenant and number).
insert into public.outbox (id, tenant_id, tool_slug, toolkit, risk, read_only, next_run_at)
select ('30000000-0001-0000-000' || t || '-00000000000' || n)::uuid,
       ('30000000-0000-0000-0000-00000000000' || t)::uuid,
       case when n <= 2 then 'T_READ' else 'T_WRITE' end, 'tk', 'low', n <= 2,
       now() - make_interval(mins => 10 - n)
  from generate_series(1, 3) t, generate_series(1, 4) n;

create temporary table c1 as
select * from public.outbox_claim('w1', 100, 60000)
 where tenant_id::text like '30000000-%';

select is((select count(*)::int from c1), 4, 'one claim takes cap − running per tenant: 1 + 2 + 1');
select is(
  (select array_agg(n order by t) from (select tenant_id t, count(*)::int n from c1 group by 1) s),
  array[1, 2, 1], 'per tenant: t1 1, t2 2, t3 (no guardrails row) 1');
select is((select count(*)::int from public.outbox o join c1 using (id)
            where o.status = 'running' and o.lease_token = c1.lease_token
              and o.claimed_by = 'w1' and o.lease_expires_at > now()),
          4, 'claimed rows are running under their lease');
select is((select count(*)::int from c1 where attempts <> 0), 0, 'claim does not consume attempts');
select is((select count(*)::int from c1 where id::text like '%-000000000001'), 3,
          'each tenant''s oldest due envelope comes first');

select is((select count(*)::int from public.outbox_claim('w2', 100, 60000)
            where tenant_id::text like '30000000-%'),
          0, 'a second claim gets nothing while every cap is full');

-- --- settle --------------------------------------------------------------------------
\set e11 '''30000000-0001-0000-0001-000000000001'''
\set e21 '''30000000-0001-0000-0002-000000000001'''
\set e22 '''30000000-0001-0000-0002-000000000002'''
\set e31 '''30000000-0001-0000-0003-000000000001'''

select is(public.outbox_complete(:e11, gen_random_uuid(), '{"data": {"x": 1}}'),
          false, 'complete with a wrong token is refused');
select is((select status from public.outbox where id = :e11), 'running', '… and changes nothing');
select is(public.outbox_complete(:e11, (select lease_token from c1 where id = :e11),
                                 '{"data": {"x": 1}, "successful": true}', '{"duration_ms": 12}'),
          true, 'complete with the token');
select is((select status || '/' || attempts || '/' || (result -> 'data' ->> 'x') || '/' ||
                  (lease_token is null)::text
             from public.outbox where id = :e11),
          'succeeded/1/1/true', 'succeeded, one attempt, result stored, lease cleared');
select is((select count(*)::int from public.evidence where envelope_id = :e11 and content ->> 'x' = '1'),
          1, 'its output is written to evidence');
select is((select array_agg(category) from public.audit_log where envelope_id = :e11),
          array['outbox_succeeded'], 'exactly one audit row');
select is((select (payload ->> 'duration_ms') || '/' || (payload ? 'arguments')::text
             from public.audit_log where envelope_id = :e11),
          '12/false', 'the audit row carries the details, never the arguments');
select is(public.outbox_complete(:e11, (select lease_token from c1 where id = :e11), '{}'),
          false, 'completing twice is refused');

select is(public.outbox_retry(:e21, (select lease_token from c1 where id = :e21), 5000,
                              'rate limited', 'http_429', '{}'),
          true, 'retry');
select ok((select status = 'retry' and attempts = 1 and next_run_at > now()
                  and last_error = 'rate limited' and lease_token is null
             from public.outbox where id = :e21),
          'retry: one attempt, due later, reason kept');

select is(public.outbox_park(:e22, (select lease_token from c1 where id = :e22), 'deferred',
                             'quiet hours', now() + interval '1 hour'),
          true, 'defer');
select ok((select status = 'deferred' and attempts = 0 and next_run_at = now() + interval '1 hour'
             from public.outbox where id = :e22),
          'deferred does not consume an attempt and is due when quiet hours end');
select throws_ok($$select public.outbox_park('30000000-0001-0000-0002-000000000002', null, 'succeeded', 'x')$$,
                 '22023', null, 'park refuses other statuses');

select is(public.outbox_move_to_dlq(:e31, (select lease_token from c1 where id = :e31),
                                    'invalid_arguments', 'owner is required', false),
          true, 'move to DLQ');
select ok(not exists (select 1 from public.outbox where id = :e31)
          and exists (select 1 from public.outbox_dlq where id = :e31 and reason = 'invalid_arguments'
                        and last_error = 'owner is required' and attempts = 0),
          'the envelope left the outbox for the DLQ with its reason, no attempt consumed');
select is((select array_agg(category) from public.audit_log where envelope_id = :e31),
          array['outbox_dead_lettered'], 'one audit row for the DLQ move');

-- --- reclaim -------------------------------------------------------------------------
-- A new claim fills the freed slots: t1 and t3 one each, t2 one (one deferred, one retry later).
create temporary table c2 as
select * from public.outbox_claim('w3', 100, 60000) where tenant_id::text like '30000000-%';
select is((select count(*)::int from c2), 4, 'freed slots are claimed again');

-- Expire every lease of these tenants; mark t1's write as sending.
update public.outbox set lease_expires_at = now() - interval '1 second'
 where status = 'running' and tenant_id::text like '30000000-%';
select is(public.outbox_mark_sending(array(select id from c2), array(select lease_token from c2)),
          4, 'mark_sending counts held leases');
create temporary table running_before as
select id, read_only from public.outbox where status = 'running' and tenant_id::text like '30000000-%';

create temporary table c3 as
select * from public.outbox_claim('w4', 100, 60000) where tenant_id::text like '30000000-%';
select is((select count(*)::int from public.outbox o join running_before r using (id)
            where not r.read_only and o.status = 'unknown_outcome'
              and o.outcome = 'lease_expired'),
          (select count(*)::int from running_before r
            join c2 using (id) where not r.read_only),
          'an expired write that was being sent becomes unknown_outcome');
select is((select count(*)::int from public.outbox o join running_before r using (id)
            where r.read_only and o.status in ('retry', 'running')),
          (select count(*)::int from running_before where read_only),
          'an expired read is claimable again');
select is((select count(*)::int from public.audit_log a join running_before r on r.id = a.envelope_id
            where a.category = 'outbox_lease_expired'),
          (select count(*)::int from running_before), 'one audit row per reclaimed lease');
select is(public.outbox_complete((select id from running_before limit 1),
                                 (select lease_token from c2 where id = (select id from running_before limit 1)),
                                 '{}'),
          false, 'the late worker cannot complete a reclaimed envelope');

-- --- release, settle -----------------------------------------------------------------
select is((select array_agg(applied) from public.outbox_settle(
             (select jsonb_agg(jsonb_build_object('op', 'release', 'id', id, 'token', lease_token,
                                                  'reason', 'halt'))
                from c3))),
          (select array_agg(true) from c3), 'settle applies a batch of releases');
select is((select count(*)::int from public.outbox o join c3 using (id)
            where o.status in ('pending', 'retry') and o.lease_token is null
              and o.attempts = c3.attempts),
          (select count(*)::int from c3), 'released envelopes are claimable, attempts unchanged');
select throws_ok($$select * from public.outbox_settle('{}')$$, '22023', null,
                 'settle wants an array');

-- --- one batch, every op, two tenants --------------------------------------------------
-- Fresh due envelopes for t1 (cap raised) and t2, claimed together, then settled in one call
-- with one element of each op (and a repeated id): one statement per table, one audit row per
-- applied outcome, chains still valid.
update public.guardrails set concurrency_cap = 10
 where tenant_id in ('30000000-0000-0000-0000-000000000001', '30000000-0000-0000-0000-000000000002');
update public.outbox set status = 'succeeded', lease_token = null, lease_expires_at = null
 where tenant_id::text like '30000000-%' and status in ('pending', 'retry', 'running', 'deferred');
insert into public.outbox (id, tenant_id, tool_slug, toolkit, risk, read_only, attempts)
select ('30000000-0002-0000-000' || t || '-00000000000' || n)::uuid,
       ('30000000-0000-0000-0000-00000000000' || t)::uuid, 'T_WRITE', 'tk', 'low', false,
       case when n = 5 then 1 else 0 end
  from generate_series(1, 2) t, generate_series(1, 5) n;
create temporary table c4 as
select * from public.outbox_claim('w5', 100, 60000) where id::text like '30000000-0002-%';
create temporary table s4 as
select * from public.outbox_settle((
  select jsonb_agg(e order by k)
    from (select c.id::text || '/' || r.k as k,
                 jsonb_build_object('id', c.id, 'token', c.lease_token,
                                    'details', '{"worker": "w5"}'::jsonb)
                 || case right(c.id::text, 1)
                      when '1' then jsonb_build_object('op', 'complete', 'result', '{"data": {"n": 1}}'::jsonb)
                      when '2' then jsonb_build_object('op', 'retry', 'delay_ms', 60000, 'reason', 'busy')
                      when '3' then jsonb_build_object('op', 'park', 'status', 'conflict', 'reason', '409')
                      when '4' then jsonb_build_object('op', 'dlq', 'dlq_reason', 'non_retryable',
                                                       'reason', '400', 'executed', true)
                      else jsonb_build_object('op', 'release', 'reason', 'halt')
                    end as e
            from c4 c, (values (1), (2)) r (k)
           where r.k = 1 or right(c.id::text, 1) = '1') x));
select is((select count(*)::int from c4), 10, 'the batch claims five envelopes of each tenant');
select is((select count(*) filter (where applied)::int || '/' || count(*)::int from s4), '10/12',
          'every element applied once; the repeated ids are reported as not applied');
select is((select array_agg(o.status order by o.id) from public.outbox o
            where o.id::text like '30000000-0002-0000-0001-%'),
          array['succeeded', 'retry', 'conflict', 'retry'],
          'complete, retry, park, release: each its status (the released one had an attempt)');
select ok(exists (select 1 from public.outbox_dlq d where d.id = '30000000-0002-0000-0001-000000000004'
                     and d.reason = 'non_retryable' and d.attempts = 1 and d.last_error = '400'),
          'the dlq element moved its envelope with one more attempt');
select is((select array_agg(a.category order by a.envelope_id) from public.audit_log a
            where a.envelope_id::text like '30000000-0002-0000-0002-%'),
          array['outbox_succeeded', 'outbox_retry', 'outbox_conflict', 'outbox_dead_lettered',
                'outbox_released'],
          'one audit row per applied outcome, of its kind');
select is((select (payload ->> 'worker') || '/' || (payload ->> 'delay_ms') || '/' ||
                  (payload ->> 'attempts')
             from public.audit_log where envelope_id = '30000000-0002-0000-0002-000000000002'),
          'w5/60000/1', 'the audit payload carries the details and the op''s own fields');
select is((select count(*)::int from public.evidence where envelope_id::text like '30000000-0002-%'
                                                      and content ->> 'n' = '1'),
          2, 'each completion wrote its evidence row');
select is((select array_agg(v.valid) from (values (1), (2)) t (n),
                  internal.audit_log_verify(('30000000-0000-0000-0000-00000000000' || t.n)::uuid) v),
          array[true, true], 'both tenants'' audit chains verify after the batch');
select throws_ok(
  $$select * from public.outbox_settle(jsonb_build_array(
      jsonb_build_object('op', 'retry', 'id', '30000000-0002-0000-0001-000000000002',
                         'token', gen_random_uuid(), 'delay_ms', 0, 'reason', 'x'),
      jsonb_build_object('op', 'explode', 'id', gen_random_uuid(), 'token', gen_random_uuid())))$$,
  '22023', 'outbox_settle: unknown op explode', 'one invalid element refuses the whole batch');

-- --- operator ------------------------------------------------------------------------
select is((select count(*)::int from public.outbox_requeue_dlq('30000000-0000-0000-0000-000000000003', 10, 'op')),
          1, 'requeue moves the tenant''s dead letters back');
select ok((select status = 'pending' and attempts = 0 from public.outbox where id = :e31),
          'requeued as pending with attempts reset');

update public.outbox set status = 'unknown_outcome', lease_token = null, lease_expires_at = null
 where id = '30000000-0001-0000-0001-000000000004';
select is((public.outbox_resolve('30000000-0001-0000-0001-000000000004', 'done', 'op', 'checked')).status,
          'succeeded', 'resolve done settles an unknown_outcome as succeeded');
select throws_ok($$select public.outbox_resolve('30000000-0001-0000-0001-000000000004', 'retry', 'op')$$,
                 'PT409', null, 'only unknown_outcome envelopes can be resolved');

select is(
  array(select p.oid::regprocedure::text from pg_proc p
         where p.proname like 'outbox\_%' and p.pronamespace = 'public'::regnamespace
           and (has_function_privilege('anon', p.oid, 'execute')
                or has_function_privilege('authenticated', p.oid, 'execute'))),
  '{}'::text[], 'no outbox function is executable by anon or authenticated');

select * from finish();
rollback;
