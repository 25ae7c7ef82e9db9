-- The SQL functions of the schema: access-token hook, enqueue, approve/reject,
-- rate_bucket_take, and the tasks trigger and per-user RLS. Uses the seeded tenants and
-- users (supabase/seed.sql). Callers are simulated as PostgREST does: set local role and
-- request.jwt.claims.
begin;
select plan(65);

-- Runs a statement and returns how many rows it affected (as the current role).
create function pg_temp.affected(statement text) returns int
language plpgsql as $$
declare
  n int;
begin
  execute statement;
  get diagnostics n = row_count;
  return n;
end
$$;

-- Becomes a caller the way PostgREST does for a request.
create function pg_temp.act_as(p_role text, p_claims jsonb default null) returns void
language plpgsql as $$
begin
  perform set_config('role', p_role, true);
  perform set_config('request.jwt.claims',
                     coalesce(p_claims, jsonb_build_object('role', p_role))::text, true);
end
$$;

create function pg_temp.user_claims(p_user uuid, p_tenant uuid, p_tenant_role text)
returns jsonb
language sql as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'sub', p_user, 'role', 'authenticated', 'aud', 'authenticated',
    'tenant_id', p_tenant, 'tenant_role', p_tenant_role))
$$;

\set tenant_a '''00000000-0000-0000-0000-00000000000a'''
\set tenant_b '''00000000-0000-0000-0000-00000000000b'''
\set owner_a '''00000000-0000-0000-0000-0000000000a1'''
\set member_a '''00000000-0000-0000-0000-0000000000a2'''
\set owner_b '''00000000-0000-0000-0000-0000000000b1'''
\set member_b '''00000000-0000-0000-0000-0000000000b2'''
\set nobody '''00000000-0000-0000-0000-0000000000c1'''
\set both '''00000000-0000-0000-0000-0000000000d1'''

-- =======================================================================================
-- Custom Access Token Hook, called as Supabase Auth calls it: as supabase_auth_admin with
-- {user_id, claims}. postgres may grant itself the role (CREATEROLE); rolled back below.
grant supabase_auth_admin to postgres;

-- Calls the hook as supabase_auth_admin and returns its answer. (That role has no USAGE
-- on schema extensions, so pgTAP itself cannot run under it.)
create function pg_temp.hook(p_user uuid, p_claims jsonb default '{}') returns jsonb
language plpgsql as $$
declare
  v jsonb;
begin
  perform set_config('role', 'supabase_auth_admin', true);
  v := public.custom_access_token_hook(jsonb_build_object(
    'user_id', p_user,
    'claims', jsonb_build_object('sub', p_user, 'role', 'authenticated', 'aal', 'aal1') || p_claims,
    'authentication_method', 'password'));
  perform set_config('role', 'none', true);
  return v;
end
$$;

create function pg_temp.members_seen_by_hook_role() returns int
language plpgsql as $$
declare
  n int;
begin
  perform set_config('role', 'supabase_auth_admin', true);
  select count(*) into n from public.tenant_members;
  perform set_config('role', 'none', true);
  return n;
end
$$;

select is(pg_temp.hook(:owner_a),
  jsonb_build_object('claims', jsonb_build_object(
    'sub', :owner_a, 'role', 'authenticated', 'aal', 'aal1',
    'tenant_id', :tenant_a, 'tenant_role', 'owner')),
  'hook: the owner of A gets tenant A, role owner, and keeps every other claim');
select is(pg_temp.hook(:member_b) -> 'claims' ->> 'tenant_id', '00000000-0000-0000-0000-00000000000b',
  'hook: a member of B gets tenant B');
select is(pg_temp.hook(:member_b) -> 'claims' ->> 'tenant_role', 'member',
  'hook: … with role member');
select is(pg_temp.hook(:both) -> 'claims' ->> 'tenant_id', '00000000-0000-0000-0000-00000000000b',
  'hook: a user in two tenants gets the one app_metadata.tenant_id names');
select is(pg_temp.hook(:nobody) -> 'claims', jsonb_build_object(
    'sub', :nobody, 'role', 'authenticated', 'aal', 'aal1'),
  'hook: a user without a tenant gets no tenant claims');
