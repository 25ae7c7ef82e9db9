-- The tenant channels in SQL (supabase/schemas/80_realtime): who may join (the policy on
-- realtime.messages, probed as hosted Realtime probes it), that nobody may write, and what
-- the triggers publish: one message per statement and tenant, ids and statuses only, the
-- queue depth throttled to once a second. Callers are simulated as in 12_rls_matrix; every
-- message written here is rolled back with the file.
begin;
select plan(34);

\set tenant_a '''00000000-0000-0000-0000-00000000000a'''
\set tenant_b '''00000000-0000-0000-0000-00000000000b'''

-- --- the topic's tenant ------------------------------------------------------------------
select is(internal.realtime_topic_tenant('outbox:' || :tenant_a), :tenant_a::uuid,
          'outbox:<tenant> names the tenant');
select is(internal.realtime_topic_tenant('approvals:' || :tenant_b), :tenant_b::uuid,
          'approvals:<tenant> names the tenant');
select is(internal.realtime_topic_tenant('activity:' || :tenant_a), :tenant_a::uuid,
          'activity:<tenant> names the tenant');
select is(
  array(select coalesce(internal.realtime_topic_tenant(t)::text, 'null')
          from unnest(array['outbox:' || upper(:tenant_a), 'outbox:', 'outbox:not-a-uuid',
                            'outbox:' || :tenant_a || ':x', 'other:' || :tenant_a,
                            'realtime:outbox:' || :tenant_a, '', null]) t),
  array_fill('null'::text, array[8]),
  'a malformed topic is no tenant, never an error');

-- --- joining: hosted's probe ------------------------------------------------------------
create temporary table rt_caller (ord int, name text, role text, uid uuid, tenant uuid);
insert into rt_caller values
  (1, 'anon', 'anon', null, null),
  (2, 'member of A', 'authenticated', '00000000-0000-0000-0000-0000000000a2', :tenant_a),
  (3, 'owner of A', 'authenticated', '00000000-0000-0000-0000-0000000000a1', :tenant_a),
  (4, 'member of B', 'authenticated', '00000000-0000-0000-0000-0000000000b2', :tenant_b),
  (5, 'without tenant', 'authenticated', '00000000-0000-0000-0000-0000000000c1', null),
  -- A token still naming A for a user who is a member of B only: membership decides.
  (6, 'member of B claiming A', 'authenticated', '00000000-0000-0000-0000-0000000000b2',
   :tenant_a),
  (7, 'service_role', 'service_role', null, null);

create function pg_temp.become(c rt_caller, p_topic text) returns void
language plpgsql as $$
begin
  perform set_config('role', c.role, true);
  perform set_config('realtime.topic', coalesce(p_topic, ''), true);
  perform set_config('request.jwt.claims', jsonb_strip_nulls(jsonb_build_object(
    'sub', c.uid, 'role', c.role, 'tenant_id', c.tenant))::text, true);
end
$$;

-- Hosted Realtime's join check: a probe row inserted by Realtime, selected as the user with
-- realtime.topic set. True when the user sees it.
create function pg_temp.can_join(p_caller text, p_topic text) returns boolean
language plpgsql as $$
declare
  c rt_caller;
  v_id uuid := gen_random_uuid();
  v_seen boolean;
begin
  select * into strict c from rt_caller where name = p_caller;
  insert into realtime.messages (id, topic, extension) values (v_id, p_topic, 'broadcast');
  perform pg_temp.become(c, p_topic);
  select exists (select 1 from realtime.messages m where m.id = v_id) into v_seen;
  perform set_config('role', 'none', true);
  return v_seen;
end
$$;

-- Realtime's write check for a client broadcast: an INSERT as the user.
create function pg_temp.can_send(p_caller text, p_topic text) returns text
language plpgsql as $$
declare
  c rt_caller;
begin
  select * into strict c from rt_caller where name = p_caller;
  begin
    perform pg_temp.become(c, p_topic);
    insert into realtime.messages (topic, extension, event, payload)
    values (p_topic, 'broadcast', 'envelopes', '{"forged": true}');
    raise exception using errcode = 'ZZ999';
  exception
    when sqlstate 'ZZ999' then return 'sent';
    when others then return sqlstate;
  end;
