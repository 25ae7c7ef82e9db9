-- RLS matrix: every table in public × every kind of caller × select / insert / update /
-- delete, over the two seeded tenants (supabase/seed.sql). Callers are simulated exactly
-- as PostgREST does it: set local role <anon|authenticated|service_role> and
-- request.jwt.claims. For each case the test states, independently of the policies, which
-- rows the caller should reach, then checks that the statement reaches exactly those:
-- select sees them all and nothing else; update and delete affect as many rows and leave
-- every other row byte-for-byte unchanged; insert succeeds exactly where allowed and fails
-- with 42501 elsewhere. Every write is rolled back. A table added to public without a row
-- in matrix_spec fails the coverage test.
begin;

-- Who calls. uid and tenant come from the seed.
create temporary table matrix_caller (
  ord int, name text, role text, uid uuid, tenant uuid, tenant_role text
);
insert into matrix_caller values
  (1, 'anon', 'anon', null, null, null),
  (2, 'member of A', 'authenticated', '00000000-0000-0000-0000-0000000000a2',
   '00000000-0000-0000-0000-00000000000a', 'member'),
  (3, 'owner of A', 'authenticated', '00000000-0000-0000-0000-0000000000a1',
   '00000000-0000-0000-0000-00000000000a', 'owner'),
  (4, 'member of B', 'authenticated', '00000000-0000-0000-0000-0000000000b2',
   '00000000-0000-0000-0000-00000000000b', 'member'),
  (5, 'owner of B', 'authenticated', '00000000-0000-0000-0000-0000000000b1',
   '00000000-0000-0000-0000-00000000000b', 'owner'),
  (6, 'authenticated without tenant', 'authenticated', '00000000-0000-0000-0000-0000000000c1',
   null, null),
  (7, 'service_role', 'service_role', null, null, null);

