-- Catalog jobs: the SQL side of catalog-sync, trickle-refresh and drift-monitor.
--
-- * catalog-sync: per-tenant due marks (internal.catalog_sync_due; the nightly schedule
--   marks every tenant, a frequent tick drains them), one set-based upsert per toolkit page
--   (internal.catalog_upsert: unchanged tools are not written at all), deprecation of
--   vanished tools (internal.catalog_deprecate_missing), and the warm scan: a trigger on
--   connected_accounts that invokes catalog-sync when an account becomes active.
-- * trickle-refresh: the refresh schedule per (tenant, toolkit) beside the tool definitions
--   (internal.trickle_schedule, a stable 30–60 min interval and phase per pair from a hash),
--   claiming due pairs (internal.trickle_claim_due) and enqueueing read-only tools within the
--   tenant × toolkit rate bucket (internal.trickle_enqueue).
-- * drift-monitor: comparing stored schemas with Composio's latest
--   (internal.catalog_drift_compare), recording one snapshot per tenant and run with its
--   audit row and the optional breaking-drift webhook (internal.catalog_drift_record), the
--   webhook URL itself (guardrails.drift_webhook_url).
-- * jobs.register / jobs.schedule for the three functions.

-- ---------------------------------------------------------------------------------------
-- catalog-sync: due marks
create table internal.catalog_sync_due (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  due_at timestamptz not null default now(),
  attempts int not null default 0 check (attempts >= 0),
  last_error text
);
create index catalog_sync_due_due_at_idx on internal.catalog_sync_due (due_at);
alter table internal.catalog_sync_due enable row level security;
comment on table internal.catalog_sync_due is
  'Tenants whose catalog needs a full catalog-sync: marked nightly (or on demand), drained by the frequent tick, one tenant per lease. A row is removed when a sync that started after due_at succeeds.';
comment on column internal.catalog_sync_due.tenant_id is 'The tenant to sync.';
comment on column internal.catalog_sync_due.due_at is 'Not synced before this time (a failed sync pushes it back).';
comment on column internal.catalog_sync_due.attempts is 'Failed syncs since the tenant was marked due.';
comment on column internal.catalog_sync_due.last_error is 'Error of the last failed sync.';

create function internal.catalog_mark_due(p_tenant_id uuid default null) returns integer
language sql
set search_path = ''
as $$
  with marked as (
    insert into internal.catalog_sync_due (tenant_id, due_at)
    select t.id, now() from public.tenants t where p_tenant_id is null or t.id = p_tenant_id
    on conflict (tenant_id) do update
      set due_at = least(internal.catalog_sync_due.due_at, excluded.due_at), attempts = 0,
          last_error = null
    returning 1
  )
  select count(*)::int from marked
$$;
comment on function internal.catalog_mark_due(uuid) is
  'Marks every tenant (or one) due for a full catalog-sync now; returns how many were marked.';

create function internal.catalog_clear_due(p_tenant_id uuid, p_sync_started_at timestamptz)
returns boolean
language sql
set search_path = ''
as $$
  with gone as (
    delete from internal.catalog_sync_due
     where tenant_id = p_tenant_id and due_at <= p_sync_started_at
    returning 1
  )
  select exists (select 1 from gone)
$$;
comment on function internal.catalog_clear_due(uuid, timestamptz) is
  'Removes the tenant''s due mark after a successful sync, unless it was marked again after the sync started.';

create function internal.catalog_defer_due(p_tenant_id uuid, p_error text) returns timestamptz
language sql
set search_path = ''
as $$
  -- Backoff 5, 10, 20 … minutes, at most 6 hours.
  update internal.catalog_sync_due
     set attempts = attempts + 1, last_error = left(p_error, 1000),
         due_at = now() + least(interval '6 hours', interval '5 minutes' * power(2, attempts))
   where tenant_id = p_tenant_id
  returning due_at
$$;
comment on function internal.catalog_defer_due(uuid, text) is
  'Records a failed sync of a due tenant and pushes its due_at back (5 min doubling, at most 6 h).';

-- ---------------------------------------------------------------------------------------
-- catalog-sync: the upsert. Tools arrive as one JSON array per page batch, already
-- normalised and hashed by the function (supabase/functions/_shared/catalog_normalize.ts),
-- with tool_catalog's column names as keys.
create function internal.catalog_changed_slugs(p_tenant_id uuid, p_slugs text[],
                                               p_hashes text[])