end
$$;

select is(
  array(select format('%s on %s: %s', c.name, t.topic, pg_temp.can_join(c.name, t.topic))
          from rt_caller c
          cross join (values (1, 'outbox:' || :tenant_a), (2, 'approvals:' || :tenant_a),
                             (3, 'activity:' || :tenant_a), (4, 'outbox:' || :tenant_b))
                      as t (ord, topic)
         order by c.ord, t.ord),
  array(select format('%s on %s: %s', c.name, t.topic,
                      c.role = 'service_role'
                      or (c.role = 'authenticated' and c.name <> 'member of B claiming A'
                          and c.tenant is not distinct from
                              internal.realtime_topic_tenant(t.topic)))
          from rt_caller c
          cross join (values (1, 'outbox:' || :tenant_a), (2, 'approvals:' || :tenant_a),
                             (3, 'activity:' || :tenant_a), (4, 'outbox:' || :tenant_b))
                      as t (ord, topic)
         order by c.ord, t.ord),
  'members (and owners) of the topic''s tenant join its channels; nobody else but the service');

select is(
  array(select c.name from rt_caller c
         where c.role <> 'service_role'
           and pg_temp.can_join(c.name, 'outbox:' || upper(:tenant_a))),
  '{}'::text[], 'a malformed topic is joined by nobody');

select is(
  array(select c.name || ': ' || pg_temp.can_send(c.name, 'outbox:' || coalesce(c.tenant, :tenant_a))
          from rt_caller c where c.role <> 'service_role' order by c.ord),
  array(select c.name || ': 42501' from rt_caller c where c.role <> 'service_role' order by c.ord),
  'no API caller may write a channel, not even a member on their own tenant''s');

-- A member reads only the joined topic's messages, not the table.
create function pg_temp.probes_seen(p_caller text, p_topic text) returns int
language plpgsql as $$
declare
  c rt_caller;
  n int;
begin
  select * into strict c from rt_caller where name = p_caller;
  perform pg_temp.become(c, p_topic);
  select count(*) into n from realtime.messages m where m.event = 'probe';
  perform set_config('role', 'none', true);
  return n;
end
$$;
select realtime.send('{"n": 1}', 'probe', 'approvals:' || :tenant_a, true),
       realtime.send('{"n": 2}', 'probe', 'outbox:' || :tenant_b, true) \gset
select is(array[pg_temp.probes_seen('member of A', 'outbox:' || :tenant_a),
                pg_temp.probes_seen('member of A', 'approvals:' || :tenant_a)],
          array[0, 1],
          'a member of A sees the joined topic''s messages only: not another topic''s, not B''s');

-- --- what the triggers publish ------------------------------------------------------------
insert into public.tenants (id, name) values
  ('00000000-0000-0000-0000-0000000000e1', 'realtime test 1'),
  ('00000000-0000-0000-0000-0000000000e2', 'realtime test 2');
\set t1 '''00000000-0000-0000-0000-0000000000e1'''
\set t2 '''00000000-0000-0000-0000-0000000000e2'''

-- The messages on a topic with an event, in this transaction, oldest first.
create function pg_temp.sent(p_topic text, p_event text) returns setof jsonb
language sql as $$
  select m.payload from realtime.messages m
   where m.topic = p_topic and m.event = p_event
     and m.inserted_at = (now() at time zone 'utc')
   order by m.payload ->> 'id'
$$;

-- One statement, two tenants, five envelopes with a secret in their arguments.
insert into public.outbox (id, tenant_id, tool_slug, toolkit, risk, arguments)
select ('00000000-0000-0000-0001-00000000000' || g)::uuid,
       case when g <= 3 then :t1::uuid else :t2::uuid end, 'GITHUB_CREATE_ISSUE', 'github',
       'low', '{"token": "s3cr3t-argument"}'
  from generate_series(1, 5) g;

select is((select count(*)::int from pg_temp.sent('outbox:' || :t1, 'envelopes')), 1,
          'one envelopes message per statement for the first tenant');
select is((select count(*)::int from pg_temp.sent('outbox:' || :t2, 'envelopes')), 1,
          'and one for the second');
