-- Schema contract: tables and their columns, indexes (partial ones included), constraints
-- by behaviour, and the rules every object must follow whoever adds it (comments,
-- updated_at triggers, indexed foreign keys), enumerated from the catalog.
begin;
select plan(86);

-- Project schemas: everything that is not the platform's (same definition as
-- 11_exposure.test.sql).
create temporary view project_schema as
select n.oid, n.nspname
  from pg_namespace n
 where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'auth', 'extensions',
                         'supabase_migrations', 'storage', 'realtime', 'graphql',
                         'graphql_public', 'pgbouncer', 'supabase_functions', 'pgsodium',
                         'vault', 'net', 'cron')
   and n.nspname !~ '^pg_(toast_)?temp_'
   and not exists (select 1 from pg_depend d
                    where d.classid = 'pg_namespace'::regclass and d.objid = n.oid
                      and d.deptype = 'e');

-- ---------------------------------------------------------------------------------------
-- Tables and columns: 'name type' with a trailing ! for NOT NULL. Other columns may be
-- added later; these must stay as they are.
create temporary table expected_columns (tbl text, cols text[]);
insert into expected_columns values
  ('tenants', '{"id uuid!","name text!","plan text!","created_at timestamptz!","updated_at timestamptz!"}'),
  ('tenant_members', '{"tenant_id uuid!","user_id uuid!","role text!","created_at timestamptz!","updated_at timestamptz!"}'),
  ('guardrails', '{"id uuid!","tenant_id uuid!","quiet_hours jsonb!","trust_threshold numeric!","allowed_toolkits text[]","allowed_scopes text[]","require_evidence boolean!","max_attempts jsonb!","approval_risk_tiers text[]!","concurrency_cap integer!","created_at timestamptz!","updated_at timestamptz!"}'),
  ('objectives', '{"id uuid!","tenant_id uuid!","title text!","metric text!","target text","horizon text","summary text","created_at timestamptz!","updated_at timestamptz!"}'),
  ('connected_accounts', '{"id uuid!","tenant_id uuid!","provider text!","toolkit text!","external_account_id text","status text!","scopes text[]!","linked_at timestamptz","metadata jsonb!","created_at timestamptz!","updated_at timestamptz!","verified_external_account_id text","verified_owned boolean","verified_at timestamptz"}'),
  ('tool_catalog', '{"id bigint!","tenant_id uuid!","tool_slug text!","toolkit text!","display_name text","description text","version text!","input_schema jsonb!","output_schema jsonb!","required_scopes text[]!","tags text[]!","risk text!","read_only boolean!","content_hash text!","synced_version text","is_current boolean!","deprecated_at timestamptz","synced_at timestamptz!","updated_at timestamptz!"}'),
  ('catalog_audit', '{"id bigint!","tenant_id uuid!","run_id bigint","snapshot jsonb!","breaking_count integer!","non_breaking_count integer!","created_at timestamptz!"}'),
  ('webhook_deliveries', '{"id bigint!","tenant_id uuid!","event text!","catalog_audit_id bigint","url text!","body jsonb!","status text!","attempts integer!","max_attempts integer!","next_attempt_at timestamptz!","last_error text","last_http_status integer","attempt_log jsonb!","created_at timestamptz!","updated_at timestamptz!","finished_at timestamptz"}'),
  ('outbox', '{"id uuid!","tenant_id uuid!","tool_slug text!","toolkit text!","arguments jsonb!","connected_account_id text","risk text!","read_only boolean!","external_id text","trust_context jsonb!","metadata jsonb!","status text!","attempts integer!","next_run_at timestamptz!","last_error text","lease_token uuid","lease_expires_at timestamptz","claimed_by text","result jsonb","outcome text","created_at timestamptz!","updated_at timestamptz!","completed_at timestamptz"}'),
  ('outbox_dlq', '{"id uuid!","tenant_id uuid!","tool_slug text!","toolkit text!","arguments jsonb!","connected_account_id text","risk text!","read_only boolean!","external_id text","trust_context jsonb!","metadata jsonb!","status text!","attempts integer!","next_run_at timestamptz!","last_error text","lease_token uuid","lease_expires_at timestamptz","claimed_by text","result jsonb","outcome text","created_at timestamptz!","updated_at timestamptz!","completed_at timestamptz","moved_at timestamptz!","reason text"}'),
  ('approvals', '{"id uuid!","tenant_id uuid!","envelope_id uuid","reviewer_id uuid","decision text!","reason text","proposal_summary text","created_at timestamptz!"}'),
  ('grades', '{"id uuid!","tenant_id uuid!","approval_id uuid","envelope_id uuid","grader_id uuid","score numeric!","rubric text","note text","created_at timestamptz!"}'),
  ('edits', '{"id uuid!","tenant_id uuid!","envelope_id uuid","editor_id uuid","before jsonb","after jsonb!","reason text","created_at timestamptz!"}'),
  ('evidence', '{"id uuid!","tenant_id uuid!","envelope_id uuid","tool_slug text","content jsonb!","content_text text","created_at timestamptz!","artifact_bucket text","artifact_path text","artifact_size bigint","artifact_sha256 text","artifact_status text"}'),
  ('evidence_embeddings', '{"id uuid!","tenant_id uuid!","source_type text!","source_id text!","chunk integer!","model text!","content_hash text!","content text!","embedding extensions.vector!","metadata jsonb!","created_at timestamptz!"}'),
  ('job_runs', '{"id bigint!","job text!","tenant_id uuid","started_at timestamptz!","finished_at timestamptz","status text!","counts jsonb!","error text","invocation jsonb"}'),
  ('rate_buckets', '{"tenant_id uuid!","toolkit text!","capacity numeric!","tokens numeric!","refill_per_second numeric!","refilled_at timestamptz!","updated_at timestamptz!"}'),
  ('tasks', '{"id uuid!","tenant_id uuid!","user_id uuid!","objective_id uuid","correlation_id text!","mandate text!","status text!","max_ticks integer!","tick integer","result jsonb","error text","evidence jsonb!","created_at timestamptz!","updated_at timestamptz!"}');

