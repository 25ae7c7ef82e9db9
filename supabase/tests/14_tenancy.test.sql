-- Tenancy that holds, one case per finding of the review (an attacker holding the accounts
-- of a tenant-B owner and member): an owner cannot put other users into their tenant (only
-- invitations, which change nothing until accepted), removal and demotion take effect at
-- once, owners choose guardrails within their plan, nothing references another tenant's
-- rows, the API roles hold no sequence, and a tenant cannot name another tenant's Composio
-- account (only the service writes the provider's ids). Callers as PostgREST makes them: set
-- local role and request.jwt.claims. Everything is rolled back.
begin;
select plan(42);

create function pg_temp.caller(p_user uuid, p_tenant uuid, p_role text default 'owner')
returns void
language plpgsql as $$
begin
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims', jsonb_strip_nulls(jsonb_build_object(
    'sub', p_user, 'role', 'authenticated', 'aud', 'authenticated',
    'tenant_id', p_tenant, 'tenant_role', p_role))::text, true);
end
$$;

create function pg_temp.rows_changed(p_sql text) returns int
language plpgsql as $$
declare
  n int;
begin
  execute p_sql;
  get diagnostics n = row_count;
  return n;
end
$$;

-- The tenant a user's next token names, as Auth runs the hook.
create function pg_temp.token_tenant(p_user uuid) returns text
language plpgsql as $$
declare
  v jsonb;
begin
  perform set_config('role', 'supabase_auth_admin', true);
  v := public.custom_access_token_hook(jsonb_build_object('user_id', p_user, 'claims', '{}'::jsonb));
  perform set_config('role', 'none', true);
  return v -> 'claims' ->> 'tenant_id';
end
$$;
grant supabase_auth_admin to postgres;

\set a '''00000000-0000-0000-0000-00000000000a'''
\set b '''00000000-0000-0000-0000-00000000000b'''
\set owner_a '''00000000-0000-0000-0000-0000000000a1'''
\set member_a '''00000000-0000-0000-0000-0000000000a2'''
\set owner_b '''00000000-0000-0000-0000-0000000000b1'''
\set member_b '''00000000-0000-0000-0000-0000000000b2'''
\set nobody '''00000000-0000-0000-0000-0000000000c1'''

-- --- 1. owners cannot add users; invitations wait for acceptance ------------------------
select pg_temp.caller(:owner_b, :b);
select throws_ok(format($$insert into public.tenant_members (tenant_id, user_id, role, created_at)
                          values (%L, %L, 'owner', '2000-01-01')$$, :b, :owner_a),
                 '42501', null, 'an owner cannot insert a membership for another tenant''s user');
select throws_ok(format($$insert into public.tenant_members (tenant_id, user_id)
                          values (%L, %L)$$, :b, :owner_a),
                 '42501', null, '… not even without timestamps');
select lives_ok(format($$insert into public.tenant_invitations (tenant_id, user_id, role)
                         values (%L, %L, 'owner')$$, :b, :owner_a),
                'an owner invites a user of another tenant, as owner');
select throws_ok(format($$insert into public.tenant_invitations (tenant_id, user_id, created_at)
                          values (%L, %L, '2000-01-01')$$, :b, :member_a),
                 '42501', null, 'an owner cannot set an invitation''s timestamps');
reset role;
select is(pg_temp.token_tenant(:owner_a), '00000000-0000-0000-0000-00000000000a',
          'the open invitation changes nothing in the invitee''s token');
select is((select count(*)::int from public.tenant_members where user_id = :owner_a and tenant_id = :b),
          0, 'and makes no membership');

select pg_temp.caller(:owner_a, :a);
select is((select count(*)::int from public.tenant_invitations where user_id = :owner_a), 1,
          'the invitee sees the invitation made to them');
select lives_ok(format($$select public.accept_invitation(
                            (select id from public.tenant_invitations
                              where tenant_id = %L and user_id = %L))$$, :b, :owner_a),
                'the invitee accepts');
reset role;
select is((select role || ':' || (accepted_at = now())::text from public.tenant_members
            where user_id = :owner_a and tenant_id = :b),
          'owner:true', 'accepting makes the membership with the server''s time');
select is(pg_temp.token_tenant(:owner_a), '00000000-0000-0000-0000-00000000000a',
          'a newer membership does not take over the token: the earliest accepted stays');

