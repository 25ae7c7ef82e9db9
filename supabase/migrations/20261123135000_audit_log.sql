-- audit_log: the append-only, tamper-evident record of what jobs, agents and people did,
-- per tenant.
--
-- * Hash chain per tenant (NULL tenant: one system chain under a fixed key). A BEFORE
--   INSERT trigger takes the chain's head row in internal.audit_chain_heads FOR UPDATE,
--   assigns the next seq and hash = sha256(prev_hash || canonical row); a statement trigger
--   moves the head. Concurrent inserts on one tenant queue on that row lock until the
--   holder commits, so the chain cannot fork. Plain INSERTs of the seed columns keep
--   working: the trigger fills seq, prev_hash and hash.
-- * Append-only for every role, postgres and the superuser included: UPDATE, DELETE and
--   TRUNCATE are rejected by triggers set ENABLE ALWAYS (session_replication_role =
--   replica does not skip them). The one exception is DELETE executed as the NOLOGIN role
--   audit_retention, which only the retention function (SECURITY DEFINER, owned by that
--   role) runs as. No setting turns this off.
-- * The table owner can still disable triggers or become audit_retention (postgres has
--   CREATEROLE): against the database owner the log is tamper-evident, not tamper-proof.
--   internal.audit_log_verify(tenant) names the first row that does not fit its chain.
--
-- A transaction that inserts audit rows for several tenants takes their chain heads in
-- the order it inserts: insert multi-tenant batches in tenant order to avoid deadlocks.

-- The role retention runs as. NOLOGIN, no attributes: nobody connects as it; it is
-- reached only through internal.audit_log_retain (SECURITY DEFINER, owned by it). The
-- role is cluster-wide, so it may exist already (another database of the cluster).
-- postgres (CREATEROLE) becomes a member so that it may hand the function to it.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'audit_retention') then
    create role audit_retention nologin noinherit;
  end if;
end
$$;
comment on role audit_retention is
  'Owns internal.audit_log_retain: the only role whose DELETE on public.audit_log the immutability trigger lets through. NOLOGIN.';
grant audit_retention to postgres;

create table public.audit_log (
  id bigint generated always as identity primary key,
  -- No foreign key: the log outlives what it records (a deleted tenant's history stays,
  -- and the deletion itself is audited under the tenant's id).
  tenant_id uuid,
  actor_type text not null check (actor_type in ('user', 'agent', 'job', 'system', 'operator')),
  actor_id text,
  category text not null check (category ~ '^[a-z][a-z0-9_]*$'),
  envelope_id uuid,
  payload jsonb not null default '{}',
  created_at timestamptz not null default now(),
  seq bigint not null,
  prev_hash text not null,
  hash text not null,
  constraint audit_log_tenant_seq_key unique nulls not distinct (tenant_id, seq)
);
create index audit_log_tenant_created_idx on public.audit_log (tenant_id, created_at desc);
create index audit_log_envelope_idx on public.audit_log (envelope_id) where envelope_id is not null;

comment on table public.audit_log is
  'Append-only log of what jobs, agents, operators and users did, per tenant; never holds tool arguments or secrets. Hash-chained per tenant (seq, prev_hash, hash) and immutable for every role by ENABLE ALWAYS triggers, except retention (internal.audit_log_retain). Against the database owner (who can disable triggers) it is tamper-evident, not tamper-proof: internal.audit_log_verify names the first altered row.';
comment on column public.audit_log.id is 'Identity; insertion order across tenants.';
comment on column public.audit_log.tenant_id is 'Tenant the event belongs to; NULL for system-wide events. No foreign key: the log outlives deleted tenants.';
comment on column public.audit_log.actor_type is 'Who acted: user, agent, job, system or operator.';
comment on column public.audit_log.actor_id is 'The actor: a user id, a job name with its run id, an operator name, a database role.';
comment on column public.audit_log.category is 'Event kind, e.g. outbox_succeeded, catalog_sync, catalog_drift, auth_policy, config_change, audit_retention.';
comment on column public.audit_log.envelope_id is 'The outbox envelope the event concerns, when there is one (no foreign key: envelopes move to the DLQ).';
comment on column public.audit_log.payload is 'Event details: counts, statuses, reasons, changed column names. No tool arguments, no secrets.';
comment on column public.audit_log.created_at is 'When the event was recorded.';
comment on column public.audit_log.seq is 'Position in the tenant''s chain (1, 2, …; unique per tenant), set by trigger.';
comment on column public.audit_log.prev_hash is 'hash of the previous row of the chain (64 zeros before the first), set by trigger.';
comment on column public.audit_log.hash is 'sha256 hex of prev_hash || internal.audit_canonical(row), set by trigger.';

alter table public.audit_log enable row level security;
revoke truncate, references, trigger on public.audit_log from anon, authenticated;
-- Members read their tenant's log; nobody writes through the Data API (jobs connect as
-- postgres, which bypasses RLS).
create policy audit_log_select_member on public.audit_log
  for select to authenticated
  using (tenant_id = ((select auth.jwt()) ->> 'tenant_id')::uuid);

