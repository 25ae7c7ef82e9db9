-- Realtime channels of seed 001: a tenant's outbox, approval and activity events broadcast
-- from the database on private channels outbox:, approvals: and activity:<tenant_id>, which
-- only the tenant's members may join (a SELECT policy on realtime.messages; no write policy,
-- so clients cannot forge events). Statement-level SECURITY DEFINER triggers publish with
-- realtime.send, the queue depth at most once a second per tenant. The current definitions
-- are in supabase/schemas/80_realtime; this migration is those files in order (pg-delta's
-- draft missed the policy on realtime.messages, a platform table).

-- 80_realtime/0100_function_realtime_topic_tenant.sql
-- Realtime channels of a tenant: outbox:<tenant_id>, approvals:<tenant_id> and
-- activity:<tenant_id>, private (RLS on realtime.messages decides who may listen), written
-- only by the publishing triggers below. The tenant a topic names, for the policies: the
-- topic must be exactly one of those, with the tenant id in the canonical lowercase form
-- the triggers publish on; anything else is no tenant (NULL), never an error.
create function internal.realtime_topic_tenant(p_topic text) returns uuid
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_topic ~ '^(outbox|approvals|activity):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
  then
    return pg_catalog.split_part(p_topic, ':', 2)::uuid;
  end if;
  return null;
end
$$;
revoke execute on function internal.realtime_topic_tenant(text) from public;
-- The policy on realtime.messages calls it as the joining user.
grant execute on function internal.realtime_topic_tenant(text) to authenticated;
comment on function internal.realtime_topic_tenant(text) is
  'The tenant a Realtime topic names (outbox:<id>, approvals:<id>, activity:<id>, lowercase uuid), else NULL (never an error). The realtime.messages policy compares it with the caller''s active tenant.';

-- 80_realtime/0200_policies_realtime_messages.sql
-- Who may listen on a tenant's channels. Hosted Realtime authorizes a private channel join
-- by selecting a probe row of realtime.messages as the joining user, with realtime.topic set
-- to the channel's topic, in a transaction it rolls back: members of the topic's tenant see
-- it (membership checked now, internal.active_tenant_id), nobody else does. SELECT only: no
-- INSERT policy, so no client can broadcast on these channels (Realtime tests an INSERT
-- before relaying a client's broadcast); only the SECURITY DEFINER publishing triggers write
-- them. Policies on realtime.messages are what supautils lets postgres create on hosted (the
-- local migration runner runs them as the superuser, stack/migrate.ts).
create policy tenant_channels_select_member on realtime.messages
  for select to authenticated
  using (
    extension = 'broadcast'
    and topic = (select realtime.topic())
    and (select internal.realtime_topic_tenant(realtime.topic()))
        = (select internal.active_tenant_id())
  );
comment on policy tenant_channels_select_member on realtime.messages is
  'Members of a tenant may join (listen on) its private channels outbox:, approvals:, activity:<tenant_id>: broadcast messages of the joined topic only. No write policy: clients cannot send on them.';

-- 80_realtime/0300_table_realtime_queue_depth.sql
-- The queue-depth throttle: when each tenant's depth was last published on outbox:<tenant>,
-- and what it was. Publishing triggers publish at most once a second per tenant; the
-- minute flush (internal.realtime_flush_queue_depth) publishes a depth that changed after
-- the last publish without a later one.
create table internal.realtime_queue_depth (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  published_at timestamptz not null default '-infinity',
  depth jsonb
);
alter table internal.realtime_queue_depth enable row level security;
comment on table internal.realtime_queue_depth is
  'Per tenant: when its queue depth was last published on outbox:<tenant_id> and the depth published (the once-a-second throttle and the minute flush).';
comment on column internal.realtime_queue_depth.tenant_id is 'The tenant.';
comment on column internal.realtime_queue_depth.published_at is 'When its depth was last published (-infinity: never).';
comment on column internal.realtime_queue_depth.depth is 'The depth published then (counts by status).';

-- 80_realtime/0400_function_realtime_queue_depth_of.sql
-- A tenant's queue depth: its envelopes in each status that is not final (succeeded and
-- rejected are not counted; dead letters live in outbox_dlq). Counts only, read from
-- outbox_tenant_status_idx.
create function internal.realtime_queue_depth_of(p_tenant_id uuid) returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
           'pending', count(*) filter (where o.status = 'pending'),
           'retry', count(*) filter (where o.status = 'retry'),
           'deferred', count(*) filter (where o.status = 'deferred'),
           'running', count(*) filter (where o.status = 'running'),
           'needs_approval', count(*) filter (where o.status = 'needs_approval'),
           'conflict', count(*) filter (where o.status = 'conflict'),
           'unknown_outcome', count(*) filter (where o.status = 'unknown_outcome'))
    from public.outbox o
   where o.tenant_id = p_tenant_id
     and o.status in ('pending', 'retry', 'deferred', 'running', 'needs_approval', 'conflict',
                      'unknown_outcome')