select is(pg_temp.hook(:nobody, '{"tenant_id": "00000000-0000-0000-0000-00000000000a", "tenant_role": "owner"}')
            -> 'claims' ? 'tenant_id', false,
  'hook: stale tenant claims of a user without a tenant are dropped');
select is(pg_temp.hook(gen_random_uuid()) -> 'claims' ? 'tenant_id', false,
  'hook: an unknown user gets no tenant claims');
select is(pg_temp.members_seen_by_hook_role(), (select count(*)::int from public.tenant_members),
  'hook: supabase_auth_admin reads tenant_members through its policy');

update auth.users set raw_app_meta_data = '{"provider": "email"}' where id = :both;
select is(pg_temp.hook(:both) -> 'claims' ->> 'tenant_id', '00000000-0000-0000-0000-00000000000a',
  'hook: without app_metadata.tenant_id a user in two tenants gets the earliest membership');
update auth.users set raw_app_meta_data = '{"tenant_id": "00000000-0000-0000-0000-0000000000ff"}'
 where id = :both;
select is(pg_temp.hook(:both) -> 'claims' ->> 'tenant_id', '00000000-0000-0000-0000-00000000000a',
  'hook: app_metadata naming a tenant the user is not in falls back to the earliest');
update auth.users set raw_app_meta_data = '{"tenant_id": "not-a-uuid"}' where id = :both;
select is(pg_temp.hook(:both) -> 'claims' ->> 'tenant_id', '00000000-0000-0000-0000-00000000000a',
  'hook: a malformed app_metadata.tenant_id is ignored, not an error');

select pg_temp.act_as('authenticated', pg_temp.user_claims(:owner_a, :tenant_a, 'owner'));
select throws_ok($$ select public.custom_access_token_hook('{"user_id": "00000000-0000-0000-0000-0000000000a1", "claims": {}}') $$,
  '42501', null, 'hook: authenticated cannot execute it');
reset role;
select pg_temp.act_as('anon');
select throws_ok($$ select public.custom_access_token_hook('{"user_id": "00000000-0000-0000-0000-0000000000a1", "claims": {}}') $$,
  '42501', null, 'hook: anon cannot execute it');
reset role;

-- =======================================================================================
-- enqueue_envelope, as the agent calls it: service_role through the Data API.
select pg_temp.act_as('service_role');
create temporary table enq as
  select * from public.enqueue_envelope(:tenant_a, 'GITHUB_LIST_ISSUES',
    '{"owner": "acme", "repo": "support"}', 'fn-test-1', 'ca_acme_github',
    '{"score": 0.9}', '{"source": "test"}');
select is((select status from enq), 'pending', 'enqueue: a new envelope is pending');
select is((select (toolkit, risk, read_only) from enq), ('github'::text, 'low'::text, true),
  'enqueue: toolkit, risk and read_only come from the catalog');
select is((select (enqueue_envelope).id from public.enqueue_envelope(:tenant_a, 'GITHUB_LIST_ISSUES',
             '{"owner": "someone", "repo": "else"}', 'fn-test-1')),
          (select id from enq), 'enqueue: the same external_id returns the existing envelope');
select is((select arguments from public.outbox where id = (select id from enq)),
          '{"owner": "acme", "repo": "support"}'::jsonb, '… unchanged');
select is((select count(*)::int from public.outbox
            where tenant_id = :tenant_a and external_id = 'fn-test-1'), 1, '… and only one row');
select isnt((select (enqueue_envelope).id
               from public.enqueue_envelope(:tenant_b, 'GITHUB_LIST_ISSUES', '{}', 'fn-test-1')),
            (select id from enq), 'enqueue: external_id is unique per tenant, not globally');
select isnt((select (enqueue_envelope).id from public.enqueue_envelope(:tenant_a, 'SLACK_LIST_CHANNELS')),
            (select (enqueue_envelope).id from public.enqueue_envelope(:tenant_a, 'SLACK_LIST_CHANNELS')),
            'enqueue: without external_id every call is a new envelope');
select is((select (risk, read_only) from public.enqueue_envelope(:tenant_a, 'GITHUB_DELETE_REPOSITORY')),
          ('high'::text, false), 'enqueue: a destructive tool is high risk and not read-only');