returns setof text
language sql
stable
set search_path = ''
as $$
  -- Which of these tools differ from the tenant's current rows (new, another hash, or
  -- deprecated): only those need their full definition sent to catalog_upsert.
  select h.slug
    from unnest(p_slugs, p_hashes) as h (slug, hash)
   where not exists (select 1 from public.tool_catalog c
                      where c.tenant_id = p_tenant_id and c.tool_slug = h.slug
                        and c.is_current and c.content_hash = h.hash
                        and c.deprecated_at is null)
$$;
comment on function internal.catalog_changed_slugs(uuid, text[], text[]) is
  'The slugs among p_slugs whose content hash (p_hashes, same order) differs from the tenant''s current row, or that are new or deprecated. Read-only: lets catalog-sync send full definitions only for tools that changed.';

create function internal.catalog_upsert(p_tenant_id uuid, p_toolkit text, p_tools jsonb)
returns table (added integer, changed integer, unchanged integer, restored integer)
language plpgsql
set search_path = ''
as $$
declare
  -- The batch, parsed once: tool_catalog rows (only the columns the batch names are set),
  -- one per slug (checked) so that no statement touches a row twice.
  v_rows public.tool_catalog[];
  v_in_place integer := 0;
  v_restored integer := 0;
  v_retired integer := 0;
  v_inserted integer := 0;
begin
  if p_tools is null or jsonb_typeof(p_tools) <> 'array' then
    raise exception 'p_tools must be a JSON array' using errcode = '22023';
  end if;
  select coalesce(array_agg(r), '{}') into v_rows
    from jsonb_populate_recordset(null::public.tool_catalog, p_tools) r;
  if exists (select 1 from unnest(v_rows) i
              where i.toolkit is distinct from p_toolkit or i.tool_slug is null) then
    raise exception 'every tool of the batch needs a slug and toolkit %', p_toolkit
      using errcode = '22023';
  end if;
  if (select count(distinct i.tool_slug) from unnest(v_rows) i) <> cardinality(v_rows) then
    raise exception 'a slug appears twice in the batch' using errcode = '22023';
  end if;

  -- 1. Same version, new content (Composio edited the tool without a new toolkit version),
  --    or a deprecated tool that is back: update the current row in place. Rows whose hash
  --    matches and that are not deprecated are not touched at all (no new row version).
  with cls as (
    select c.id as row_id, c.content_hash <> i.content_hash as differs, i.*
      from unnest(v_rows) i
      join public.tool_catalog c
        on c.tenant_id = p_tenant_id and c.tool_slug = i.tool_slug and c.is_current
     where c.version = i.version
       and (c.content_hash <> i.content_hash or c.deprecated_at is not null)
  ), upd as (
    update public.tool_catalog t
       set toolkit = cls.toolkit, display_name = cls.display_name,
           description = cls.description, input_schema = coalesce(cls.input_schema, '{}'),
           output_schema = coalesce(cls.output_schema, '{}'),
           required_scopes = coalesce(cls.required_scopes, '{}'), tags = coalesce(cls.tags, '{}'),
           risk = cls.risk, read_only = coalesce(cls.read_only, false),
           content_hash = cls.content_hash, synced_version = cls.synced_version,
           deprecated_at = null, synced_at = now()
      from cls
     where t.id = cls.row_id
    returning cls.differs
  )
  select count(*) filter (where differs), count(*) filter (where not differs)
    into v_in_place, v_restored
    from upd;

  -- 2. A new version: the current row of another version stops being current ...
  update public.tool_catalog c
     set is_current = false
    from unnest(v_rows) i
   where c.tenant_id = p_tenant_id and c.tool_slug = i.tool_slug and c.is_current
     and c.version <> i.version;
  get diagnostics v_retired = row_count;

  -- 3. ... and new tools and new versions get a current row (an older row of that version,
  --    if the toolkit went back to it, becomes current again).
  insert into public.tool_catalog as t (
    tenant_id, tool_slug, toolkit, display_name, description, version, input_schema,
    output_schema, required_scopes, tags, risk, read_only, content_hash, synced_version,
    is_current, deprecated_at, synced_at)
  select p_tenant_id, i.tool_slug, i.toolkit, i.display_name, i.description, i.version,
         coalesce(i.input_schema, '{}'), coalesce(i.output_schema, '{}'),
         coalesce(i.required_scopes, '{}'), coalesce(i.tags, '{}'), i.risk,
         coalesce(i.read_only, false), i.content_hash, i.synced_version, true, null, now()
    from unnest(v_rows) i
   where not exists (select 1 from public.tool_catalog c
                      where c.tenant_id = p_tenant_id and c.tool_slug = i.tool_slug
                        and c.is_current)
  on conflict (tenant_id, tool_slug, version) do update
    set toolkit = excluded.toolkit, display_name = excluded.display_name,
        description = excluded.description, input_schema = excluded.input_schema,
        output_schema = excluded.output_schema, required_scopes = excluded.required_scopes,
        tags = excluded.tags, risk = excluded.risk, read_only = excluded.read_only,
        content_hash = excluded.content_hash, synced_version = excluded.synced_version,
        is_current = true, deprecated_at = null, synced_at = now();
  get diagnostics v_inserted = row_count;

  added := v_inserted - v_retired;
  changed := v_in_place + v_retired;
  restored := v_restored;
  unchanged := cardinality(v_rows) - added - changed - restored;
  return next;