select is((select p ->> 'count' from pg_temp.sent('outbox:' || :t1, 'envelopes') p), '3',
          'it counts the tenant''s envelopes of the statement');
select is((select p -> 'envelopes' -> 0 from pg_temp.sent('outbox:' || :t1, 'envelopes') p),
          '{"id": "00000000-0000-0000-0001-000000000001", "status": "pending", "attempts": 0,
            "tool_slug": "GITHUB_CREATE_ISSUE", "previous_status": null}'::jsonb,
          'each envelope: id, status, previous status, tool slug, attempts');
select is((select array_agg(distinct k order by k) from pg_temp.sent('outbox:' || :t1, 'envelopes') p,
                  jsonb_object_keys(p) k),
          array['count', 'envelopes', 'id', 'op', 'tenant_id', 'truncated'],
          'the message: tenant, op, count, truncated, envelopes and its id');
select is((select count(*)::int from pg_temp.sent('outbox:' || :t1, 'queue_depth')), 1,
          'the queue depth follows the first change');
select is((select p -> 'depth' ->> 'pending' from pg_temp.sent('outbox:' || :t1, 'queue_depth') p),
          '3', 'the depth counts the pending envelopes');

update public.outbox set status = 'running', lease_token = gen_random_uuid(),
                         lease_expires_at = now() + interval '1 minute'
 where tenant_id = :t1;
select is((select count(*)::int from pg_temp.sent('outbox:' || :t1, 'envelopes')), 2,
          'a status change of three envelopes is one more message');
select is((select p -> 'envelopes' -> 2 ->> 'previous_status'
             from pg_temp.sent('outbox:' || :t1, 'envelopes') p where p ->> 'op' = 'update'),
          'pending', 'with the status each envelope had');
select is((select count(*)::int from pg_temp.sent('outbox:' || :t1, 'queue_depth')), 1,
          'within a second, the depth is not published again');

update public.outbox set outcome = 'sending' where tenant_id = :t1;
select is((select count(*)::int from pg_temp.sent('outbox:' || :t1, 'envelopes')), 2,
          'a statement that changes no status publishes nothing');

-- A second later (moved back rather than waited for), the next change publishes it.
update internal.realtime_queue_depth set published_at = published_at - interval '2 seconds'
 where tenant_id = :t1;
update public.outbox set status = 'needs_approval', lease_token = null, lease_expires_at = null
 where id = '00000000-0000-0000-0001-000000000001';
select is((select count(*)::int from pg_temp.sent('outbox:' || :t1, 'queue_depth')), 2,
          'after a second, the next change publishes the depth');
select is((select p -> 'depth' from pg_temp.sent('outbox:' || :t1, 'queue_depth') p
            order by (p -> 'depth' ->> 'needs_approval') desc limit 1),
          '{"retry": 0, "pending": 0, "running": 2, "conflict": 0, "deferred": 0,
            "needs_approval": 1, "unknown_outcome": 0}'::jsonb,
          'counts per non-final status');
select is((select p -> 'envelopes' from pg_temp.sent('approvals:' || :t1, 'approval_requested') p),
          '[{"id": "00000000-0000-0000-0001-000000000001", "tool_slug": "GITHUB_CREATE_ISSUE"}]'::jsonb,
          'an envelope that now needs approval is requested on the approvals channel');

-- The trailing edge: a depth nobody published goes out with the minute flush, once.
update internal.realtime_queue_depth
   set published_at = now() - interval '2 seconds', depth = '{"stale": true}'
 where tenant_id = :t1;
select ok(internal.realtime_flush_queue_depth() >= 1, 'the flush publishes a changed depth');
select is((select count(*)::int from pg_temp.sent('outbox:' || :t1, 'queue_depth')), 3,
          'one more queue_depth for the tenant');
update internal.realtime_queue_depth set published_at = now() - interval '2 seconds'
 where tenant_id = :t1;
select internal.realtime_flush_queue_depth() as flushed \gset
select is((select count(*)::int from pg_temp.sent('outbox:' || :t1, 'queue_depth')), 3,
          'an unchanged depth is not flushed again');