select throws_ok($$ select public.enqueue_envelope('00000000-0000-0000-0000-00000000000a', 'GITHUB_NO_SUCH_TOOL') $$,
  'PT404', 'unknown tool GITHUB_NO_SUCH_TOOL for tenant 00000000-0000-0000-0000-00000000000a',
  'enqueue: an unknown tool raises PT404');
select throws_ok($$ select public.enqueue_envelope('00000000-0000-0000-0000-00000000000b', 'GMAIL_SEND_EMAIL') $$,
  'PT404', 'unknown tool GMAIL_SEND_EMAIL for tenant 00000000-0000-0000-0000-00000000000b',
  'enqueue: a tool another tenant has is unknown for this one');
select throws_like($$ select public.enqueue_envelope('00000000-0000-0000-0000-00000000000b', 'GITHUB_DELETE_REPOSITORY') $$,
  'tool GITHUB_DELETE_REPOSITORY is deprecated for tenant 00000000-0000-0000-0000-00000000000b since %',
  'enqueue: a deprecated tool is refused …');
select throws_ok($$ select public.enqueue_envelope('00000000-0000-0000-0000-00000000000b', 'GITHUB_DELETE_REPOSITORY') $$,
  'PT410', null, '… with PT410');
select throws_ok($$ select public.enqueue_envelope('00000000-0000-0000-0000-00000000000a', 'SLACK_SEND_MESSAGE', '{}', 'a-slack-archived') $$,
  'PT409', 'envelope with external_id a-slack-archived was dead-lettered',
  'enqueue: an external_id in the DLQ is not enqueued again');
reset role;

select pg_temp.act_as('authenticated', pg_temp.user_claims(:owner_a, :tenant_a, 'owner'));
select throws_ok($$ select public.enqueue_envelope('00000000-0000-0000-0000-00000000000a', 'GITHUB_LIST_ISSUES') $$,
  '42501', null, 'enqueue: authenticated cannot execute it');
reset role;
select pg_temp.act_as('anon');
select throws_ok($$ select public.enqueue_envelope('00000000-0000-0000-0000-00000000000a', 'GITHUB_LIST_ISSUES') $$,
  '42501', null, 'enqueue: anon cannot execute it');
reset role;

-- =======================================================================================
-- approve_envelope / reject_envelope. Two fresh needs_approval envelopes in A besides the
-- seeded ones (A …03, B …03).
insert into public.outbox (id, tenant_id, tool_slug, toolkit, risk, status) values
  ('a0000000-0001-0000-0000-0000000000f1', :tenant_a, 'GMAIL_MOVE_TO_TRASH', 'gmail', 'high', 'needs_approval'),
  ('a0000000-0001-0000-0000-0000000000f2', :tenant_a, 'GMAIL_MOVE_TO_TRASH', 'gmail', 'high', 'needs_approval');

select pg_temp.act_as('authenticated', pg_temp.user_claims(:owner_a, :tenant_a, 'owner'));
select is((select status from public.approve_envelope('a0000000-0001-0000-0000-000000000003',
                                                       'Looks right', 'Reply to issue 42')),
          'pending', 'approve: an owner approves a needs_approval envelope of their tenant: pending');
select throws_ok($$ select public.approve_envelope('a0000000-0001-0000-0000-000000000003') $$,
  'PT409', 'envelope a0000000-0001-0000-0000-000000000003 is pending, only a needs_approval envelope can be decided',
  'approve: deciding twice is refused with PT409');
select throws_ok($$ select public.reject_envelope('a0000000-0001-0000-0000-000000000002') $$,
  'PT409', null, 'reject: a succeeded envelope cannot be rejected');
select is((select (status, completed_at is not null)
             from public.reject_envelope('a0000000-0001-0000-0000-0000000000f1', 'Not now')),
          ('rejected'::text, true), 'reject: an owner rejects: rejected and completed');
select throws_ok($$ select public.approve_envelope('a0000000-0001-0000-0000-0000000000ff') $$,
  'PT404', 'envelope a0000000-0001-0000-0000-0000000000ff not found', 'approve: an unknown envelope is PT404');