select has_table('public', e.tbl::name, 'table public.' || e.tbl) from expected_columns e order by e.tbl;

select is(
  array(select format('%s.%s', e.tbl, split_part(c, ' ', 1))
          from expected_columns e, unnest(e.cols) c
         where not exists (
           select 1 from pg_attribute a
            where a.attrelid = ('public.' || e.tbl)::regclass and a.attnum > 0
              and not a.attisdropped
              and a.attname = split_part(c, ' ', 1)
              and a.atttypid = rtrim(substr(c, strpos(c, ' ') + 1), '!')::regtype
              and a.attnotnull = (c like '%!'))
         order by 1),
  '{}'::text[], 'every expected column exists with its type and nullability');

select is(format_type(atttypid, atttypmod), 'vector(384)', 'embeddings are vector(384)')
  from pg_attribute where attrelid = 'public.evidence_embeddings'::regclass and attname = 'embedding';

-- A dead-lettered envelope keeps every column it had, so a requeue loses nothing.
select is(
  array(select o.attname::text || ' ' || format_type(o.atttypid, o.atttypmod)
          from pg_attribute o
         where o.attrelid = 'public.outbox'::regclass and o.attnum > 0 and not o.attisdropped
        except
        select d.attname::text || ' ' || format_type(d.atttypid, d.atttypmod)
          from pg_attribute d
         where d.attrelid = 'public.outbox_dlq'::regclass and d.attnum > 0
           and not d.attisdropped),
  '{}'::text[],
  'outbox_dlq has every outbox column, with its type');

select is(
  (select attidentity from pg_attribute where attrelid = 'public.tool_catalog'::regclass and attname = 'id'),
  'a', 'tool_catalog.id is generated always as identity');