-- What each table allows, per operation, to a caller of its tenant:
--   member          any member of the row's tenant
--   owner           an owner of the row's tenant
--   self            the row's user, within the row's tenant (user_id)
--   member_or_self  a member of the row's tenant, or the row's user (user_id)
--   owner_or_self   an owner of the row's tenant, or the row's user (user_id)
--   owner_or_invitee an owner of the row's tenant, or the invited user (user_id)
--   own_row         the row's user (user_id), in any tenant or none
--   authenticated   any signed-in user
--   none            no end user (the service writes; functions decide)
--   immutable       nobody, service_role included (the table rejects it: PT405)
-- anon never reaches anything; service_role reaches everything.
-- insert_sql: format() with %1$L = target tenant, %2$L = the caller's user id (for callers
-- without one, the target tenant's owner); prep_sql runs as postgres first (%1$L tenant).
-- delete_where narrows what the delete case deletes (and so what it should reach).
create temporary table matrix_spec (
  tbl text primary key, tenant_col text,
  sel text, ins text, upd text, del text,
  insert_sql text, update_set text, prep_sql text, delete_where text
);
insert into matrix_spec values
  ('public.tenants', 'id', 'member', 'none', 'none', 'none',
   $$insert into public.tenants (name) values ('matrix tenant')$$,
   $$name = name || ' *'$$, null),
  -- Memberships are made by accepting an invitation (or by the service), never inserted by
  -- an end user; owners change roles and remove members, anyone may leave. The delete case
  -- removes members only: a tenant keeps its last owner (tested in 13_functions).
  ('public.tenant_members', 'tenant_id', 'member_or_self', 'none', 'owner', 'owner_or_self',
   $$insert into public.tenant_members (tenant_id, user_id) values (%1$L, '00000000-0000-0000-0000-0000000000c1')$$,
   $$role = role$$, null),
  ('public.tenant_invitations', 'tenant_id', 'owner_or_invitee', 'owner', 'none',
   'owner_or_invitee',
   $$insert into public.tenant_invitations (tenant_id, email) values (%1$L, 'matrix-' || gen_random_uuid() || '@example.com')$$,
   $$role = role$$, null),
  ('public.user_settings', 'user_id', 'own_row', 'own_row', 'own_row', 'own_row',
   $$insert into public.user_settings (user_id, active_tenant_id) values (%2$L, %1$L)
     on conflict (user_id) do update set active_tenant_id = excluded.active_tenant_id$$,
   $$active_tenant_id = active_tenant_id$$, null),
  ('public.plans', 'slug', 'authenticated', 'none', 'none', 'none',
   $$insert into public.plans (slug, name, concurrency_cap_max, max_attempts_max, trust_threshold_min, fairness_weight, task_quota_per_day, search_per_minute)
     values ('matrix_' || substr(md5(%1$L), 1, 8), 'matrix', 1, 1, 0.5, 1, 1, 1)$$,
   $$name = name || ' *'$$, null),
  ('public.guardrails', 'tenant_id', 'member', 'none', 'owner', 'immutable',
   $$insert into public.guardrails (tenant_id) values (%1$L)
     on conflict (tenant_id) do update set trust_threshold = excluded.trust_threshold$$,
   $$trust_threshold = 0.5$$, null),
  ('public.objectives', 'tenant_id', 'member', 'owner', 'owner', 'owner',
   $$insert into public.objectives (tenant_id, title, metric) values (%1$L, 'matrix', 'm')$$,
   $$title = title || ' *'$$, null),
  -- Rows and the provider's facts are the service's (the connection flow); owners may only
  -- revoke (status) or delete.
  ('public.connected_accounts', 'tenant_id', 'member', 'none', 'owner', 'owner',
   $$insert into public.connected_accounts (tenant_id, toolkit) values (%1$L, 'matrix')$$,
   $$status = 'revoked'$$, null),
  ('public.tool_catalog', 'tenant_id', 'member', 'none', 'none', 'none',
   $$insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, content_hash)
     values (%1$L, 'MATRIX_TOOL', 'matrix', '1', 'low', 'h')$$,
   $$description = coalesce(description, '') || ' *'$$, null),
  ('public.catalog_audit', 'tenant_id', 'member', 'none', 'none', 'none',
   $$insert into public.catalog_audit (tenant_id) values (%1$L)$$,
   $$breaking_count = breaking_count + 1$$, null),
  -- The webhook URL is the owners' configuration: members do not read deliveries.
  ('public.webhook_deliveries', 'tenant_id', 'owner', 'none', 'none', 'none',
   $$insert into public.webhook_deliveries (tenant_id, event, url, body)
     values (%1$L, 'catalog_drift.breaking', 'https://hooks.example.com/drift', '{}')$$,
   $$attempts = attempts + 1$$, null),
  ('public.outbox', 'tenant_id', 'member', 'none', 'none', 'none',
   $$insert into public.outbox (tenant_id, tool_slug, toolkit, risk) values (%1$L, 'MATRIX_TOOL', 'matrix', 'low')$$,
   $$attempts = attempts + 1$$, null),
  ('public.outbox_dlq', 'tenant_id', 'member', 'none', 'none', 'none',
   $$insert into public.outbox_dlq (id, tenant_id, tool_slug, toolkit, risk, status)
     values (gen_random_uuid(), %1$L, 'MATRIX_TOOL', 'matrix', 'low', 'retry')$$,
   $$last_error = coalesce(last_error, '') || ' *'$$, null),
  ('public.approvals', 'tenant_id', 'member', 'none', 'none', 'none',
   $$insert into public.approvals (tenant_id, decision) values (%1$L, 'approved')$$,
   $$reason = coalesce(reason, '') || ' *'$$, null),
  ('public.grades', 'tenant_id', 'member', 'owner', 'none', 'none',
   $$insert into public.grades (tenant_id, grader_id, score) values (%1$L, %2$L, 0.5)$$,
   $$note = coalesce(note, '') || ' *'$$, null),
  ('public.edits', 'tenant_id', 'member', 'owner', 'none', 'none',
   $$insert into public.edits (tenant_id, editor_id, after) values (%1$L, %2$L, '{}')$$,
   $$reason = coalesce(reason, '') || ' *'$$, null),
  ('public.evidence', 'tenant_id', 'member', 'none', 'none', 'none',
   $$insert into public.evidence (tenant_id, content) values (%1$L, '{}')$$,
   $$content_text = coalesce(content_text, '') || ' *'$$, null),
  ('public.evidence_embeddings', 'tenant_id', 'member', 'none', 'none', 'none',
   $$insert into public.evidence_embeddings (tenant_id, source_type, source_id, model, content_hash, content, embedding)
     values (%1$L, 'evidence', gen_random_uuid()::text, 'matrix', 'h', 'c',
             array_fill(0::real, array[384])::extensions.vector)$$,
   $$content = content || ' *'$$, null),
  ('public.job_runs', 'tenant_id', 'member', 'none', 'none', 'none',
   $$insert into public.job_runs (job, tenant_id) values ('matrix', %1$L)$$,
   $$error = coalesce(error, '') || ' *'$$, null),
  ('public.rate_buckets', 'tenant_id', 'member', 'none', 'none', 'none',
   $$insert into public.rate_buckets (tenant_id, toolkit) values (%1$L, 'matrix')$$,
   $$tokens = tokens + 1$$, null),
  -- Search budgets: each user reads their own; only search_budget_take writes them.
  ('public.search_budgets', 'tenant_id', 'self', 'none', 'none', 'none',
   $$insert into public.search_budgets (tenant_id, user_id, tokens, refilled_at)
     values (%1$L, %2$L, 1, now())$$,
   $$tokens = tokens + 1$$, null),
  ('public.tasks', 'tenant_id', 'self', 'self', 'self', 'self',
   $$insert into public.tasks (tenant_id, user_id, correlation_id, mandate)
     values (%1$L, %2$L, 'matrix-' || gen_random_uuid(), 'matrix')$$,
   $$mandate = mandate || ' *'$$, null);