-- ---------------------------------------------------------------------------------------
-- Chain heads and anchors (machinery: internal, closed to the API roles)
create table internal.audit_chain_heads (
  chain_key uuid primary key,
  seq bigint not null check (seq >= 0),
  hash text not null,
  moved_at timestamptz not null default now()
);
alter table internal.audit_chain_heads enable row level security;
comment on table internal.audit_chain_heads is
  'Head of each audit_log hash chain: the last seq and hash. The chain trigger takes the row FOR UPDATE, so inserts on one chain are serialised. RLS on, no policies: only its owner (the chain trigger) reaches it.';
comment on column internal.audit_chain_heads.chain_key is 'tenant_id, or 00000000-0000-0000-0000-000000000000 for system-wide rows (NULL tenant).';
comment on column internal.audit_chain_heads.seq is 'seq of the newest row of the chain (0: none yet).';
comment on column internal.audit_chain_heads.hash is 'hash of the newest row (64 zeros: none yet).';
comment on column internal.audit_chain_heads.moved_at is 'When the head last moved.';

create table internal.audit_chain_anchors (
  chain_key uuid primary key,
  seq bigint not null check (seq >= 0),
  hash text not null,
  anchored_at timestamptz not null default now()
);
alter table internal.audit_chain_anchors enable row level security;
create policy audit_chain_anchors_retention on internal.audit_chain_anchors
  for all to audit_retention using (true) with check (true);
comment on table internal.audit_chain_anchors is
  'Where each chain starts after retention: seq and hash of the newest deleted row. Verification starts from here.';
comment on column internal.audit_chain_anchors.chain_key is 'As internal.audit_chain_heads.chain_key.';
comment on column internal.audit_chain_anchors.seq is 'seq of the newest row retention deleted; the chain resumes at seq + 1.';
comment on column internal.audit_chain_anchors.hash is 'hash of that row: prev_hash of the first remaining row.';
comment on column internal.audit_chain_anchors.anchored_at is 'When retention last moved the anchor.';

-- ---------------------------------------------------------------------------------------
-- Canonical form and hash. The canonical text of a row is its fields in alphabetical order
-- of their names (actor_id, actor_type, category, created_at as UTC epoch microseconds,
-- envelope_id, id, payload, seq, tenant_id), comma-separated: numbers in decimal, text and
-- uuids as SQL literals (quote_literal: quotes and backslashes doubled, NULL unquoted),
-- payload as the literal of its jsonb text (jsonb sorts keys, shorter first, then bytewise,
-- at every level, and prints numbers and strings one way). Neither the session's time
-- zone nor DateStyle nor the inserting client's key order changes a hash; the quoting
-- makes the text unambiguous. The same expression is written out in audit_canonical,
-- audit_hash and the chain trigger (a function call per row costs the trigger a third of
-- its throughput); supabase/tests/20_audit.test.sql checks that they agree.
create function internal.audit_canonical(p_row public.audit_log) returns text
language sql
stable
set search_path = ''
as $$
  select pg_catalog.concat_ws(',',
    pg_catalog.quote_nullable(p_row.actor_id), pg_catalog.quote_literal(p_row.actor_type),
    pg_catalog.quote_literal(p_row.category),
    (extract(epoch from p_row.created_at) * 1000000)::bigint,
    pg_catalog.quote_nullable(p_row.envelope_id), p_row.id,
    pg_catalog.quote_literal(p_row.payload::text), p_row.seq, pg_catalog.quote_nullable(p_row.tenant_id))
