-- outbox-drain's flow control in SQL (20261204220000_flow_control): weighted fairness across
-- tenants in outbox_claim (plans.fairness_weight, internal.outbox_fair_share), priorities
-- within a tenant, a tenant at its cap not taking a claim's place, and the per-batch tokens
-- of internal.outbox_rate_take from the tenant's rate bucket and the project's Composio
-- bucket (internal.composio_rate_observe). Deterministic: claims are made and settled in
-- this transaction, nothing through HTTP. Everything rolls back.
begin;
select plan(18);

-- Only this file's envelopes are due.
update public.outbox set next_run_at = now() + interval '1 day'
 where internal.outbox_waiting(status);

-- Fairness: three backlogged tenants on plans weighing 1, 2 and 4, caps not binding.
insert into public.tenants (id, name, plan) values
  ('32000000-0000-0000-0000-000000000001', 'weight 1', 'free'),
  ('32000000-0000-0000-0000-000000000002', 'weight 2', 'pro'),
  ('32000000-0000-0000-0000-000000000004', 'weight 4', 'enterprise');
update public.guardrails set concurrency_cap = 2
 where tenant_id = '32000000-0000-0000-0000-000000000001';
update public.guardrails set concurrency_cap = 16
 where tenant_id = '32000000-0000-0000-0000-000000000002';
update public.guardrails set concurrency_cap = 100
 where tenant_id = '32000000-0000-0000-0000-000000000004';
insert into public.outbox (tenant_id, tool_slug, toolkit, risk, read_only, next_run_at)
select t.id, 'T_READ', 'tk', 'low', true, now() - make_interval(secs => n)
  from (values ('32000000-0000-0000-0000-000000000001'::uuid),
               ('32000000-0000-0000-0000-000000000002'::uuid),
               ('32000000-0000-0000-0000-000000000004'::uuid)) t (id),
       generate_series(1, 2500) n;

create temporary table fair_claims (tenant_id uuid, round int);
-- 500 claims of 7, each settled before the next: 3,500 envelopes claimed.
do $$
declare
  r int;
begin
  for r in 1 .. 500 loop
    with c as (select * from public.outbox_claim('fair', 7, 60000))
    insert into fair_claims select c.tenant_id, r from c;
    update public.outbox set status = 'succeeded', lease_token = null, lease_expires_at = null,
                             completed_at = now()
     where status = 'running' and claimed_by = 'fair';
  end loop;
end
$$;
select is((select count(*)::int from fair_claims), 3500, '500 claims of 7 take 3,500 envelopes');
select ok(abs(count(*) / 3500.0 - 1 / 7.0) <= 0.1 / 7,
          format('weight 1 gets 1/7 of the drain, within 10 %% (%s)', count(*)))
  from fair_claims where tenant_id = '32000000-0000-0000-0000-000000000001';
select ok(abs(count(*) / 3500.0 - 2 / 7.0) <= 0.1 * 2 / 7,
          format('weight 2 gets 2/7, within 10 %% (%s)', count(*)))
  from fair_claims where tenant_id = '32000000-0000-0000-0000-000000000002';
select ok(abs(count(*) / 3500.0 - 4 / 7.0) <= 0.1 * 4 / 7,
          format('weight 4 gets 4/7, within 10 %% (%s)', count(*)))
  from fair_claims where tenant_id = '32000000-0000-0000-0000-000000000004';
select is((select count(distinct round)::int from fair_claims
            where tenant_id = '32000000-0000-0000-0000-000000000001'), 500,
          'no tenant starves: even the lightest gets envelopes in every claim of 7');

-- One envelope per claim: the shares still follow the weights (stride order across claims).
delete from fair_claims;
do $$
begin
  for r in 1 .. 700 loop
    with c as (select * from public.outbox_claim('fair', 1, 60000))
    insert into fair_claims select c.tenant_id, r from c;
    update public.outbox set status = 'succeeded', lease_token = null, lease_expires_at = null,
                             completed_at = now()
     where status = 'running' and claimed_by = 'fair';
  end loop;
end
$$;
select is(array(select count(*)::int from fair_claims group by tenant_id order by tenant_id),
          array[100, 200, 400], 'claims of one: 100, 200 and 400 of 700');

-- A tenant back after a pause starts where the others are, not where it stopped.
update internal.outbox_fair_share set pass = 0, claimed_at = now() - interval '1 hour'
 where tenant_id = '32000000-0000-0000-0000-000000000001';
delete from fair_claims;
do $$
begin
  for r in 1 .. 70 loop
    with c as (select * from public.outbox_claim('fair', 1, 60000))
    insert into fair_claims select c.tenant_id, r from c;
    update public.outbox set status = 'succeeded', lease_token = null, lease_expires_at = null,
                             completed_at = now()
     where status = 'running' and claimed_by = 'fair';
  end loop;
end
$$;
select ok(count(*) between 8 and 12,
          format('a returning tenant does not take the drain over to catch up (%s of 70)', count(*)))
  from fair_claims where tenant_id = '32000000-0000-0000-0000-000000000001';