-- audit_log is append-only for everyone (immutable: even service_role's update and delete
-- are rejected, with PT405, and reach no row).
insert into matrix_spec values
  ('public.audit_log', 'tenant_id', 'member', 'none', 'immutable', 'immutable',
   $$insert into public.audit_log (tenant_id, actor_type, category) values (%1$L, 'job', 'matrix')$$,
   $$payload = payload || '{"matrix": true}'$$, null);
update matrix_spec set delete_where = $$role = 'member'$$ where tbl = 'public.tenant_members';

create temporary table matrix_op (ord int, op text);
insert into matrix_op values
  (1, 'select'), (2, 'insert into own tenant'), (3, 'insert into other tenant'),
  (4, 'update'), (5, 'delete');

-- The rows a caller should reach under a rule, as a predicate over the table's columns.
create function pg_temp.reach(p_rule text, p_tenant_col text, c matrix_caller) returns text
language plpgsql as $$
declare
  own_tenant text := format('%I = %L::uuid', p_tenant_col, c.tenant);
begin
  if p_rule = 'immutable' then return 'false'; end if;
  if c.role = 'service_role' then return 'true'; end if;
  if c.role <> 'authenticated'
     or c.tenant is null
        and p_rule not in ('member_or_self', 'owner_or_self', 'owner_or_invitee', 'own_row',
                           'authenticated') then
    return 'false';
  end if;
  return case p_rule
    when 'member' then own_tenant
    when 'owner' then case when c.tenant_role = 'owner' then own_tenant else 'false' end
    when 'self' then format('(%s and user_id = %L::uuid)', own_tenant, c.uid)
    when 'member_or_self' then format('(%s or user_id = %L::uuid)', own_tenant, c.uid)
    when 'owner_or_self' then format('(%s or user_id = %L::uuid)',
      case when c.tenant_role = 'owner' then own_tenant else 'false' end, c.uid)
    when 'owner_or_invitee' then format('(%s or user_id = %L::uuid)',
      case when c.tenant_role = 'owner' then own_tenant else 'false' end, c.uid)
    when 'own_row' then format('user_id = %L::uuid', c.uid)
    when 'authenticated' then 'true'
    when 'none' then 'false'
  end;
end
$$;

-- Hash of a table's rows outside a predicate: equal before and after means untouched.
create function pg_temp.rows_outside(p_tbl text, p_pred text) returns text
language plpgsql as $$
declare
  h text;