$$;
revoke execute on function internal.realtime_queue_depth_of(uuid) from public;
comment on function internal.realtime_queue_depth_of(uuid) is
  'The tenant''s envelopes per non-final status ({pending, retry, deferred, running, needs_approval, conflict, unknown_outcome}), as published in queue_depth events.';

-- 80_realtime/0500_function_realtime_publish_queue_depth.sql
-- Publishes the queue depth of each given tenant on outbox:<tenant_id> (event queue_depth),
-- at most once a second per tenant: the drain changes envelopes many times a second, and a
-- count per statement would cost its hot path. Nothing waits: the throttle row is taken
-- with SKIP LOCKED, so while one transaction publishes a tenant's depth the others skip it
-- (the minute flush catches a change nobody published).
create function internal.realtime_publish_queue_depth(p_tenant_ids uuid[]) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_due uuid[];
  v_depth jsonb;
  v_tenant uuid;
begin
  -- A tenant's first event makes its row. Only missing rows are inserted: an INSERT … ON
  -- CONFLICT meeting a row that another transaction is updating would wait for it. A tenant
  -- being deleted (its envelopes go with it) has no depth to publish.
  insert into internal.realtime_queue_depth (tenant_id)
  select t.id from unnest(p_tenant_ids) as t (id)
   where not exists (select 1 from internal.realtime_queue_depth s where s.tenant_id = t.id)
     and exists (select 1 from public.tenants x where x.id = t.id)
  on conflict (tenant_id) do nothing;
  select array_agg(x.tenant_id) into v_due
    from (select s.tenant_id from internal.realtime_queue_depth s
           where s.tenant_id = any (p_tenant_ids)
             and s.published_at <= pg_catalog.clock_timestamp() - interval '1 second'
           order by s.tenant_id
           for update skip locked) x;
  if v_due is null then
    return;
  end if;
  foreach v_tenant in array v_due loop
    v_depth := internal.realtime_queue_depth_of(v_tenant);
    perform realtime.send(jsonb_build_object('tenant_id', v_tenant, 'depth', v_depth),
                          'queue_depth', 'outbox:' || v_tenant, true);
    update internal.realtime_queue_depth
       set published_at = pg_catalog.clock_timestamp(), depth = v_depth
     where tenant_id = v_tenant;
  end loop;
end
$$;
revoke execute on function internal.realtime_publish_queue_depth(uuid[]) from public;
comment on function internal.realtime_publish_queue_depth(uuid[]) is
  'Publishes queue_depth {tenant_id, depth} on outbox:<tenant_id> for each tenant whose depth was not published in the last second (internal.realtime_queue_depth, SKIP LOCKED: never waits). SECURITY DEFINER: callers need no access to the throttle or realtime.messages.';