-- ---------------------------------------------------------------------------------------
-- Indexes, by definition (partial predicates included).
select is(
  array(select d from unnest(array[
    'CREATE INDEX tenants_plan_idx ON public.tenants USING btree (plan)',
    'CREATE INDEX tenant_members_user_idx ON public.tenant_members USING btree (user_id, accepted_at)',
    'CREATE UNIQUE INDEX guardrails_tenant_id_key ON public.guardrails USING btree (tenant_id)',
    'CREATE INDEX objectives_tenant_metric_idx ON public.objectives USING btree (tenant_id, metric)',
    'CREATE INDEX connected_accounts_tenant_toolkit_idx ON public.connected_accounts USING btree (tenant_id, toolkit)',
    'CREATE UNIQUE INDEX tool_catalog_tenant_id_tool_slug_version_key ON public.tool_catalog USING btree (tenant_id, tool_slug, version)',
    'CREATE UNIQUE INDEX tool_catalog_current_uidx ON public.tool_catalog USING btree (tenant_id, tool_slug) WHERE is_current',
    'CREATE INDEX catalog_audit_tenant_created_idx ON public.catalog_audit USING btree (tenant_id, created_at DESC)',
    'CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (next_attempt_at) WHERE (status = ''pending''::text)',
    'CREATE INDEX webhook_deliveries_tenant_created_idx ON public.webhook_deliveries USING btree (tenant_id, created_at DESC)',
    'CREATE UNIQUE INDEX outbox_tenant_external_id_key ON public.outbox USING btree (tenant_id, external_id)',
    'CREATE INDEX outbox_due_idx ON public.outbox USING btree (next_run_at) WHERE internal.outbox_waiting(status)',
    'CREATE INDEX outbox_lease_expiry_idx ON public.outbox USING btree (lease_expires_at) WHERE (status = ''running''::text)',
    'CREATE INDEX outbox_tenant_created_idx ON public.outbox USING btree (tenant_id, created_at DESC)',
    'CREATE INDEX outbox_dlq_tenant_moved_idx ON public.outbox_dlq USING btree (tenant_id, moved_at DESC)',
    'CREATE INDEX evidence_tenant_created_idx ON public.evidence USING btree (tenant_id, created_at DESC)',
    'CREATE INDEX evidence_artifact_path_idx ON public.evidence USING btree (tenant_id, artifact_path) WHERE (artifact_path IS NOT NULL)',
    'CREATE UNIQUE INDEX evidence_embeddings_source_type_source_id_chunk_model_key ON public.evidence_embeddings USING btree (source_type, source_id, chunk, model)',
    'CREATE INDEX evidence_embeddings_tenant_idx ON public.evidence_embeddings USING btree (tenant_id)',
    'CREATE INDEX job_runs_job_started_idx ON public.job_runs USING btree (job, started_at DESC)',
    'CREATE UNIQUE INDEX rate_buckets_pkey ON public.rate_buckets USING btree (tenant_id, toolkit)',
    'CREATE UNIQUE INDEX tasks_tenant_correlation_id_key ON public.tasks USING btree (tenant_id, correlation_id)',
    'CREATE INDEX idx_tasks_user_created ON public.tasks USING btree (user_id, created_at DESC)',
    'CREATE INDEX idx_tasks_status ON public.tasks USING btree (status) WHERE (status = ANY (ARRAY[''pending''::text, ''accepted''::text, ''started''::text, ''in_progress''::text]))'
  ]) d
  where d not in (select indexdef from pg_indexes where schemaname = 'public')),
  '{}'::text[], 'the expected indexes exist as defined');

select is(
  array(select indexname::text from pg_indexes
         where schemaname = 'public' and tablename = 'evidence_embeddings'
           and indexdef ~ 'USING (hnsw|ivfflat)'
           and indexdef !~ 'USING hnsw \(embedding (extensions\.)?vector_ip_ops\) WHERE \(model = ''[^'']+''::text\)$'),
  '{}'::text[], 'vector indexes are partial HNSW (vector_ip_ops), one per model');