select is(pg_temp.affected($$ update public.outbox set status = 'pending' where id = 'a0000000-0001-0000-0000-0000000000f2' $$),
  0, 'owners cannot change envelopes directly, only through approve/reject');
reset role;

select is((select array_agg(row(decision, reviewer_id, reason, proposal_summary)::text order by created_at, decision)
             from public.approvals where envelope_id in ('a0000000-0001-0000-0000-000000000003',
                                                          'a0000000-0001-0000-0000-0000000000f1')),
          array[row('approved', :owner_a::uuid, 'Looks right', 'Reply to issue 42')::text,
                row('rejected', :owner_a::uuid, 'Not now', null)::text],
          'approve/reject: each decision is recorded with the reviewer');
select is((select next_run_at from public.outbox where id = 'a0000000-0001-0000-0000-000000000003'),
          now(), 'approve: the approved envelope is due now');

select pg_temp.act_as('authenticated', pg_temp.user_claims(:member_a, :tenant_a, 'member'));
select throws_ok($$ select public.approve_envelope('a0000000-0001-0000-0000-0000000000f2') $$,
  '42501', 'only an owner of the tenant may approve or reject its envelopes',
  'approve: a member cannot decide');
select throws_ok($$ select public.reject_envelope('a0000000-0001-0000-0000-0000000000f2') $$,
  '42501', null, 'reject: a member cannot decide');
reset role;
select pg_temp.act_as('authenticated', pg_temp.user_claims(:owner_b, :tenant_b, 'owner'));
select throws_ok($$ select public.approve_envelope('a0000000-0001-0000-0000-0000000000f2') $$,
  'PT404', 'envelope a0000000-0001-0000-0000-0000000000f2 not found',
  'approve: the owner of another tenant gets not found (no existence leak)');
reset role;
select pg_temp.act_as('authenticated', pg_temp.user_claims(:nobody, null, null));
select throws_ok($$ select public.reject_envelope('a0000000-0001-0000-0000-0000000000f2') $$,
  'PT404', null, 'reject: a user without a tenant gets not found');
reset role;
select pg_temp.act_as('anon');
select throws_ok($$ select public.approve_envelope('a0000000-0001-0000-0000-0000000000f2') $$,
  '42501', null, 'approve: anon cannot execute it');
reset role;
select is((select status from public.outbox where id = 'a0000000-0001-0000-0000-0000000000f2'),
          'needs_approval', 'refused decisions change nothing');

select pg_temp.act_as('service_role');
select is((select (status, next_run_at = now())
             from public.approve_envelope('b0000000-0001-0000-0000-000000000003')),
          ('pending'::text, true), 'approve: service_role may decide any tenant''s envelope');
reset role;
select is((select (tenant_id, reviewer_id) from public.approvals
            where envelope_id = 'b0000000-0001-0000-0000-000000000003'),
          (:tenant_b::uuid, null::uuid), '… recorded without a reviewer, in the envelope''s tenant');
select is((select status from public.reject_envelope('a0000000-0001-0000-0000-0000000000f2')),
          'rejected', 'reject: postgres (jobs) may decide too');

-- =======================================================================================
-- rate_bucket_take
select pg_temp.act_as('service_role');
select is(public.rate_bucket_take(:tenant_a, 'fn-test-kit', 10), 10,
  'rate bucket: a new bucket starts full and grants what is asked');
select is((select (capacity, refill_per_second, tokens) from public.rate_buckets
            where tenant_id = :tenant_a and toolkit = 'fn-test-kit'),
          (60::numeric, 1::numeric, 50::numeric), '… created with capacity 60, 1 token/s, and spent');
select is(public.rate_bucket_take(:tenant_a, 'fn-test-kit', 100), 50,
  'rate bucket: grants only what is left');
select is(public.rate_bucket_take(:tenant_a, 'fn-test-kit', 5), 0, 'rate bucket: empty grants 0');
select is(public.rate_bucket_take(:tenant_a, 'fn-test-kit', 0), 0, 'rate bucket: asking 0 grants 0');
reset role;
update public.rate_buckets set tokens = 0, refilled_at = clock_timestamp() - interval '5.5 seconds'
 where tenant_id = :tenant_a and toolkit = 'fn-test-kit';