$$;
comment on function internal.audit_canonical(public.audit_log) is
  'Canonical text of an audit_log row for its hash: actor_id, actor_type, category, created_at (UTC epoch microseconds), envelope_id, id, payload (jsonb text), seq, tenant_id; comma-separated, text as SQL literals.';

create function internal.audit_hash(p_row public.audit_log) returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  return pg_catalog.encode(extensions.digest(p_row.prev_hash || pg_catalog.concat_ws(',',
    pg_catalog.quote_nullable(p_row.actor_id), pg_catalog.quote_literal(p_row.actor_type),
    pg_catalog.quote_literal(p_row.category),
    (extract(epoch from p_row.created_at) * 1000000)::bigint,
    pg_catalog.quote_nullable(p_row.envelope_id), p_row.id,
    pg_catalog.quote_literal(p_row.payload::text), p_row.seq, pg_catalog.quote_nullable(p_row.tenant_id)), 'sha256'), 'hex');
end
$$;
comment on function internal.audit_hash(public.audit_log) is
  'sha256 hex of prev_hash || audit_canonical(row): the hash the row must carry.';

-- ---------------------------------------------------------------------------------------
-- Chain triggers. SECURITY DEFINER (owner postgres) so that any role allowed to insert
-- (postgres, service_role, the retention role) advances the head, while the head table
-- stays closed to everyone else.
--
-- The row trigger locks the head (FOR UPDATE: concurrent inserters of the chain queue
-- here until the holder commits) but does not write it: the statement trigger moves each
-- head once per statement, to the newest row the statement added. Rows of the current
-- statement are thus newer than their head, and the row trigger takes the newest of the
-- two. (Writing the head for every row would leave one row version per insert that the
-- transaction itself must step over: a 100-row insert on one tenant got 5× slower.)
create function internal.audit_log_chain() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_key constant uuid := coalesce(new.tenant_id, '00000000-0000-0000-0000-000000000000');
  v_seq bigint;
  v_prev text;
begin
  -- The head, locked, and the newest row this statement already chained after it (the
  -- head moves when the statement ends): one query.
  if new.tenant_id is null then
    select coalesce(l.seq, h.seq), coalesce(l.hash, h.hash) into v_seq, v_prev
      from internal.audit_chain_heads h
      left join lateral (select a.seq, a.hash from public.audit_log a
                          where a.tenant_id is null and a.seq > h.seq
                          order by a.seq desc limit 1) l on true
     where h.chain_key = v_key
       for update of h;
  else
    select coalesce(l.seq, h.seq), coalesce(l.hash, h.hash) into v_seq, v_prev
      from internal.audit_chain_heads h
      left join lateral (select a.seq, a.hash from public.audit_log a
                          where a.tenant_id = new.tenant_id and a.seq > h.seq
                          order by a.seq desc limit 1) l on true
     where h.chain_key = v_key
       for update of h;
  end if;
  if not found then
    -- A new chain: its head starts at 0 (a concurrent first insert may win the race).
    insert into internal.audit_chain_heads (chain_key, seq, hash)
    values (v_key, 0, repeat('0', 64))
    on conflict (chain_key) do nothing;
    select h.seq, h.hash into v_seq, v_prev
      from internal.audit_chain_heads h where h.chain_key = v_key for update;
  end if;
  new.seq := v_seq + 1;
  new.prev_hash := v_prev;
  -- = internal.audit_hash(new), written out (see above).
  new.hash := pg_catalog.encode(extensions.digest(new.prev_hash || pg_catalog.concat_ws(',',
    pg_catalog.quote_nullable(new.actor_id), pg_catalog.quote_literal(new.actor_type),
    pg_catalog.quote_literal(new.category),
    (extract(epoch from new.created_at) * 1000000)::bigint,
    pg_catalog.quote_nullable(new.envelope_id), new.id,
    pg_catalog.quote_literal(new.payload::text), new.seq, pg_catalog.quote_nullable(new.tenant_id)), 'sha256'), 'hex');
  return new;
end
$$;
comment on function internal.audit_log_chain() is
  'BEFORE INSERT row trigger on audit_log: takes the chain head FOR UPDATE, sets seq, prev_hash and hash after the newest row of the chain. Whatever the inserter put in those columns is overwritten.';