-- Every foreign key of a public table has an index starting with its columns: cascades
-- and set-null actions (moving an envelope to the DLQ, deleting a user) must not scan
-- tenant data.
select is(
  array(select format('%s(%s)', c.conrelid::regclass, array_to_string(array(
                  select attname from pg_attribute
                   where attrelid = c.conrelid and attnum = any (c.conkey)), ', '))
          from pg_constraint c
         where c.contype = 'f' and c.connamespace = 'public'::regnamespace
           and not exists (
             select 1 from pg_index i
              where i.indrelid = c.conrelid
                and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
                and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
         order by 1),
  '{}'::text[], 'every foreign key is covered by an index');

-- ---------------------------------------------------------------------------------------
-- Comments: every table, view and column of a table, function and non-public schema of
-- the project documents itself.
select is(
  array(select format('%I.%I', s.nspname, c.relname) from pg_class c
          join project_schema s on s.oid = c.relnamespace
         where c.relkind in ('r', 'p', 'v', 'm', 'f')
           and obj_description(c.oid, 'pg_class') is null
         order by 1),
  '{}'::text[], 'every table and view has a comment');

select is(
  array(select format('%I.%I.%I', s.nspname, c.relname, a.attname) from pg_class c
          join project_schema s on s.oid = c.relnamespace
          join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
         where c.relkind in ('r', 'p', 'f')
           and col_description(c.oid, a.attnum) is null
         order by 1),
  '{}'::text[], 'every column of every table has a comment');

select is(
  array(select p.oid::regprocedure::text from pg_proc p
          join project_schema s on s.oid = p.pronamespace
         where obj_description(p.oid, 'pg_proc') is null
           and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass
                                                       and d.objid = p.oid and d.deptype = 'e')
         order by 1),
  '{}'::text[], 'every function has a comment');

select is(
  array(select nspname::text from project_schema
         where nspname <> 'public' and obj_description(oid, 'pg_namespace') is null
         order by 1),
  '{}'::text[], 'every project schema besides public has a comment');

-- updated_at is kept by the shared trigger wherever it exists.
select is(
  array(select format('%I.%I', s.nspname, c.relname) from pg_class c
          join project_schema s on s.oid = c.relnamespace
          join pg_attribute a on a.attrelid = c.oid and a.attname = 'updated_at'
                              and not a.attisdropped
         where c.relkind in ('r', 'p')
           and not exists (select 1 from pg_trigger t
                            where t.tgrelid = c.oid and not t.tgisinternal
                              and t.tgfoid = 'internal.touch_updated_at()'::regprocedure
                              and t.tgtype & 2 = 2      -- BEFORE
                              and t.tgtype & 1 = 1      -- FOR EACH ROW
                              and t.tgtype & 16 = 16)   -- UPDATE
         order by 1),
  '{}'::text[], 'every table with updated_at has the touch_updated_at trigger');

-- ---------------------------------------------------------------------------------------
-- Constraints, by behaviour. Fixture rows come from the seed (tenants A and B).
\set a '''00000000-0000-0000-0000-00000000000a'''
\set b '''00000000-0000-0000-0000-00000000000b'''

create function pg_temp.guardrails_accepts(p_col text, p_value text) returns boolean
language plpgsql as $$
begin
  execute format('update public.guardrails set %I = %L where tenant_id = %L',
                 p_col, p_value, '00000000-0000-0000-0000-00000000000a');
  raise exception using errcode = 'ZZ999';
exception
  when sqlstate 'ZZ999' then return true;
  when check_violation then return false;
end
$$;

select ok(pg_temp.guardrails_accepts('quiet_hours',
  '{"timezone": "Asia/Kolkata", "windows": [{"start": "22:00", "end": "07:00"}, {"start": "12:00", "end": "13:30", "days": [1, 7]}]}'),
  'quiet_hours: an IANA timezone with windows is accepted');
select ok(not pg_temp.guardrails_accepts('quiet_hours', '{"timezone": "Mars/Olympus", "windows": []}'),
  'quiet_hours: an unknown timezone is refused');
select ok(not pg_temp.guardrails_accepts('quiet_hours', '{"windows": []}'),
  'quiet_hours: a missing timezone is refused');
select ok(not pg_temp.guardrails_accepts('quiet_hours', '{"timezone": "UTC", "windows": {}}'),
  'quiet_hours: windows must be an array');
select ok(not pg_temp.guardrails_accepts('quiet_hours', '{"timezone": "UTC"}'),
  'quiet_hours: windows is required');
select ok(not pg_temp.guardrails_accepts('quiet_hours', '{"timezone": "UTC", "windows": [{"start": "24:00", "end": "07:00"}]}'),
  'quiet_hours: times are HH:MM within a day');
select ok(not pg_temp.guardrails_accepts('quiet_hours', '{"timezone": "UTC", "windows": [{"start": "22:00"}]}'),
  'quiet_hours: a window needs an end');