-- 80_realtime/0600_function_realtime_publish_envelopes.sql
-- One tenant's share of an outbox statement, as messages: `envelopes` on outbox:<tenant_id>
-- ({tenant_id, op, count, truncated, envelopes: [{id, status, previous_status, tool_slug,
-- attempts}]}, at most 100 listed), and for envelopes that now wait for a person,
-- `approval_requested` on approvals:<tenant_id> ({tenant_id, envelopes: [{id, tool_slug}]}).
-- Ids, statuses, counts and tool slugs only: never arguments, results or errors.
create function internal.realtime_publish_envelopes(
  p_tenant_id uuid,
  p_op text,
  p_count integer,
  p_listed jsonb,
  p_requested jsonb
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.send(
    jsonb_build_object('tenant_id', p_tenant_id, 'op', p_op, 'count', p_count,
                       'truncated', p_count > jsonb_array_length(p_listed),
                       'envelopes', p_listed),
    'envelopes', 'outbox:' || p_tenant_id, true);
  if jsonb_array_length(p_requested) > 0 then
    perform realtime.send(
      jsonb_build_object('tenant_id', p_tenant_id, 'envelopes', p_requested),
      'approval_requested', 'approvals:' || p_tenant_id, true);
  end if;
end
$$;
revoke execute on function internal.realtime_publish_envelopes(uuid, text, integer, jsonb, jsonb)
  from public;
comment on function internal.realtime_publish_envelopes(uuid, text, integer, jsonb, jsonb) is
  'Sends one tenant''s envelope changes of a statement: envelopes {tenant_id, op, count, truncated, envelopes: [{id, status, previous_status, tool_slug, attempts}]} on outbox:<tenant_id>, and approval_requested {tenant_id, envelopes: [{id, tool_slug}]} on approvals:<tenant_id> for those now needs_approval.';

-- 80_realtime/0700_function_realtime_outbox_publish.sql
-- Statement triggers on outbox: after each statement that inserts envelopes, changes their
-- status or removes them (a move to the DLQ), one `envelopes` message per tenant touched
-- (internal.realtime_publish_envelopes), then those tenants' queue depth, throttled
-- (internal.realtime_publish_queue_depth). A statement that changes no status (the drain's
-- outbox_mark_sending) publishes nothing. Statement-level with transition tables: one
-- message per statement and tenant, however many envelopes it moved. Messages go out after
-- commit; a rolled-back statement publishes nothing.
--
-- SECURITY DEFINER (owned by postgres, fixed search_path): the writing role needs no access
-- to realtime.messages, and members cannot write these channels themselves.
create function internal.realtime_outbox_publish() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  v_tenants uuid[] := '{}';
begin
  if tg_op = 'INSERT' then
    for r in
      select n.tenant_id, count(*)::int as n,
             to_jsonb((array_agg(jsonb_build_object('id', n.id, 'status', n.status,
                                                    'previous_status', null,
                                                    'tool_slug', n.tool_slug,
                                                    'attempts', n.attempts)
                                 order by n.id))[1:100]) as listed,
             coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'tool_slug', n.tool_slug)
                                order by n.id) filter (where n.status = 'needs_approval'),
                      '[]') as requested
        from new_rows n
       group by n.tenant_id
    loop
      perform internal.realtime_publish_envelopes(r.tenant_id, 'insert', r.n, r.listed,
                                                  r.requested);
      v_tenants := v_tenants || r.tenant_id;
    end loop;
  elsif tg_op = 'UPDATE' then
    for r in
      select n.tenant_id, count(*)::int as n,
             to_jsonb((array_agg(jsonb_build_object('id', n.id, 'status', n.status,
                                                    'previous_status', o.status,
                                                    'tool_slug', n.tool_slug,
                                                    'attempts', n.attempts)
                                 order by n.id))[1:100]) as listed,
             coalesce(jsonb_agg(jsonb_build_object('id', n.id, 'tool_slug', n.tool_slug)
                                order by n.id) filter (where n.status = 'needs_approval'),
                      '[]') as requested
        from new_rows n
        join old_rows o on o.id = n.id
       where n.status is distinct from o.status
       group by n.tenant_id
    loop
      perform internal.realtime_publish_envelopes(r.tenant_id, 'update', r.n, r.listed,
                                                  r.requested);
      v_tenants := v_tenants || r.tenant_id;
    end loop;
  else
    for r in
      select o.tenant_id, count(*)::int as n,
             to_jsonb((array_agg(jsonb_build_object(
                        'id', o.id,
                        'status', case when exists (select 1 from public.outbox_dlq d
                                                     where d.id = o.id)
                                       then 'dead_lettered' else 'deleted' end,
                        'previous_status', o.status, 'tool_slug', o.tool_slug,
                        'attempts', o.attempts)
                                 order by o.id))[1:100]) as listed
        from old_rows o
       -- Envelopes that go with their tenant are no event of that tenant's.
       where exists (select 1 from public.tenants t where t.id = o.tenant_id)
       group by o.tenant_id
    loop
      perform internal.realtime_publish_envelopes(r.tenant_id, 'delete', r.n, r.listed,
                                                  '[]'::jsonb);
      v_tenants := v_tenants || r.tenant_id;
    end loop;
  end if;
  if cardinality(v_tenants) > 0 then
    perform internal.realtime_publish_queue_depth(v_tenants);
  end if;
  return null;