create function internal.audit_log_chain_heads() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update internal.audit_chain_heads h
     set seq = n.seq, hash = n.hash, moved_at = now()
    from (select distinct on (1) coalesce(r.tenant_id, '00000000-0000-0000-0000-000000000000') as chain_key,
                 r.seq, r.hash
            from new_rows r
           order by 1, r.seq desc) n
   where h.chain_key = n.chain_key;
  return null;
end
$$;
comment on function internal.audit_log_chain_heads() is
  'AFTER INSERT statement trigger on audit_log: moves each chain head the statement extended to its newest row (seq, hash).';

create trigger audit_log_chain before insert on public.audit_log
  for each row execute function internal.audit_log_chain();
create trigger audit_log_chain_heads after insert on public.audit_log
  referencing new table as new_rows
  for each statement execute function internal.audit_log_chain_heads();
alter table public.audit_log enable always trigger audit_log_chain;
alter table public.audit_log enable always trigger audit_log_chain_heads;

-- ---------------------------------------------------------------------------------------
-- Immutability. SECURITY INVOKER on purpose: current_user is then the role executing the
-- statement, and only code running as audit_retention (the retention function) may delete.
create function internal.audit_log_immutable() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and current_user = 'audit_retention' then
    return old;
  end if;
  raise exception 'audit_log is append-only: % is not allowed', tg_op
    using errcode = 'PT405',
          hint = 'Old rows leave only through internal.audit_log_retain(keep interval).';
end
$$;
comment on function internal.audit_log_immutable() is
  'BEFORE UPDATE/DELETE (row) and TRUNCATE (statement) on audit_log: rejects them (PT405) for every role; lets DELETE through only when executing as audit_retention.';

create trigger audit_log_immutable_row before update or delete on public.audit_log
  for each row execute function internal.audit_log_immutable();
create trigger audit_log_immutable_truncate before truncate on public.audit_log
  for each statement execute function internal.audit_log_immutable();
alter table public.audit_log enable always trigger audit_log_immutable_row;
alter table public.audit_log enable always trigger audit_log_immutable_truncate;

-- ---------------------------------------------------------------------------------------
-- Verification: one statement (one snapshot, so a concurrent insert is seen with its
-- head or not at all).
create function internal.audit_log_verify(p_tenant_id uuid)
returns table (valid boolean, rows_checked bigint, first_bad_id bigint, first_bad_seq bigint,
               problem text)
language sql
stable
set search_path = ''
as $$
  with k as (
    select coalesce(p_tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) as chain_key
  ),
  start as (
    select coalesce(a.seq, 0) as seq, coalesce(a.hash, repeat('0', 64)) as hash
      from k left join internal.audit_chain_anchors a on a.chain_key = k.chain_key
  ),
  head as (
    select coalesce(h.seq, 0) as seq, coalesce(h.hash, repeat('0', 64)) as hash
      from k left join internal.audit_chain_heads h on h.chain_key = k.chain_key
  ),
  r as (
    select l.id, l.seq, l.prev_hash, l.hash, internal.audit_hash(l) as recomputed,
           lag(l.seq) over w as lag_seq, lag(l.hash) over w as lag_hash
      from public.audit_log l
     where l.tenant_id is not distinct from p_tenant_id
    window w as (order by l.seq)
  ),
  bad as (
    select r.id, r.seq,
           case
             when r.seq <> coalesce(r.lag_seq, s.seq) + 1 then
               format('seq %s follows %s: rows missing', r.seq, coalesce(r.lag_seq, s.seq))
             when r.prev_hash <> coalesce(r.lag_hash, s.hash) then
               'prev_hash does not match the previous row''s hash'
             when r.hash <> r.recomputed then 'hash does not match the row''s content'
           end as problem
      from r cross join start s
  ),
  first_bad as (
    select * from bad where problem is not null order by seq limit 1
  ),
  tail as (
    select max(r.seq) as seq, (array_agg(r.hash order by r.seq desc))[1] as hash,
           count(*) as n
      from r
  )
  select fb.id is null and t_ok.ok, t.n, fb.id, fb.seq,
         coalesce(fb.problem, case when not t_ok.ok then t_ok.why end)
    from tail t
    cross join head hd
    cross join start s
    cross join lateral (
      select coalesce(t.seq, s.seq) = hd.seq and coalesce(t.hash, s.hash) = hd.hash as ok,
             format('chain head is at seq %s but the newest row is seq %s: rows missing at the end',
                    hd.seq, coalesce(t.seq, s.seq)) as why
    ) t_ok
    left join first_bad fb on true