select ok(not pg_temp.guardrails_accepts('quiet_hours', '{"timezone": "UTC", "windows": [{"start": "22:00", "end": "07:00", "days": [0, 8]}]}'),
  'quiet_hours: days are ISO weekdays 1..7');
select ok(not pg_temp.guardrails_accepts('trust_threshold', '1.01'), 'trust_threshold above 1 is refused');
select ok(not pg_temp.guardrails_accepts('trust_threshold', '-0.01'), 'trust_threshold below 0 is refused');
select ok(pg_temp.guardrails_accepts('trust_threshold', '1'), 'trust_threshold 1 is accepted');
select ok(pg_temp.guardrails_accepts('max_attempts', '{"low": 10, "medium": 2, "high": 1}'),
  'max_attempts with positive integers per tier is accepted');
select ok(not pg_temp.guardrails_accepts('max_attempts', '{"low": 10, "medium": 2}'),
  'max_attempts needs every tier');
select ok(not pg_temp.guardrails_accepts('max_attempts', '{"low": 10, "medium": 2, "high": 0}'),
  'max_attempts must be positive');
select ok(not pg_temp.guardrails_accepts('max_attempts', '{"low": 1.5, "medium": 2, "high": 1}'),
  'max_attempts must be integers');
select ok(not pg_temp.guardrails_accepts('max_attempts', '{"low": 1, "medium": 2, "high": 1, "critical": 1}'),
  'max_attempts has no other keys');
select ok(not pg_temp.guardrails_accepts('approval_risk_tiers', '{high,critical}'),
  'approval_risk_tiers are risk tiers');
select ok(not pg_temp.guardrails_accepts('concurrency_cap', '0'), 'concurrency_cap is at least 1');
select throws_ok(format($$insert into public.guardrails (tenant_id) values (%L)$$, :a),
  '23505', null, 'one guardrails row per tenant');

insert into public.tenants (id, name) values ('00000000-0000-0000-0000-0000000000ee', 'Defaults');
select is((select row(quiet_hours, trust_threshold, max_attempts, approval_risk_tiers,
                      concurrency_cap, require_evidence, allowed_toolkits, allowed_scopes)::text
             from public.guardrails where tenant_id = '00000000-0000-0000-0000-0000000000ee'),
          row('{"windows": [], "timezone": "UTC"}'::jsonb, 0.7, '{"low": 5, "high": 1, "medium": 3}'::jsonb,
              '{high}'::text[], 1, false, null::text[], null::text[])::text,
          'a new tenant gets its guardrails row with the defaults: UTC without windows, 0.7, 5/3/1 attempts, high needs approval, cap 1');

select throws_ok(format($$insert into public.tenant_members (tenant_id, user_id, role)
                          values (%L, '00000000-0000-0000-0000-0000000000c1', 'admin')$$, :a),
  '23514', null, 'member roles are owner or member');
select throws_ok(format($$insert into public.tenants (name, plan) values ('x', 'Gold Plan')$$),
  '23503', null, 'a tenant''s plan is one of public.plans');
select throws_ok(format($$insert into public.connected_accounts (tenant_id, toolkit, status)
                          values (%L, 'github', 'connected')$$, :a),
  '23514', null, 'connected account statuses are a known set');

-- Catalog.
select throws_ok(format($$insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, content_hash)
                          values (%L, 'GITHUB_LIST_ISSUES', 'github', '20990101_00', 'low', 'h')$$, :a),
  '23505', null, 'a second current row for a (tenant, slug) is refused');
select lives_ok(format($$insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, content_hash, is_current)
                         values (%L, 'GITHUB_LIST_ISSUES', 'github', '20990101_00', 'low', 'h', false)$$, :a),
  'other versions of a tool may be stored as not current');
select throws_ok(format($$insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, content_hash, is_current)
                          values (%L, 'GITHUB_LIST_ISSUES', 'github', '20990101_00', 'low', 'h2', false)$$, :a),
  '23505', null, '(tenant, slug, version) is unique');
select lives_ok(format($$insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, content_hash)
                         values (%L, 'GMAIL_SEND_EMAIL', 'gmail', '20251027_00', 'medium', 'h')$$, :b),
  'the same slug is independent per tenant');