end
$$;
revoke execute on function internal.realtime_outbox_publish() from public;
comment on function internal.realtime_outbox_publish() is
  'AFTER INSERT/UPDATE/DELETE statement trigger on outbox: per tenant touched, an envelopes message on outbox:<tenant_id> for the inserted, status-changed or removed envelopes (and approval_requested on approvals:<tenant_id>), then the throttled queue_depth. Ids, statuses, counts, tool slugs only.';

create trigger realtime_publish_insert after insert on public.outbox
  referencing new table as new_rows
  for each statement execute function internal.realtime_outbox_publish();
create trigger realtime_publish_update after update on public.outbox
  referencing old table as old_rows new table as new_rows
  for each statement execute function internal.realtime_outbox_publish();
create trigger realtime_publish_delete after delete on public.outbox
  referencing old table as old_rows
  for each statement execute function internal.realtime_outbox_publish();

-- 80_realtime/0800_function_realtime_approvals_publish.sql
-- Approval outcomes on approvals:<tenant_id>: after each statement that records decisions,
-- one `approval_decided` message per tenant ({tenant_id, count, truncated, approvals: [{id,
-- envelope_id, decision, reviewer_id}]}, at most 100 listed). The reviewer's reason and the
-- proposal summary are not sent: free text stays in the table, behind its RLS.
create function internal.realtime_approvals_publish() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
begin
  for r in
    select a.tenant_id, count(*)::int as n,
           to_jsonb((array_agg(jsonb_build_object('id', a.id, 'envelope_id', a.envelope_id,
                                                  'decision', a.decision,
                                                  'reviewer_id', a.reviewer_id)
                               order by a.created_at, a.id))[1:100]) as listed
      from new_rows a
     group by a.tenant_id
  loop
    perform realtime.send(
      jsonb_build_object('tenant_id', r.tenant_id, 'count', r.n, 'truncated', r.n > 100,
                         'approvals', r.listed),
      'approval_decided', 'approvals:' || r.tenant_id, true);
  end loop;
  return null;
end
$$;
revoke execute on function internal.realtime_approvals_publish() from public;
comment on function internal.realtime_approvals_publish() is
  'AFTER INSERT statement trigger on approvals: per tenant, approval_decided {tenant_id, count, truncated, approvals: [{id, envelope_id, decision, reviewer_id}]} on approvals:<tenant_id>. No reasons or summaries.';

create trigger realtime_publish after insert on public.approvals
  referencing new table as new_rows
  for each statement execute function internal.realtime_approvals_publish();