begin
  execute format('select md5(coalesce(string_agg(t::text, %L order by t::text), %L))
                    from %s t where not coalesce(%s, false)', E'\n', '', p_tbl, p_pred)
     into h;
  return h;
end
$$;

create function pg_temp.count_where(p_tbl text, p_pred text) returns bigint
language plpgsql as $$
declare
  n bigint;
begin
  execute format('select count(*) from %s where %s', p_tbl, p_pred) into n;
  return n;
end
$$;

-- Deletes the rows of other tables whose foreign keys forbid deleting rows of p_tbl (ON
-- DELETE RESTRICT / NO ACTION, e.g. an append-only log referencing tenants): the matrix
-- tests RLS, not those keys. Runs as postgres inside the case's subtransaction.
create function pg_temp.clear_restricting_references(p_tbl text) returns void
language plpgsql as $$
declare
  r record;
begin
  for r in
    select c.conrelid::regclass as referrer,
           (select string_agg(format('%I is not null', attname), ' and ')
              from pg_attribute where attrelid = c.conrelid and attnum = any (c.conkey)) as pred
      from pg_constraint c
     where c.contype = 'f' and c.confrelid = p_tbl::regclass and c.confdeltype in ('r', 'a')
  loop
    execute format('delete from %s where %s', r.referrer, r.pred);
  end loop;
end
$$;

-- Becomes the caller as PostgREST does (transaction-local, undone with the subtransaction).
create function pg_temp.become(c matrix_caller) returns void
language plpgsql as $$
begin
  perform set_config('role', c.role, true);
  perform set_config('request.jwt.claims', case c.role
    when 'authenticated' then jsonb_strip_nulls(jsonb_build_object(
      'sub', c.uid, 'role', 'authenticated', 'aud', 'authenticated',
      'tenant_id', c.tenant, 'tenant_role', c.tenant_role))
    else jsonb_build_object('role', c.role) end::text, true);
end
$$;

-- One case. Returns NULL when the caller reached exactly the expected rows, else what
-- went wrong. All effects are rolled back (the block ends by raising ZZ999).
create function pg_temp.matrix_case(p_tbl text, p_caller text, p_op text) returns text
language plpgsql as $$
declare
  s matrix_spec;
  c matrix_caller;
  a constant uuid := '00000000-0000-0000-0000-00000000000a';
  b constant uuid := '00000000-0000-0000-0000-00000000000b';
  v_target uuid;
  v_uid uuid;
  v_allowed boolean;
  v_pred text;
  v_expected bigint;
  v_got bigint;
  v_matching bigint;
  v_before text;
  v_after text;
  v_error text;
begin
  select * into strict s from matrix_spec where tbl = p_tbl;
  select * into strict c from matrix_caller where name = p_caller;

  if p_op like 'insert%' then
    v_target := case when p_op = 'insert into own tenant' then coalesce(c.tenant, a)
                     when c.tenant = b then a else b end;
    v_uid := coalesce(c.uid, (select user_id from public.tenant_members
                               where tenant_id = v_target and role = 'owner'
                               order by created_at limit 1));
    v_allowed := c.role = 'service_role'
                 or (c.role = 'authenticated' and s.ins = 'own_row' and c.uid is not null)
                 or (c.role = 'authenticated' and c.tenant = v_target
                     and (s.ins in ('member', 'self')
                          or (s.ins = 'owner' and c.tenant_role = 'owner')));
    begin
      if s.prep_sql is not null then
        execute format(s.prep_sql, v_target);
      end if;
      perform pg_temp.become(c);
      execute format(s.insert_sql, v_target, v_uid);
      get diagnostics v_got = row_count;
      raise exception using errcode = 'ZZ999';
    exception
      when sqlstate 'ZZ999' then null;
      when others then v_error := sqlstate || ' ' || sqlerrm;
    end;
    if v_allowed and (v_error is not null or v_got <> 1) then
      return format('insert should succeed, got %s', coalesce(v_error, v_got || ' rows'));
    elsif not v_allowed and v_error is null then
      return 'insert should fail, but it succeeded';
    elsif not v_allowed and v_error not like '42501 %' then
      return format('insert should fail with 42501 (RLS), got %s', v_error);
    end if;
    return null;
  end if;

  v_pred := pg_temp.reach(case p_op when 'select' then s.sel when 'update' then s.upd
                                    else s.del end, s.tenant_col, c);
  if p_op = 'delete' and s.delete_where is not null then
    v_pred := format('(%s and %s)', v_pred, s.delete_where);
  end if;
  v_expected := pg_temp.count_where(s.tbl, v_pred);
  v_before := pg_temp.rows_outside(s.tbl, v_pred);
  begin
    if p_op = 'delete' then
      perform pg_temp.clear_restricting_references(s.tbl);
    end if;
    perform pg_temp.become(c);
    if p_op = 'select' then
      execute format('select count(*), count(*) filter (where %s) from %s', v_pred, s.tbl)
         into v_got, v_matching;
    elsif p_op = 'update' then
      execute format('update %s set %s', s.tbl, s.update_set);
      get diagnostics v_got = row_count;
    else
      execute format('delete from %s where %s', s.tbl, coalesce(s.delete_where, 'true'));
      get diagnostics v_got = row_count;
    end if;
    perform set_config('role', 'none', true);
    v_after := pg_temp.rows_outside(s.tbl, v_pred);
    raise exception using errcode = 'ZZ999';
  exception
    when sqlstate 'ZZ999' then null;
    when sqlstate '42501' then
      -- No privilege for the statement at all (a column grant, say): it reached no row.
      if v_expected = 0 then v_got := 0; v_after := v_before;
      else v_error := sqlstate || ' ' || sqlerrm;
      end if;
    when sqlstate 'PT405' then
      -- An immutable table rejected the statement: it reached (changed) no row.
      if v_pred = 'false' and (case p_op when 'update' then s.upd else s.del end) = 'immutable'
      then v_got := 0; v_after := v_before;
      else v_error := sqlstate || ' ' || sqlerrm;
      end if;
    when others then v_error := sqlstate || ' ' || sqlerrm;
  end;
  if v_error is not null then
    return format('%s failed: %s', p_op, v_error);
  elsif v_got <> v_expected then
    return format('%s reached %s rows, expected %s', p_op, v_got, v_expected);
  elsif p_op = 'select' and v_matching <> v_got then
    return format('select saw %s rows it should not', v_got - v_matching);
  elsif v_after is distinct from v_before then
    return format('%s changed rows outside the expected set', p_op);
  end if;
  return null;
end
$$;

-- The whole matrix as TAP lines, in a stable order.
create function pg_temp.matrix() returns setof text
language plpgsql as $$
declare
  r record;
begin
  for r in
    select s.tbl, c.name, o.op
      from matrix_spec s cross join matrix_caller c cross join matrix_op o
     order by s.tbl, c.ord, o.ord
  loop
    return next is(pg_temp.matrix_case(r.tbl, r.name, r.op), null,
                   format('%s: %s, %s', r.tbl, r.name, r.op));
  end loop;
end
$$;

-- Runs one case with a policy sabotaged (the DDL is rolled back with the subtransaction).
create function pg_temp.sabotaged(p_ddl text, p_tbl text, p_caller text, p_op text)
returns text
language plpgsql as $$
declare
  v text;
begin
  begin
    execute p_ddl;
    v := pg_temp.matrix_case(p_tbl, p_caller, p_op);
    raise exception using errcode = 'ZZ999';
  exception when sqlstate 'ZZ999' then null;
  end;
  return v;
end
$$;

select plan((select count(*)::int from matrix_spec) * (select count(*)::int from matrix_caller)
            * (select count(*)::int from matrix_op) + 6);

select is(
  array(select format('%I.%I', 'public', c.relname) from pg_class c
         where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
           and format('%I.%I', 'public', c.relname) not in (select tbl from matrix_spec)
         order by 1),
  '{}'::text[], 'every table in public is in the matrix');

select is(
  array(select s.tbl || ' of ' || t.name from matrix_spec s
          cross join (values ('A', '00000000-0000-0000-0000-00000000000a'),
                             ('B', '00000000-0000-0000-0000-00000000000b')) as t (name, id)
         where s.tenant_col in ('tenant_id', 'id')
           and pg_temp.count_where(s.tbl, format('%I = %L::uuid', s.tenant_col, t.id)) = 0
         order by 1),
  '{}'::text[], 'the seed has rows of both tenants in every table');

select * from pg_temp.matrix();

-- The matrix catches broken policies.
select isnt(pg_temp.sabotaged(
  'alter policy guardrails_select_member on public.guardrails using (false)',
  'public.guardrails', 'member of A', 'select'), null,
  'a policy of using (false) fails the matrix');
select isnt(pg_temp.sabotaged(
  'alter policy tenants_select_member on public.tenants using (true)',
  'public.tenants', 'member of B', 'select'), null,
  'a policy of using (true) fails the matrix');
select isnt(pg_temp.sabotaged(
  $$alter policy objectives_update_owner on public.objectives
      using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid)
      with check (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid)$$,
  'public.objectives', 'member of A', 'update'), null,
  'an update policy that forgets the owner check fails the matrix');
select isnt(pg_temp.sabotaged(
  $$alter policy tasks_select_own on public.tasks
      using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid)$$,
  'public.tasks', 'member of A', 'select'), null,
  'a tasks policy that forgets the user fails the matrix');

select * from finish();
rollback;