end
$$;
comment on function internal.catalog_upsert(uuid, text, jsonb) is
  'Upserts one batch of normalised tools of one toolkit for a tenant, set-based: an unchanged content_hash writes nothing; a changed tool of the same version is updated in place; a new version becomes the current row (the old one stays, not current); a returning deprecated tool is restored. Returns (added, changed, unchanged, restored).';

create function internal.catalog_deprecate_missing(p_tenant_id uuid, p_toolkit text,
                                                   p_seen text[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_missing text[];
  v_count integer;
begin
  -- The set difference first: a set operation is hashed or sorted, never the nested loop
  -- (every row against every seen slug) a join over unnest(p_seen) can get planned as.
  select coalesce(array_agg(m.slug), '{}') into v_missing
    from (select c.tool_slug as slug
            from public.tool_catalog c
           where c.tenant_id = p_tenant_id and c.toolkit = p_toolkit and c.is_current
             and c.deprecated_at is null
          except
          select unnest(p_seen)) m;
  if cardinality(v_missing) = 0 then
    return 0;
  end if;
  -- Then one index probe per vanished tool.
  update public.tool_catalog c
     set deprecated_at = now()
    from unnest(v_missing) m (slug)
   where c.tenant_id = p_tenant_id and c.tool_slug = m.slug and c.is_current
     and c.deprecated_at is null;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
comment on function internal.catalog_deprecate_missing(uuid, text, text[]) is
  'Marks the tenant''s current tools of a toolkit that Composio no longer lists (not in p_seen) as deprecated; never deletes. Returns how many.';

-- ---------------------------------------------------------------------------------------
-- trickle-refresh: schedule beside the tool definitions
create table internal.trickle_schedule (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  toolkit text not null check (btrim(toolkit) <> ''),
  interval_seconds integer not null check (interval_seconds between 1800 and 3600),
  phase_seconds integer not null check (phase_seconds >= 0),
  next_due_at timestamptz not null default now(),
  last_window_start timestamptz,
  last_run_at timestamptz,
  primary key (tenant_id, toolkit),
  check (phase_seconds < interval_seconds)
);
create index trickle_schedule_next_due_idx on internal.trickle_schedule (next_due_at);
alter table internal.trickle_schedule enable row level security;
comment on table internal.trickle_schedule is
  'When trickle-refresh next refreshes each (tenant, toolkit): every interval_seconds (30–60 min), windows offset by phase_seconds; both come from a hash of the pair, so refreshes spread over the hour and stay put. Rows are added by catalog-sync for every toolkit it synced.';
comment on column internal.trickle_schedule.tenant_id is 'The tenant.';
comment on column internal.trickle_schedule.toolkit is 'Toolkit slug (the refresh category).';
comment on column internal.trickle_schedule.interval_seconds is 'Refresh interval, 1800–3600 s, stable per pair.';
comment on column internal.trickle_schedule.phase_seconds is 'Offset of the pair''s windows from the Unix epoch grid (the stable jitter).';
comment on column internal.trickle_schedule.next_due_at is 'The pair is due from this time (the start of its next window).';
comment on column internal.trickle_schedule.last_window_start is 'Start of the window last refreshed; envelope external ids carry it.';
comment on column internal.trickle_schedule.last_run_at is 'When the pair was last claimed.';

create function internal.trickle_window(p_tenant_id uuid, p_toolkit text, p_at timestamptz)
returns table (interval_seconds integer, phase_seconds integer, window_start timestamptz)
language sql
immutable
set search_path = ''
as $$
  with h as (
    select (hashtextextended(p_tenant_id::text || '/' || p_toolkit, 0)
            & 9223372036854775807) as v
  ), p as (
    select (1800 + v % 1801)::int as iv, v / 1801 as rest from h
  ), q as (
    select iv, (rest % iv)::int as ph from p
  )
  select iv, ph,
         to_timestamp(floor((extract(epoch from p_at) - ph) / iv) * iv + ph)
    from q
$$;
comment on function internal.trickle_window(uuid, text, timestamptz) is
  'The pair''s stable refresh interval (1800–3600 s) and phase from a hash of (tenant, toolkit), and the start of the window containing p_at.';

create function internal.trickle_schedule_add(p_tenant_id uuid, p_toolkit text) returns boolean
language sql
set search_path = ''
as $$
  with added as (
    insert into internal.trickle_schedule (tenant_id, toolkit, interval_seconds, phase_seconds,
                                           next_due_at)
    select p_tenant_id, p_toolkit, w.interval_seconds, w.phase_seconds,
           w.window_start + make_interval(secs => w.interval_seconds)
      from internal.trickle_window(p_tenant_id, p_toolkit, now()) w
    on conflict (tenant_id, toolkit) do nothing
    returning 1
  )
  select exists (select 1 from added)
$$;
comment on function internal.trickle_schedule_add(uuid, text) is
  'Adds (tenant, toolkit) to the refresh schedule, first due at the start of its next window; does nothing (no write) when it is there. True when added.';

create function internal.trickle_claim_due(p_limit integer, p_tenant_id uuid default null,
                                           p_toolkit text default null,
                                           p_immediate boolean default false)
returns table (tenant_id uuid, toolkit text, window_start timestamptz)
language sql
set search_path = ''
as $$
  -- Due pairs (or, immediate, the named ones whatever their due time), locked with SKIP
  -- LOCKED and moved to their next window in the same statement: two invocations never
  -- claim one pair for one window.
  with due as (
    select s.tenant_id, s.toolkit, w.window_start,
           w.window_start + make_interval(secs => w.interval_seconds) as next_due_at
      from internal.trickle_schedule s
      cross join lateral internal.trickle_window(s.tenant_id, s.toolkit, now()) w
     where (p_tenant_id is null or s.tenant_id = p_tenant_id)
       and (p_toolkit is null or s.toolkit = p_toolkit)
       and (s.next_due_at <= now() or p_immediate)
     order by s.next_due_at
     limit p_limit
       for update of s skip locked
  )
  update internal.trickle_schedule s
     set last_window_start = d.window_start, next_due_at = d.next_due_at, last_run_at = now()
    from due d
   where s.tenant_id = d.tenant_id and s.toolkit = d.toolkit
  returning s.tenant_id, s.toolkit, d.window_start
$$;
comment on function internal.trickle_claim_due(integer, uuid, text, boolean) is
  'Claims up to p_limit due (tenant, toolkit) pairs (SKIP LOCKED), moves each to its next window and returns it with the current window start. p_immediate claims the filtered pairs whatever their due time (warm scan).';

create function internal.trickle_enqueue(p_tenant_id uuid, p_toolkit text,
                                         p_window_start timestamptz, p_max integer)
returns table (eligible integer, granted integer, enqueued integer)
language plpgsql
set search_path = ''
as $$
declare
  v_window text := to_char(p_window_start at time zone 'UTC', 'YYYYMMDD"T"HH24MISS"Z"');
  v_prefix text := 'trickle:' || p_toolkit || ':';
  v_account text;
  v_slugs text[];
begin
  if p_max is null or p_max < 0 then
    raise exception 'p_max must be a non-negative integer, got %', p_max using errcode = '22023';
  end if;
  -- Taking nothing creates and refills the bucket and locks its row until commit, so
  -- concurrent refreshes of this pair run one after the other from here on and each sees
  -- the envelopes the previous one enqueued.
  perform public.rate_bucket_take(p_tenant_id, p_toolkit, 0);

  -- Read-only, current, not deprecated tools callable without arguments, not yet
  -- enqueued (or dead-lettered) for this window, in slug order.
  select coalesce(array_agg(x.tool_slug order by x.tool_slug), '{}') into v_slugs
    from (select c.tool_slug
            from public.tool_catalog c
           where c.tenant_id = p_tenant_id and c.toolkit = p_toolkit and c.is_current
             and c.deprecated_at is null and c.read_only
             and case jsonb_typeof(c.input_schema -> 'required')
                   when 'array' then jsonb_array_length(c.input_schema -> 'required') = 0
                   else true end
             and not exists (select 1 from public.outbox o
                              where o.tenant_id = p_tenant_id
                                and o.external_id = v_prefix || c.tool_slug || ':' || v_window)
             and not exists (select 1 from public.outbox_dlq o
                              where o.tenant_id = p_tenant_id
                                and o.external_id = v_prefix || c.tool_slug || ':' || v_window)
           order by c.tool_slug
           limit p_max) x;
  eligible := cardinality(v_slugs);

  granted := public.rate_bucket_take(p_tenant_id, p_toolkit, eligible);

  select a.external_account_id into v_account
    from public.connected_accounts a
   where a.tenant_id = p_tenant_id and a.toolkit = p_toolkit and a.status = 'active'
   order by a.linked_at desc nulls last, a.created_at desc
   limit 1;

  select count(*)::int into enqueued
    from (select public.enqueue_envelope(
                   p_tenant_id, t.slug, '{}'::jsonb,
                   v_prefix || t.slug || ':' || v_window, v_account, '{}'::jsonb,
                   jsonb_build_object('source', 'trickle-refresh', 'window_start', p_window_start))
            from unnest(v_slugs[1:granted]) as t (slug)
         ) e;
  return next;
end
$$;
comment on function internal.trickle_enqueue(uuid, text, timestamptz, integer) is
  'Enqueues refresh envelopes (external_id trickle:<toolkit>:<tool>:<window start>, idempotent) for the tenant''s read-only tools of a toolkit that take no required arguments, at most p_max and never more than rate_bucket_take grants. Returns (eligible, granted, enqueued).';

-- ---------------------------------------------------------------------------------------
-- drift-monitor
alter table public.guardrails add column drift_webhook_url text
  check (drift_webhook_url ~ '^https?://[^\s]+$');
comment on column public.guardrails.drift_webhook_url is
  'Optional URL drift-monitor POSTs to (through pg_net) when it finds breaking catalog drift for the tenant; NULL for none.';

create function internal.catalog_drift_compare(p_tenant_id uuid, p_toolkit text, p_latest jsonb)
returns table (tool_slug text, change text, stored_version text, stored_input jsonb,
               latest_input jsonb, latest_version text, latest_versions text[])
language sql
stable
set search_path = ''
as $$
  -- jsonb equality ignores key order and number formatting, so only real differences come
  -- back; the function diffs those structurally.
  with latest as (
    select l.tool_slug, l.input_schema, l.version, l.available_versions
      from jsonb_to_recordset(p_latest) as l(tool_slug text, input_schema jsonb, version text,
                                             available_versions text[])
  ), stored as (
    select c.tool_slug, c.version, c.input_schema
      from public.tool_catalog c
     where c.tenant_id = p_tenant_id and c.toolkit = p_toolkit and c.is_current
       and c.deprecated_at is null
  )
  select coalesce(s.tool_slug, l.tool_slug),
         case when s.tool_slug is null then 'added'
              when l.tool_slug is null then 'removed'
              else 'changed' end,
         s.version, s.input_schema, l.input_schema, l.version, l.available_versions
    from stored s
    full join latest l on l.tool_slug = s.tool_slug
   where s.tool_slug is null or l.tool_slug is null
      or s.input_schema <> coalesce(l.input_schema, '{}')
      or (cardinality(l.available_versions) > 0 and not s.version = any (l.available_versions))
   order by 1
$$;
comment on function internal.catalog_drift_compare(uuid, text, jsonb) is
  'Compares the tenant''s current tools of a toolkit with Composio''s latest (a JSON array of {tool_slug, input_schema, version, available_versions}): returns only tools added, removed, or changed (input schema differs, or the stored version is no longer available).';

create function internal.catalog_drift_record(p_tenant_id uuid, p_run_id bigint,
                                              p_snapshot jsonb, p_breaking integer,
                                              p_non_breaking integer)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_id bigint;
  v_url text;
begin
  insert into public.catalog_audit (tenant_id, run_id, snapshot, breaking_count,
                                    non_breaking_count)
  values (p_tenant_id, p_run_id, p_snapshot, p_breaking, p_non_breaking)
  returning id into v_id;

  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (p_tenant_id, 'job', 'drift-monitor/' || coalesce(p_run_id::text, '-'),
          'catalog_drift',
          jsonb_build_object('catalog_audit_id', v_id, 'breaking', p_breaking,
                             'non_breaking', p_non_breaking,
                             'counts', coalesce(p_snapshot -> 'counts', '{}')));

  if p_breaking > 0 then
    select g.drift_webhook_url into v_url from public.guardrails g
     where g.tenant_id = p_tenant_id;
    if v_url is not null then
      -- Queued in this transaction, sent by pg_net after commit.
      perform net.http_post(
        url := v_url,
        body := jsonb_build_object(
          'event', 'catalog_drift.breaking', 'tenant_id', p_tenant_id,
          'catalog_audit_id', v_id, 'run_id', p_run_id, 'breaking_count', p_breaking,
          'non_breaking_count', p_non_breaking,
          'breaking_tools', coalesce(p_snapshot -> 'breaking_tools', '[]')),
        headers := '{"Content-Type": "application/json"}'::jsonb,
        timeout_milliseconds := 10000);
    end if;
  end if;
  return v_id;
end
$$;
comment on function internal.catalog_drift_record(uuid, bigint, jsonb, integer, integer) is
  'Records one drift snapshot for a tenant and run: the catalog_audit row, an audit_log row (category catalog_drift) and, for breaking drift with guardrails.drift_webhook_url set, a pg_net POST sent after commit. Returns the catalog_audit id.';

-- ---------------------------------------------------------------------------------------
-- Warm scan: an account that becomes active gets its toolkit synced at once.
create function internal.catalog_warm_scan() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status <> 'active'
     or (tg_op = 'UPDATE' and old.status = 'active' and old.toolkit = new.toolkit) then
    return null;
  end if;
  -- Seeding runs before the stack stores the secrets; jobs.invoke would raise.
  if (select count(distinct name) from vault.decrypted_secrets
       where name in ('project_url', 'service_role_key')) < 2 then
    raise notice 'warm scan of % for tenant % skipped: Vault secrets project_url and service_role_key are not set',
      new.toolkit, new.tenant_id;
    return null;
  end if;
  begin
    perform jobs.invoke('catalog-sync', jsonb_build_object(
      'tenant_id', new.tenant_id, 'toolkit', new.toolkit, 'warm', true));
  exception when others then
    -- Never fail the account change: the nightly sync catches up.
    raise warning 'warm scan of % for tenant % not invoked: %', new.toolkit, new.tenant_id,
      sqlerrm;
  end;
  return null;
end
$$;
revoke execute on function internal.catalog_warm_scan() from public;
comment on function internal.catalog_warm_scan() is
  'AFTER UPDATE trigger on connected_accounts: when an account becomes active, invokes catalog-sync for its tenant and toolkit with warm: true (which then runs an immediate trickle refresh). SECURITY DEFINER to read Vault for jobs.invoke; skips with a NOTICE when the secrets are missing.';

-- On UPDATE only: accounts are created 'initiated' and become active when the connection
-- completes. Rows inserted already active (imports, seeds) are picked up by the nightly sync.
create trigger catalog_warm_scan after update of status, toolkit on public.connected_accounts
  for each row when (new.status = 'active')
  execute function internal.catalog_warm_scan();

revoke all on all functions in schema internal from public;
revoke all on internal.catalog_sync_due, internal.trickle_schedule from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------
-- Jobs and schedules (pause with select jobs.pause('<slug>')).
select jobs.register('catalog-sync', 60000, 300);
select jobs.register('trickle-refresh', 30000, 300);
select jobs.register('drift-monitor', 60000, 3600);
select jobs.schedule('catalog-sync-nightly', '0 3 * * *', 'catalog-sync', '{"mark_due": true}');
select jobs.schedule('catalog-sync-tick', '*/5 * * * *', 'catalog-sync', '{}');
select jobs.schedule('trickle-refresh-tick', '*/5 * * * *', 'trickle-refresh', '{}');
select jobs.schedule('drift-monitor-hourly', '23 * * * *', 'drift-monitor', '{}');