$$;
comment on function internal.audit_log_verify(uuid) is
  'Walks the tenant''s chain (NULL: the system chain) from its anchor: valid, rows checked, and the first row whose seq, prev_hash or hash does not fit (id, seq, problem); also catches rows missing after the newest.';

-- ---------------------------------------------------------------------------------------
-- Retention: the only way rows leave. Owned by audit_retention, which the immutability
-- trigger lets delete; RLS lets that role read, delete and add its own rows.
create policy audit_log_select_retention on public.audit_log
  for select to audit_retention using (true);
create policy audit_log_delete_retention on public.audit_log
  for delete to audit_retention using (true);
create policy audit_log_insert_retention on public.audit_log
  for insert to audit_retention with check (category = 'audit_retention');
grant usage on schema internal to audit_retention;
grant select, insert, delete on public.audit_log to audit_retention;
grant select, insert, update on internal.audit_chain_anchors to audit_retention;

create function internal.audit_log_retain(p_keep interval default '90 days')
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cutoff constant timestamptz := now() - p_keep;
  v_deleted bigint := 0;
  v_chains integer := 0;
  v_hash text;
  c record;
  n bigint;
begin
  if p_keep is null or p_keep < interval '1 day' then
    raise exception 'p_keep must be at least 1 day, got %', p_keep using errcode = '22023';
  end if;
  -- Per chain, delete the longest prefix (by seq) of rows older than the cutoff, and
  -- anchor the chain at the newest deleted row. Rows appended meanwhile have a larger seq.
  for c in
    select g.tenant_id,
           coalesce(g.tenant_id, '00000000-0000-0000-0000-000000000000') as chain_key,
           coalesce(g.first_kept - 1, g.last_seq) as upto
      from (select l.tenant_id, min(l.seq) as first_seq, max(l.seq) as last_seq,
                   min(l.seq) filter (where l.created_at >= v_cutoff) as first_kept
              from public.audit_log l
             group by l.tenant_id) g
     where coalesce(g.first_kept - 1, g.last_seq) >= g.first_seq
  loop
    if c.tenant_id is null then
      select l.hash into v_hash from public.audit_log l
       where l.tenant_id is null and l.seq = c.upto;
      delete from public.audit_log l where l.tenant_id is null and l.seq <= c.upto;
    else
      select l.hash into v_hash from public.audit_log l
       where l.tenant_id = c.tenant_id and l.seq = c.upto;
      delete from public.audit_log l where l.tenant_id = c.tenant_id and l.seq <= c.upto;
    end if;
    get diagnostics n = row_count;
    insert into internal.audit_chain_anchors as a (chain_key, seq, hash)
    values (c.chain_key, c.upto, v_hash)
    on conflict (chain_key) do update
      set seq = excluded.seq, hash = excluded.hash, anchored_at = now();
    v_deleted := v_deleted + n;
    v_chains := v_chains + 1;
  end loop;
  insert into public.audit_log (tenant_id, actor_type, actor_id, category, payload)
  values (null, 'system', 'audit_log_retain', 'audit_retention',
          jsonb_build_object('deleted', v_deleted, 'chains', v_chains,
                             'keep', p_keep::text, 'cutoff', v_cutoff));
  return v_deleted;
end
$$;
comment on function internal.audit_log_retain(interval) is
  'Deletes audit_log rows older than p_keep (default 90 days; at least 1 day) as a per-chain prefix, anchors each chain at its newest deleted row so verification still passes, writes an audit_retention row; returns how many rows went. Owned by the NOLOGIN role audit_retention.';
-- A new owner needs CREATE on the schema at the moment of the transfer only.
grant create on schema internal to audit_retention;
alter function internal.audit_log_retain(interval) owner to audit_retention;
revoke create on schema internal from audit_retention;

revoke all on function internal.audit_canonical(public.audit_log) from public;
revoke all on function internal.audit_hash(public.audit_log) from public;
revoke all on function internal.audit_log_chain() from public;
revoke all on function internal.audit_log_chain_heads() from public;
revoke all on function internal.audit_log_immutable() from public;
revoke all on function internal.audit_log_verify(uuid) from public;
revoke all on function internal.audit_log_retain(interval) from public;
grant execute on function internal.audit_log_retain(interval) to postgres;