-- A tenant at its cap does not take a claim's place.
update public.outbox set status = 'running', lease_token = gen_random_uuid(),
                         lease_expires_at = now() + interval '1 hour', claimed_by = 'other'
 where id in (select id from public.outbox
               where tenant_id = '32000000-0000-0000-0000-000000000001' and status = 'pending'
               limit 2);
update internal.outbox_fair_share set pass = 0
 where tenant_id = '32000000-0000-0000-0000-000000000001';
select is((select count(*)::int from public.outbox_claim('capped', 1, 60000)), 1,
          'a claim of one skips the tenant at its cap (lowest pass) and serves another');
update public.outbox set status = 'succeeded', lease_token = null, lease_expires_at = null
 where status = 'running';

-- Priorities: within a tenant, highest first, then earliest due.
insert into public.tenants (id, name, plan)
values ('32000000-0000-0000-0000-0000000000a1', 'priorities', 'enterprise');
update public.guardrails set concurrency_cap = 10
 where tenant_id = '32000000-0000-0000-0000-0000000000a1';
update public.outbox set next_run_at = now() + interval '1 day'
 where internal.outbox_waiting(status);
insert into public.outbox (tenant_id, tool_slug, toolkit, risk, read_only, next_run_at, priority,
                           external_id)
values ('32000000-0000-0000-0000-0000000000a1', 'T_READ', 'tk', 'low', true,
        now() - interval '3 minutes', 1, 'p1-old'),
       ('32000000-0000-0000-0000-0000000000a1', 'T_READ', 'tk', 'low', true,
        now() - interval '1 minute', 9, 'p9-new'),
       ('32000000-0000-0000-0000-0000000000a1', 'T_READ', 'tk', 'low', true,
        now() - interval '2 minutes', 9, 'p9-old'),
       ('32000000-0000-0000-0000-0000000000a1', 'T_READ', 'tk', 'low', true,
        now() - interval '5 minutes', 5, 'p5');
select is(array(select o.external_id from public.outbox_claim('prio', 2, 60000) c
                  join public.outbox o on o.id = c.id),
          array['p9-old', 'p9-new'], 'the highest priority first, earliest due among equals');
select is(array(select o.external_id from public.outbox_claim('prio', 10, 60000) c
                  join public.outbox o on o.id = c.id),
          array['p5', 'p1-old'], 'then the default, then the lowest');
select throws_ok($$insert into public.outbox (tenant_id, tool_slug, toolkit, risk, priority)
                   values ('32000000-0000-0000-0000-0000000000a1', 'T', 'tk', 'low', 10)$$,
                 '23514', null, 'a priority outside 0..9 is refused');

-- Tokens per batch: the tenant's bucket.
insert into public.rate_buckets (tenant_id, toolkit, capacity, tokens, refill_per_second,
                                 refilled_at)
values ('32000000-0000-0000-0000-0000000000a1', 'slow', 2, 2, 1, clock_timestamp());
select is((select array[granted, wanted] from internal.outbox_rate_take(
             '[{"tenant_id": "32000000-0000-0000-0000-0000000000a1", "toolkit": "slow", "n": 5}]')),
          array[2, 5], 'a pair gets what its bucket holds');
select ok((select retry_at between now() and clock_timestamp() + interval '2 seconds'
             from internal.outbox_rate_take(
               '[{"tenant_id": "32000000-0000-0000-0000-0000000000a1", "toolkit": "slow", "n": 1}]')),
          'and the rest may go when its next token comes');

-- The project's Composio bucket, as answers report it.
select is((select granted from internal.outbox_rate_take(
             '[{"tenant_id": "32000000-0000-0000-0000-0000000000a1", "toolkit": "fast", "n": 5}]')),
          5, 'no limit reported yet: the project bucket holds nothing back');
select internal.composio_rate_observe(600, 3, 600, null, false);
select is((select array_agg(granted order by ord) from (
             select granted, row_number() over () as ord from internal.outbox_rate_take(
               '[{"tenant_id": "32000000-0000-0000-0000-0000000000a1", "toolkit": "fast", "n": 2},
                 {"tenant_id": "32000000-0000-0000-0000-0000000000a1", "toolkit": "other", "n": 2}]')) s),
          array[2, 1], 'three left in the window: the first pair gets 2, the next 1, in order');
select is((select (rate_limit, window_seconds) from internal.composio_rate_limit)::text,
          '(600,600)', 'the limit and window are what Composio said, nothing hard-coded');
select internal.composio_rate_observe(null, null, null, 30000, true);
select ok((select granted = 0 and retry_at between now() + interval '29 seconds'
                                              and clock_timestamp() + interval '31 seconds'
             from internal.outbox_rate_take(
               '[{"tenant_id": "32000000-0000-0000-0000-0000000000a1", "toolkit": "fast", "n": 1}]')),
          'a 429 closes the project''s bucket until its Retry-After');
select throws_ok($$select * from internal.outbox_rate_take('{}')$$, '22023', null,
                 'wants must be an array');

select * from finish();
rollback;