select throws_ok(format($$insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, content_hash)
                          values (%L, 'X_TOOL', 'x', '1', 'critical', 'h')$$, :a),
  '23514', null, 'catalog risk is low, medium or high');
select throws_ok(format($$insert into public.catalog_audit (tenant_id, breaking_count) values (%L, -1)$$, :a),
  '23514', null, 'drift counts are not negative');

-- Outbox.
select throws_ok(format($$insert into public.outbox (tenant_id, tool_slug, toolkit, risk, attempts)
                          values (%L, 'T', 't', 'low', -1)$$, :a),
  '23514', null, 'attempts are not negative');
select throws_ok(format($$insert into public.outbox (tenant_id, tool_slug, toolkit, risk, status)
                          values (%L, 'T', 't', 'low', 'done')$$, :a),
  '23514', null, 'envelope statuses are a known set');
select throws_ok(format($$insert into public.outbox (tenant_id, tool_slug, toolkit, risk)
                          values (%L, 'T', 't', 'severe')$$, :a),
  '23514', null, 'envelope risk is low, medium or high');
select throws_ok(format($$insert into public.outbox (tenant_id, tool_slug, toolkit, risk, status)
                          values (%L, 'T', 't', 'low', 'running')$$, :a),
  '23514', null, 'a running envelope needs a lease');
select throws_ok(format($$insert into public.outbox (tenant_id, tool_slug, toolkit, risk, arguments)
                          values (%L, 'T', 't', 'low', '[1]')$$, :a),
  '23514', null, 'arguments are a JSON object');
select throws_ok(format($$insert into public.outbox (tenant_id, tool_slug, toolkit, risk, external_id)
                          values (%L, 'T', 't', 'low', 'a-list-issues-0107')$$, :a),
  '23505', null, 'external_id is unique within a tenant');
select lives_ok(format($$insert into public.outbox (tenant_id, tool_slug, toolkit, risk, external_id)
                         values (%L, 'T', 't', 'low', 'a-list-issues-0107')$$, :b),
  'another tenant may use the same external_id');
select is((select (status, attempts, read_only, arguments, trust_context, metadata)
             from public.outbox where tenant_id = :b and external_id = 'a-list-issues-0107'),
          ('pending'::text, 0, false, '{}'::jsonb, '{}'::jsonb, '{}'::jsonb),
          'a new envelope defaults to pending, no attempts, empty objects');
select throws_ok(format($$insert into public.outbox_dlq (id, tenant_id, tool_slug, toolkit, risk, status)
                          values (gen_random_uuid(), %L, 'T', 't', 'low', 'dead')$$, :a),
  '23514', null, 'DLQ statuses are the envelope statuses');
select throws_ok(format($$insert into public.approvals (tenant_id, decision) values (%L, 'maybe')$$, :a),
  '23514', null, 'decisions are approved or rejected');
select throws_ok(format($$insert into public.grades (tenant_id, score) values (%L, 1.5)$$, :a),
  '23514', null, 'grades are in [0, 1]');

-- Moving an envelope out of the outbox keeps its decisions, unlinked.
delete from public.outbox where id = 'a0000000-0001-0000-0000-000000000008';
select is((select envelope_id from public.approvals where id = 'a0000000-0003-0000-0000-000000000001'),
          null::uuid, 'deleting an envelope keeps its approvals with envelope_id NULL');

-- Evidence.
select throws_ok(format($$insert into public.evidence_embeddings (tenant_id, source_type, source_id, model, content_hash, content, embedding)
                          values (%L, 'evidence', 'x', 'm', 'h', 'c', array_fill(0::real, array[383])::extensions.vector)$$, :a),
  '22000', null, 'embeddings must have 384 dimensions');
select throws_ok(format($$insert into public.evidence_embeddings (tenant_id, source_type, source_id, model, content_hash, content, embedding)
                          values (%L, 'tweet', 'x', 'm', 'h', 'c', array_fill(0::real, array[384])::extensions.vector)$$, :a),
  '23514', null, 'embedding sources are evidence, audit or approval');