select pg_temp.act_as('service_role');
select is(public.rate_bucket_take(:tenant_a, 'fn-test-kit', 10), 5,
  'rate bucket: refills by elapsed time (5.5 s at 1/s: 5 whole tokens)');
select cmp_ok((select tokens from public.rate_buckets
                where tenant_id = :tenant_a and toolkit = 'fn-test-kit'), '>=', 0.5::numeric,
  '… and keeps the fraction');
reset role;
update public.rate_buckets set refilled_at = clock_timestamp() - interval '1 hour'
 where tenant_id = :tenant_a and toolkit = 'fn-test-kit';
select pg_temp.act_as('service_role');
select is(public.rate_bucket_take(:tenant_a, 'fn-test-kit', 1000), 60,
  'rate bucket: refill is capped at capacity');
select throws_ok($$ select public.rate_bucket_take('00000000-0000-0000-0000-00000000000a', 'fn-test-kit', -1) $$,
  '22023', null, 'rate bucket: a negative wish is an error');
reset role;
select pg_temp.act_as('authenticated', pg_temp.user_claims(:owner_a, :tenant_a, 'owner'));
select throws_ok($$ select public.rate_bucket_take('00000000-0000-0000-0000-00000000000a', 'github', 1) $$,
  '42501', null, 'rate bucket: authenticated cannot execute it');
reset role;

-- =======================================================================================
-- tasks: updated_at trigger and per-user RLS.
insert into public.tasks (id, tenant_id, user_id, correlation_id, mandate, created_at, updated_at)
values ('a0000000-000b-0000-0000-0000000000f1', :tenant_a, :member_a, 'fn-test-task',
        'Old task', '2000-01-01', '2000-01-01');
update public.tasks set mandate = 'Renamed' where id = 'a0000000-000b-0000-0000-0000000000f1';
select is((select updated_at from public.tasks where id = 'a0000000-000b-0000-0000-0000000000f1'),
          now(), 'tasks: an update sets updated_at');

select pg_temp.act_as('authenticated', pg_temp.user_claims(:member_a, :tenant_a, 'member'));
select is((select array_agg(correlation_id order by correlation_id) from public.tasks),
          array['corr-a2-0001', 'fn-test-task'], 'tasks: a user sees only their own tasks');
select is(pg_temp.affected($$ update public.tasks set mandate = 'x' where user_id = '00000000-0000-0000-0000-0000000000a1' $$),
          0, 'tasks: a user cannot update a tenant colleague''s task');
select is(pg_temp.affected($$ delete from public.tasks where user_id = '00000000-0000-0000-0000-0000000000a1' $$),
          0, 'tasks: … nor delete it');
select throws_ok($$ insert into public.tasks (tenant_id, user_id, correlation_id, mandate)
                    values ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a1', 'fn-x', 'x') $$,
  '42501', null, 'tasks: a user cannot create a task for someone else');
select throws_ok($$ insert into public.tasks (tenant_id, user_id, correlation_id, mandate)
                    values ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000a2', 'fn-y', 'y') $$,
  '42501', null, 'tasks: a user cannot create a task in another tenant');
select lives_ok($$ insert into public.tasks (tenant_id, user_id, correlation_id, mandate)
                   values ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000a2', 'fn-z', 'z') $$,
  'tasks: a user creates their own task in their tenant');
select is(pg_temp.affected($$ update public.tasks set status = 'cancelled', updated_at = '2000-01-01' where correlation_id = 'fn-test-task' $$),
          1, 'tasks: a user updates their own task');
reset role;
select is((select (status, updated_at) from public.tasks where correlation_id = 'fn-test-task'),
          ('cancelled'::text, now()), '… and the trigger keeps updated_at, whatever the user sent');

-- A user's tasks stay in the tenant of their token: the same user with B's claims (not
-- their tenant, but a token says what it says) sees none of their A tasks.
select pg_temp.act_as('authenticated', pg_temp.user_claims(:member_a, :tenant_b, 'member'));
select is((select count(*)::int from public.tasks), 0,
  'tasks: own tasks are visible only within the token''s tenant');
reset role;

select * from finish();
rollback;
