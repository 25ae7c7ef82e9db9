-- Evidence search budgets: each user of a tenant gets the plan's search_per_minute, refilled
-- continuously, per (tenant, user); a spent budget says how long to wait; a caller no longer
-- a member gets 42501; nobody but the function writes budgets. Everything is rolled back.
begin;
select plan(13);

create function pg_temp.caller(p_user uuid, p_tenant text) returns void
language plpgsql as $$
begin
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims', jsonb_build_object(
    'sub', p_user, 'role', 'authenticated', 'aud', 'authenticated',
    'tenant_id', p_tenant)::text, true);
end
$$;
-- How many of n searches in a row are granted (a loop: a set-returning join would call the
-- function once and repeat its row).
create function pg_temp.takes(n int) returns int
language plpgsql as $$
declare
  granted int := 0;
begin
  for i in 1 .. n loop
    if (select t.granted from public.search_budget_take() t) then
      granted := granted + 1;
    end if;
  end loop;
  return granted;
end
$$;
create function pg_temp.admin() returns void
language plpgsql as $$
begin
  perform set_config('role', 'none', true);
  perform set_config('request.jwt.claims', '', true);
end
$$;

insert into public.plans (slug, name, concurrency_cap_max, max_attempts_max,
                          trust_threshold_min, fairness_weight, task_quota_per_day,
                          search_per_minute)
values ('budget_test', 'Budget test', 2, 5, 0.5, 1, 10, 3);
insert into public.tenants (id, name, plan)
values ('00000000-0000-0000-0000-0000000005e1', 'budget test', 'budget_test');
insert into auth.users (id, aud, role, email) values
  ('00000000-0000-0000-0000-0000000005a1', 'authenticated', 'authenticated', 's1@example.com'),
  ('00000000-0000-0000-0000-0000000005a2', 'authenticated', 'authenticated', 's2@example.com');
insert into public.tenant_members (tenant_id, user_id, role, accepted_at) values
  ('00000000-0000-0000-0000-0000000005e1', '00000000-0000-0000-0000-0000000005a1', 'member', now()),
  ('00000000-0000-0000-0000-0000000005e1', '00000000-0000-0000-0000-0000000005a2', 'member', now());

select pg_temp.caller('00000000-0000-0000-0000-0000000005a1', '00000000-0000-0000-0000-0000000005e1');
select is(pg_temp.takes(3), 3, 'the plan''s three searches a minute are granted');
select ok(not granted and limit_per_minute = 3 and retry_after_seconds between 1 and 20,
          'the fourth is refused, with the seconds until one is back')
  from public.search_budget_take();
select pg_temp.caller('00000000-0000-0000-0000-0000000005a2', '00000000-0000-0000-0000-0000000005e1');
select ok(granted, 'another user of the tenant has a budget of their own')
  from public.search_budget_take();

select pg_temp.caller('00000000-0000-0000-0000-0000000005a1', '00000000-0000-0000-0000-0000000005e1');
select is((select count(*)::int from public.search_budgets), 1, 'a user reads only their own budget');
select throws_ok($$update public.search_budgets set tokens = 100$$, '42501', null,
                 'users cannot refill their budget');
select throws_ok($$insert into public.search_budgets values
                   ('00000000-0000-0000-0000-0000000005e1', '00000000-0000-0000-0000-0000000005a1', 9, now())$$,
                 '42501', null, 'nor create one');

-- Refill: twenty seconds at three a minute is one search back, and never above the plan.
select pg_temp.admin();
update public.search_budgets set refilled_at = refilled_at - interval '20 seconds'
 where user_id = '00000000-0000-0000-0000-0000000005a1';
select pg_temp.caller('00000000-0000-0000-0000-0000000005a1', '00000000-0000-0000-0000-0000000005e1');
select ok(granted, 'time refills the budget') from public.search_budget_take();
select ok(not granted, 'by the elapsed time only') from public.search_budget_take();
select pg_temp.admin();
update public.search_budgets set refilled_at = refilled_at - interval '1 day'
 where user_id = '00000000-0000-0000-0000-0000000005a1';
select pg_temp.caller('00000000-0000-0000-0000-0000000005a1', '00000000-0000-0000-0000-0000000005e1');
select is(pg_temp.takes(5), 3, 'a long pause refills to the plan''s figure, not beyond');

-- A plan change applies at the next search.
select pg_temp.admin();
update public.plans set search_per_minute = 600 where slug = 'budget_test';
update public.search_budgets set refilled_at = refilled_at - interval '1 second'
 where user_id = '00000000-0000-0000-0000-0000000005a1';
select pg_temp.caller('00000000-0000-0000-0000-0000000005a1', '00000000-0000-0000-0000-0000000005e1');
select ok(granted and limit_per_minute = 600, 'a bigger plan refills at its rate')
  from public.search_budget_take();

-- Removed from the tenant: no budget, whatever the token says.
select pg_temp.admin();
delete from public.tenant_members where user_id = '00000000-0000-0000-0000-0000000005a2';
select pg_temp.caller('00000000-0000-0000-0000-0000000005a2', '00000000-0000-0000-0000-0000000005e1');
select throws_ok($$select public.search_budget_take()$$, '42501', null,
                 'a caller who is no longer a member is refused');
select pg_temp.caller('00000000-0000-0000-0000-0000000005a1', 'not-a-uuid');
select throws_ok($$select public.search_budget_take()$$, '42501', null,
                 'so is a token whose tenant_id is no uuid');

select pg_temp.admin();
set local role anon;
select throws_ok($$select public.search_budget_take()$$, '42501', null,
                 'anon may not call it');

select * from finish();
rollback;