select pg_temp.caller(:member_b, :b, 'member');
select throws_ok(format($$select public.accept_invitation(
                            (select id from public.tenant_invitations
                              where tenant_id = %L and email = 'prospect@example.com'))$$, :b),
                 'PT404', null, 'nobody accepts an invitation made to someone else');
reset role;

-- The user's own choice picks among their memberships, only while they are a member.
select pg_temp.caller(:owner_a, :a);
insert into public.user_settings (user_id, active_tenant_id) values (:owner_a, :b);
reset role;
select is(pg_temp.token_tenant(:owner_a), '00000000-0000-0000-0000-00000000000b',
          'the user''s own choice names the tenant of their token');
delete from public.tenant_members where user_id = :owner_a and tenant_id = :b;
select is(pg_temp.token_tenant(:owner_a), '00000000-0000-0000-0000-00000000000a',
          'a choice of a tenant they left is ignored');

-- --- 2. removal and demotion take effect at once -----------------------------------------
select pg_temp.caller(:member_b, :b, 'member');
select cmp_ok((select count(*)::int from public.outbox), '>', 0, 'a member of B reads B''s outbox');
reset role;
delete from public.tenant_members where user_id = :member_b and tenant_id = :b;
select pg_temp.caller(:member_b, :b, 'member');
select is((select count(*)::int from public.outbox), 0,
          'removed, the same token reads nothing: membership is checked at query time');
select is((select count(*)::int from public.tenants), 0, '… not even the tenant');
reset role;
update public.tenant_members set role = 'member' where user_id = :owner_b and tenant_id = :b;
insert into public.tenant_members (tenant_id, user_id, role) values (:b, :nobody, 'owner');
select pg_temp.caller(:owner_b, :b, 'owner');
select is(pg_temp.rows_changed($$update public.guardrails set trust_threshold = 0.8$$),
          0, 'demoted, a token still saying owner changes no guardrails');
select throws_ok(format($$select public.approve_envelope(%L, 'ok')$$,
                        'b0000000-0001-0000-0000-000000000003'),
                 '42501', null, '… and decides no envelope');
reset role;

-- A tenant keeps an owner.
select pg_temp.caller(:nobody, :b, 'owner');
select throws_ok(format($$delete from public.tenant_members where user_id = %L and tenant_id = %L$$,
                        :nobody, :b),
                 'PT409', null, 'the last owner cannot leave');
select throws_ok(format($$update public.tenant_members set role = 'member' where user_id = %L$$,
                        :nobody),
                 'PT409', null, '… nor be demoted');
reset role;

-- --- 3. guardrails within the plan --------------------------------------------------------
select pg_temp.caller(:nobody, :b, 'owner');
select throws_ok($$update public.guardrails set concurrency_cap = 2147483647$$, '23514',
                 'guardrails.concurrency_cap 2147483647 is above the free plan''s limit of 2',
                 'an owner cannot lift the concurrency cap past the plan');
select throws_ok($$update public.guardrails set trust_threshold = 0$$, '23514',
                 'guardrails.trust_threshold 0 is below the free plan''s floor of 0.5',
                 '… nor drop the trust threshold below its floor');
select throws_ok($$update public.guardrails set max_attempts = '{"low": 999999, "medium": 3, "high": 1}'$$,
                 '23514', 'guardrails.max_attempts.low 999999 is above the free plan''s limit of 5',
                 '… nor raise attempts past it');
select lives_ok($$update public.guardrails set concurrency_cap = 2, trust_threshold = 0.5$$,
                'within the plan, the owner decides');
reset role;
update public.tenants set plan = 'pro' where id = :b;
update public.guardrails set concurrency_cap = 16 where tenant_id = :b;
update public.tenants set plan = 'free' where id = :b;
select is((select concurrency_cap from public.guardrails where tenant_id = :b), 2,
          'moving to a smaller plan brings the guardrails inside it');
select pg_temp.caller(:nobody, :b, 'owner');
select throws_ok($$insert into public.plans (slug, name, concurrency_cap_max, max_attempts_max,
                     trust_threshold_min, fairness_weight, task_quota_per_day, search_per_minute)
                   values ('mine', 'Mine', 1000000, 1000000, 0, 1000, 1, 1)$$,
                 '42501', null, 'plans are the service''s');
reset role;

-- --- 4. no cross-tenant references ------------------------------------------------------
select throws_ok(format($$insert into public.grades (tenant_id, approval_id, score)
                          values (%L, (select id from public.approvals where tenant_id = %L limit 1), 0.5)$$,
                        :b, :a),
                 '23503', null, 'a grade cannot point at another tenant''s approval');