select throws_ok(format($$insert into public.evidence_embeddings (tenant_id, source_type, source_id, chunk, model, content_hash, content, embedding)
                          values (%L, 'evidence', 'a0000000-0006-0000-0000-000000000001', 0, 'gte-small', 'h', 'c', array_fill(0::real, array[384])::extensions.vector)$$, :a),
  '23505', null, 'one embedding per (source, chunk, model)');

-- Jobs.
select throws_ok($$insert into public.job_runs (job, status) values ('x', 'done')$$,
  '23514', null, 'job run statuses are a known set');
select throws_ok($$insert into public.job_runs (job, status) values ('x', 'succeeded')$$,
  '23514', null, 'a finished run has finished_at');
select throws_ok($$insert into public.job_runs (job, started_at, finished_at, status)
                   values ('x', '2026-01-02', '2026-01-01', 'failed')$$,
  '23514', null, 'a run does not finish before it starts');
select throws_ok(format($$insert into public.rate_buckets (tenant_id, toolkit, capacity) values (%L, 'x', 0)$$, :a),
  '23514', null, 'bucket capacity is positive');
select throws_ok(format($$insert into public.rate_buckets (tenant_id, toolkit, tokens) values (%L, 'x', -1)$$, :a),
  '23514', null, 'bucket tokens are not negative');

-- Tasks.
select throws_ok(format($$insert into public.tasks (tenant_id, user_id, correlation_id, mandate)
                          values (%L, '00000000-0000-0000-0000-0000000000a1', 'corr-a1-0001', 'x')$$, :a),
  '23505', null, 'correlation_id is unique');
select throws_ok(format($$insert into public.tasks (tenant_id, user_id, correlation_id, mandate, status)
                          values (%L, '00000000-0000-0000-0000-0000000000a1', 't-1', 'x', 'paused')$$, :a),
  '23514', null, 'task statuses are a known set');
select throws_ok(format($$insert into public.tasks (tenant_id, user_id, correlation_id, mandate, max_ticks, tick)
                          values (%L, '00000000-0000-0000-0000-0000000000a1', 't-2', 'x', 5, 6)$$, :a),
  '23514', null, 'tick stays within max_ticks');
insert into public.tasks (tenant_id, user_id, correlation_id, mandate)
values (:a, '00000000-0000-0000-0000-0000000000a1', 't-defaults', 'x');
select is((select (status, max_ticks, tick, evidence) from public.tasks where correlation_id = 't-defaults'),
          ('pending'::text, 50, null::int, '[]'::jsonb), 'a new task is pending with 50 ticks allowed');
delete from auth.users where id = '00000000-0000-0000-0000-0000000000a2';
select is((select count(*)::int from public.tasks where user_id = '00000000-0000-0000-0000-0000000000a2'),
          0, 'deleting a user deletes their tasks');
select is((select count(*)::int from public.tenant_members where user_id = '00000000-0000-0000-0000-0000000000a2'),
          0, '… and their memberships');

-- A tenant's rows go with it (the "Defaults" tenant created above, with a row per table).
insert into public.tool_catalog (tenant_id, tool_slug, toolkit, version, risk, content_hash)
values ('00000000-0000-0000-0000-0000000000ee', 'T', 't', '1', 'low', 'h');
insert into public.outbox (tenant_id, tool_slug, toolkit, risk)
values ('00000000-0000-0000-0000-0000000000ee', 'T', 't', 'low');
insert into public.tasks (tenant_id, user_id, correlation_id, mandate)
values ('00000000-0000-0000-0000-0000000000ee', '00000000-0000-0000-0000-0000000000a1', 't-ee', 'x');
delete from public.tenants where id = '00000000-0000-0000-0000-0000000000ee';
select is((select count(*)::int from public.guardrails where tenant_id = '00000000-0000-0000-0000-0000000000ee')
          + (select count(*)::int from public.tool_catalog where tenant_id = '00000000-0000-0000-0000-0000000000ee')
          + (select count(*)::int from public.outbox where tenant_id = '00000000-0000-0000-0000-0000000000ee')
          + (select count(*)::int from public.tasks where tenant_id = '00000000-0000-0000-0000-0000000000ee'), 0,
          'deleting a tenant deletes its rows');

select * from finish();
rollback;