-- An owner decides (approve_envelope as PostgREST calls it): the SECURITY DEFINER triggers
-- publish what the owner could not write.
insert into auth.users (id, aud, role, email)
values ('00000000-0000-0000-0000-0000000000e9', 'authenticated', 'authenticated', 'rt@example.com');
insert into public.tenant_members (tenant_id, user_id, role)
values (:t1, '00000000-0000-0000-0000-0000000000e9', 'owner');
select set_config('role', 'authenticated', true) as r,
       set_config('request.jwt.claims', jsonb_build_object(
         'sub', '00000000-0000-0000-0000-0000000000e9', 'role', 'authenticated',
         'tenant_id', :t1)::text, true) as c \gset
select (public.approve_envelope('00000000-0000-0000-0001-000000000001', 's3cr3t-reason',
                                's3cr3t-summary')).status as approved \gset
reset role;
select is((select (p -> 'approvals' -> 0) - 'id'
             from pg_temp.sent('approvals:' || :t1, 'approval_decided') p),
          '{"decision": "approved", "envelope_id": "00000000-0000-0000-0001-000000000001",
            "reviewer_id": "00000000-0000-0000-0000-0000000000e9"}'::jsonb,
          'the decision reaches approvals:<tenant>, without reason or summary');
select is((select count(*)::int from pg_temp.sent('outbox:' || :t1, 'envelopes') p
            where p -> 'envelopes' @> '[{"status": "pending", "previous_status": "needs_approval"}]'),
          1, 'and the envelope''s return to pending reaches outbox:<tenant>');

-- A move to the DLQ (as outbox_settle does it: delete and insert in one statement).
with gone as (
  delete from public.outbox where id = '00000000-0000-0000-0001-000000000004' returning *
)
insert into public.outbox_dlq (id, tenant_id, tool_slug, toolkit, arguments, risk, status,
                               reason)
select id, tenant_id, tool_slug, toolkit, arguments, risk, 'pending', 'invalid_arguments'
  from gone;
select is((select p -> 'envelopes' -> 0 ->> 'status'
             from pg_temp.sent('outbox:' || :t2, 'envelopes') p where p ->> 'op' = 'delete'),
          'dead_lettered', 'a move to the DLQ is published as dead_lettered');

-- Deleting a tenant takes its envelopes with it: no error, and no event of that tenant's.
delete from public.tenants where id = :t2;
select is((select count(*)::int from pg_temp.sent('outbox:' || :t2, 'envelopes') p
            where p ->> 'op' = 'delete'),
          1, 'deleting a tenant works and publishes no envelope removal (only the DLQ move)');

-- Guardrails and plan on the activity channel.
update public.guardrails set trust_threshold = 0.9, drift_webhook_url = 'https://hooks.acme-corp.com/s3cr3t'
 where tenant_id = :t1;
update public.guardrails set trust_threshold = trust_threshold where tenant_id = :t1;
select is((select array_agg(p -> 'changed_columns') from pg_temp.sent('activity:' || :t1,
                                                                     'guardrails_changed') p),
          array['["drift_webhook_url", "trust_threshold"]'::jsonb],
          'a guardrails change names its columns, once; a no-op update publishes nothing');
update public.tenants set plan = 'pro' where id = :t1;
select is((select p - 'id' from pg_temp.sent('activity:' || :t1, 'plan_changed') p),
          jsonb_build_object('plan', 'pro', 'previous_plan', 'free', 'tenant_id', :t1),
          'a plan change names the plans');

select is(
  (select count(*)::int from realtime.messages m
    where m.inserted_at = (now() at time zone 'utc') and m.payload::text ~ 's3cr3t'),
  0, 'no argument, reason, summary or guardrail value reaches any message');
select is(
  (select count(*)::int from realtime.messages m
    where m.inserted_at = (now() at time zone 'utc') and m.event is not null
      and m.private is not true),
  0, 'every message goes to a private channel');

select results_eq(
  $$select username::text collate "default", active, command from cron.job
     where jobname = 'realtime-queue-depth-flush'$$,
  $$values ('postgres'::text, true, 'select internal.realtime_flush_queue_depth()'::text)$$,
  'the flush runs every minute as postgres (housekeeping, not paused with the jobs)');

select * from finish();
rollback;