select throws_ok(format($$insert into public.edits (tenant_id, envelope_id, after)
                          values (%L, (select id from public.outbox where tenant_id = %L limit 1), '{}')$$,
                        :b, :a),
                 '23503', null, 'an edit cannot point at another tenant''s envelope');
select throws_ok(format($$insert into public.tasks (tenant_id, user_id, objective_id, correlation_id, mandate)
                          values (%L, %L, (select id from public.objectives where tenant_id = %L limit 1), 'x-1', 'm')$$,
                        :b, :owner_b, :a),
                 '23503', null, 'a task cannot point at another tenant''s objective');
insert into public.tasks (tenant_id, user_id, correlation_id, mandate) values
  (:a, :owner_a, 'shared-id', 'm'), (:b, :owner_b, 'shared-id', 'm');
select is((select count(*)::int from public.tasks where correlation_id = 'shared-id'), 2,
          'correlation ids are unique per tenant: another tenant''s id is neither revealed nor reserved');

-- --- 5. no sequences for the API roles ---------------------------------------------------
select is(
  array(select format('%s: %s', s.oid::regclass, r.rolname)
          from pg_class s
          join pg_namespace n on n.oid = s.relnamespace
          cross join (values ('anon'), ('authenticated')) as r (rolname)
         where s.relkind = 'S' and n.nspname = 'public'
           and (has_sequence_privilege(r.rolname, s.oid, 'usage')
                or has_sequence_privilege(r.rolname, s.oid, 'select')
                or has_sequence_privilege(r.rolname, s.oid, 'update'))
         order by 1),
  '{}'::text[], 'no sequence in public is usable by anon or authenticated');
set local role anon;
select throws_ok($$select setval('public.audit_log_id_seq', 1)$$, '42501', null,
                 'anon cannot setval the audit log''s sequence');
reset role;

-- --- 6. Composio accounts: the provider's ids are the service's ---------------------------
-- B's owner at this point is :nobody (made owner in 2). The review's case: B's owner wrote
-- A's Composio account id into a row of B's, and the drain executed B's envelopes with it.
select pg_temp.caller(:nobody, :b, 'owner');
select throws_ok(format($$insert into public.connected_accounts (tenant_id, toolkit, external_account_id, status)
                          values (%L, 'github', 'ca_acme_github', 'active')$$, :b),
                 '42501', null, 'an owner cannot insert an account naming another tenant''s Composio account');
select throws_ok(format($$insert into public.connected_accounts (tenant_id, toolkit) values (%L, 'github')$$, :b),
                 '42501', null, '… nor any account: the connection flow (the service) makes them');
select throws_ok($$update public.connected_accounts set external_account_id = 'ca_acme_github'
                    where id = 'b0000000-0009-0000-0000-000000000001'$$,
                 '42501', null, 'an owner cannot point an account at another Composio account');
select throws_ok($$update public.connected_accounts
                      set verified_external_account_id = 'ca_acme_github', verified_owned = true,
                          verified_at = now()
                    where id = 'b0000000-0009-0000-0000-000000000001'$$,
                 '42501', null, '… nor mark an account as checked with Composio');
select throws_ok($$update public.connected_accounts set scopes = '{repo,delete_repo}', linked_at = now()
                    where id = 'b0000000-0009-0000-0000-000000000001'$$,
                 '42501', null, '… nor grant it scopes or a link time');
select throws_ok($$update public.connected_accounts set status = 'active'
                    where id = 'b0000000-0009-0000-0000-000000000003'$$,
                 '42501', null, 'an owner cannot activate an account: Composio says when it is active');
select is(pg_temp.rows_changed($$update public.connected_accounts set status = 'revoked'
                                  where id = 'b0000000-0009-0000-0000-000000000002'$$),
          1, 'an owner revokes an account of their tenant');
select throws_ok($$update public.connected_accounts set status = 'active'
                    where id = 'b0000000-0009-0000-0000-000000000002'$$,
                 '42501', null, '… and cannot take the revocation back');
select is(pg_temp.rows_changed($$delete from public.connected_accounts
                                  where id = 'b0000000-0009-0000-0000-000000000003'$$),
          1, 'an owner deletes an account of their tenant');
select pg_temp.caller(:member_a, :a, 'member');
select is(pg_temp.rows_changed($$update public.connected_accounts set status = 'revoked'$$),
          0, 'a member revokes nothing');
reset role;

select * from finish();
rollback;