-- 80_realtime/0900_function_realtime_activity_publish.sql
-- Guardrail and plan changes on activity:<tenant_id>, after each statement: a tenant's
-- guardrails row changed (`guardrails_changed` {tenant_id, changed_columns}: names only, as
-- the audit log records them; values such as the drift webhook URL are not sent), or its
-- plan, which bounds what owners may choose (`plan_changed` {tenant_id, plan,
-- previous_plan}). One message per statement and tenant; a statement that changes nothing
-- publishes nothing.
create function internal.realtime_activity_publish() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
begin
  if tg_table_name = 'guardrails' then
    for r in
      select n.tenant_id,
             (select coalesce(jsonb_agg(k.key order by k.key), '[]')
                from jsonb_each(to_jsonb(n)) k
               where k.value is distinct from to_jsonb(o) -> k.key
                 and k.key <> 'updated_at') as changed
        from new_rows n
        join old_rows o on o.id = n.id
    loop
      if jsonb_array_length(r.changed) > 0 then
        perform realtime.send(
          jsonb_build_object('tenant_id', r.tenant_id, 'changed_columns', r.changed),
          'guardrails_changed', 'activity:' || r.tenant_id, true);
      end if;
    end loop;
  else
    for r in
      select n.id as tenant_id, n.plan, o.plan as previous_plan
        from new_rows n
        join old_rows o on o.id = n.id
       where n.plan is distinct from o.plan
    loop
      perform realtime.send(
        jsonb_build_object('tenant_id', r.tenant_id, 'plan', r.plan,
                           'previous_plan', r.previous_plan),
        'plan_changed', 'activity:' || r.tenant_id, true);
    end loop;
  end if;
  return null;
end
$$;
revoke execute on function internal.realtime_activity_publish() from public;
comment on function internal.realtime_activity_publish() is
  'AFTER UPDATE statement trigger on guardrails and tenants: guardrails_changed {tenant_id, changed_columns} (names only) and plan_changed {tenant_id, plan, previous_plan} on activity:<tenant_id>.';

create trigger realtime_publish after update on public.guardrails
  referencing old table as old_rows new table as new_rows
  for each statement execute function internal.realtime_activity_publish();
create trigger realtime_publish after update on public.tenants
  referencing old table as old_rows new table as new_rows
  for each statement execute function internal.realtime_activity_publish();

-- 80_realtime/1000_function_realtime_flush_queue_depth.sql
-- The trailing edge of the queue-depth throttle: a change made within a second of the last
-- publish, with no statement after it, would leave listeners with a stale depth. Every
-- minute (schedule below) this publishes the depth of each recently active tenant whose
-- depth is not the one last published. Skips rows a publishing transaction holds.
create function internal.realtime_flush_queue_depth() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  v_depth jsonb;
  v_sent integer := 0;
begin
  for r in
    select s.tenant_id, s.depth from internal.realtime_queue_depth s
     where s.published_at > now() - interval '10 minutes'
       and s.published_at <= pg_catalog.clock_timestamp() - interval '1 second'
     order by s.tenant_id
     for update skip locked
  loop
    v_depth := internal.realtime_queue_depth_of(r.tenant_id);
    if v_depth is distinct from r.depth then
      perform realtime.send(jsonb_build_object('tenant_id', r.tenant_id, 'depth', v_depth),
                            'queue_depth', 'outbox:' || r.tenant_id, true);
      update internal.realtime_queue_depth
         set published_at = pg_catalog.clock_timestamp(), depth = v_depth
       where tenant_id = r.tenant_id;
      v_sent := v_sent + 1;
    end if;
  end loop;
  return v_sent;
end
$$;
revoke execute on function internal.realtime_flush_queue_depth() from public;
comment on function internal.realtime_flush_queue_depth() is
  'Every minute: publishes queue_depth for tenants active in the last 10 minutes whose depth differs from the one last published (the throttle''s trailing edge). Returns how many it sent.';

-- 80_realtime/1100_schedule_realtime_queue_depth_flush.sql
-- Housekeeping (pg_cron, as postgres), as trim-cron-history: not a jobs.register'ed job.
select cron.schedule('realtime-queue-depth-flush', '* * * * *',
  $$select internal.realtime_flush_queue_depth()$$);

