-- Supabase exposure rules, enumerated from the catalog so that an object added by a later
-- migration is checked too. The Data API serves schema `public`: every table there needs
-- RLS, every view security_invoker, and a function executable by anon or authenticated
-- must be meant for them. Other project schemas (internal, jobs, …) are closed to the API
-- roles altogether. Each assertion lists the offending objects when it fails.
begin;
select plan(19);

-- Project schemas: everything that is not the platform's (system, auth, extensions, and
-- the schemas extensions own).
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

-- Functions of project schemas, except those an extension installed.
create temporary view project_function as
select p.oid, n.nspname, p.oid::regprocedure::text as signature, p.prosecdef, p.proconfig
  from pg_proc p
  join project_schema n on n.oid = p.pronamespace
 where not exists (select 1 from pg_depend d
                    where d.classid = 'pg_proc'::regclass and d.objid = p.oid
                      and d.deptype = 'e');

-- Allow-lists: each entry says why an API role may execute it.
create temporary table api_function_allowed (signature text, rolname text, why text);
insert into api_function_allowed values
  ('approve_envelope(uuid,text,text)', 'authenticated', 'owners decide their envelopes'),
  ('accept_invitation(uuid)', 'authenticated', 'invitees accept their invitations'),
  -- Every tenant policy calls these (membership checked at query time).
  ('internal.active_tenant_id()', 'authenticated', 'tenant policies'),
  ('internal.active_tenant_role()', 'authenticated', 'owner policies'),
  -- The realtime.messages policy calls it as the joining user.
  ('internal.realtime_topic_tenant(text)', 'authenticated', 'tenant channel policy'),
  ('reject_envelope(uuid,text,text)', 'authenticated', 'owners decide their envelopes'),
  -- Spends the caller's own search budget (the tenant and user come from the token).
  ('search_budget_take()', 'authenticated', 'evidence search budget'),
  -- Postgres checks EXECUTE on functions in a CHECK constraint as the writing role; owners
  -- write guardrails. Without USAGE on internal they cannot call these by name.
  ('internal.is_valid_quiet_hours(jsonb)', 'authenticated', 'guardrails CHECK constraint'),
  ('internal.is_valid_max_attempts(jsonb)', 'authenticated', 'guardrails CHECK constraint'),
  ('internal.is_valid_time_zone(text)', 'authenticated', 'called by the guardrails CHECK constraint'),
  ('internal.webhook_url_problem(text,text)', 'authenticated', 'guardrails CHECK constraint'),
  -- Security invoker: RLS scopes them to the caller's tenant.
  ('search_evidence(vector,text,integer,text[],timestamp with time zone,timestamp with time zone)',
   'authenticated', 'evidence search for members'),
  ('search_evidence_hybrid(text,vector,text,integer,text[],timestamp with time zone,timestamp with time zone,integer)',
   'authenticated', 'hybrid evidence search for members');

-- --- tables and views in public ------------------------------------------------------
select is(
  array(select c.oid::regclass::text from pg_class c
         where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
           and not c.relrowsecurity order by 1),
  '{}'::text[], 'every table in public has row level security enabled');

select is(
  array(select c.oid::regclass::text from pg_class c
         where c.relnamespace = 'public'::regnamespace and c.relkind = 'v'
           and not coalesce('security_invoker=true' = any (c.reloptions)
                            or 'security_invoker=on' = any (c.reloptions), false)
         order by 1),
  '{}'::text[], 'every view in public is security_invoker');

select is(
  array(select c.oid::regclass::text from pg_class c
         where c.relnamespace = 'public'::regnamespace and c.relkind in ('m', 'f')
           and (has_table_privilege('anon', c.oid, 'select')
                or has_table_privilege('authenticated', c.oid, 'select'))
         order by 1),
  '{}'::text[], 'no materialized view or foreign table in public (they bypass RLS) is readable by the API roles');

select is(
  array(select format('%s: %s %s', c.oid::regclass, r.rolname, p.priv)
          from pg_class c
          cross join (values ('anon'), ('authenticated')) as r (rolname)
          cross join (values ('truncate'), ('references'), ('trigger')) as p (priv)
         where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
           and has_table_privilege(r.rolname, c.oid, p.priv)
         order by 1),
  '{}'::text[], 'anon and authenticated have no TRUNCATE (it ignores RLS), REFERENCES or TRIGGER on public tables');

-- --- policies ------------------------------------------------------------------------
select is(
  array(select format('%s.%s', tablename, policyname) from pg_policies
         where schemaname = 'public' and cmd = 'ALL' order by 1),
  '{}'::text[], 'policies are per operation (no FOR ALL)');

select is(
  array(select format('%s.%s to %s', tablename, policyname, roles) from pg_policies
         where schemaname = 'public'
           -- audit_retention: the NOLOGIN role of audit_log retention (see its migration)
           and not roles <@ array['authenticated', 'supabase_auth_admin', 'audit_retention']::name[]
         order by 1),
  '{}'::text[], 'policies are for authenticated (or the auth hook role), never anon or public');

-- auth.jwt() / auth.uid() inside a sub-select run once per statement, not once per row.
select is(
  array(select format('%s.%s', tablename, policyname) from pg_policies
         where schemaname = 'public'
           and (select count(*) from regexp_matches(coalesce(qual, '') || ' ' || coalesce(with_check, ''),
                                                    'auth\.\w+\(', 'g'))
               <> (select count(*) from regexp_matches(coalesce(qual, '') || ' ' || coalesce(with_check, ''),
                                                       'SELECT auth\.\w+\(', 'g'))
         order by 1),
  '{}'::text[], 'policies call auth.* functions only inside (select …)');

-- --- realtime.messages: who may listen on, and write, the tenant channels -------------
-- Realtime authorizes joins with SELECT policies and client broadcasts with INSERT ones.
-- The channels are written only by the publishing triggers: no policy but SELECT, and only
-- for authenticated.
select is(
  array(select format('%s %s to %s', policyname, cmd, roles) from pg_policies
         where schemaname = 'realtime' and tablename = 'messages'
           and (cmd <> 'SELECT' or not roles <@ array['authenticated']::name[])
         order by 1),
  '{}'::text[], 'policies on realtime.messages are SELECT only, for authenticated (nobody may send)');

select is(
  array(select policyname::text from pg_policies
         where schemaname = 'realtime' and tablename = 'messages'
           and not (qual ~ 'realtime\.topic\(\)' and qual ~ 'active_tenant_id\(\)'
                    and qual ~ 'extension = ''broadcast''')
         order by 1),
  '{}'::text[], 'each reads the joined topic''s tenant, the caller''s membership and broadcast only');

-- --- functions -----------------------------------------------------------------------
select is(
  array(select signature from project_function
         where prosecdef
           and not exists (select 1 from unnest(proconfig) c where c like 'search_path=%')
         order by 1),
  '{}'::text[], 'every SECURITY DEFINER function has a fixed search_path');

-- A SET clause keeps the planner from inlining a SQL function, and these must be inlined
-- (partial indexes are written with them); their bodies name every operator with its schema,
-- so no search_path can change what they mean.
create temporary table search_path_exempt (signature text, why text);
insert into search_path_exempt values
  ('internal.outbox_waiting(text)', 'inlined into queries and the outbox partial indexes'),
  ('internal.outbox_due(text,timestamp with time zone)', 'inlined into the claim''s queries');
select is(
  array(select signature from project_function
         where not exists (select 1 from unnest(coalesce(proconfig, '{}')) c
                            where c like 'search_path=%')
           and signature not in (select signature from search_path_exempt)
         order by 1),
  '{}'::text[], 'every project function has a fixed search_path (Supabase linter 0011), except the inlined ones');

select is(
  array(select f.signature || ' by ' || r.rolname
          from project_function f
          cross join (values ('anon'), ('authenticated')) as r (rolname)
         where has_function_privilege(r.rolname, f.oid, 'execute')
           and not exists (select 1 from api_function_allowed a
                            where a.signature = f.signature and a.rolname = r.rolname)
         order by 1),
  '{}'::text[], 'no function is executable by anon or authenticated unless allow-listed');

-- The one exception: the membership checks the policies call, which must read
-- tenant_members whatever the caller may see (they return only the caller's own tenant and
-- role, so they reveal nothing).
select is(
  array(select signature from project_function
         where prosecdef and nspname <> 'public'
           and (has_function_privilege('anon', oid, 'execute')
                or has_function_privilege('authenticated', oid, 'execute'))
           and signature not in ('internal.active_tenant_id()', 'internal.active_tenant_role()')
         order by 1),
  '{}'::text[], 'no SECURITY DEFINER function outside public is executable by the API roles, but the membership checks');

select is(
  array(select a.signature || ' by ' || a.rolname from api_function_allowed a
         where not exists (select 1 from project_function f where f.signature = a.signature)
            or not has_function_privilege(a.rolname, a.signature::regprocedure, 'execute')
         order by 1),
  '{}'::text[], 'the allow-list is current: its functions exist and are executable as intended');

select is(
  array(select signature from project_function
         where signature = 'custom_access_token_hook(jsonb)'
           and has_function_privilege('supabase_auth_admin', oid, 'execute')
           and not has_function_privilege('service_role', oid, 'execute')
           and not prosecdef),
  array['custom_access_token_hook(jsonb)'],
  'the access-token hook is SECURITY INVOKER and executable by supabase_auth_admin, not the API roles');

-- --- schemas other than public ---------------------------------------------------------
select is(
  array(select nspname from project_schema where nspname = 'internal'),
  array['internal']::name[], 'internal machinery has its own schema');

select is(
  array(select s.nspname || ' by ' || r.rolname
          from project_schema s
          cross join (values ('anon'), ('authenticated'), ('public')) as r (rolname)
         where s.nspname <> 'public'
           and case when r.rolname = 'public'
                    then exists (select 1 from pg_namespace n, aclexplode(n.nspacl) a
                                  where n.oid = s.oid and a.grantee = 0
                                    and a.privilege_type = 'USAGE')
                    else has_schema_privilege(r.rolname, s.oid, 'usage') end
         order by 1),
  '{}'::text[], 'schemas other than public are closed to anon, authenticated and PUBLIC');

select is(
  array(select format('%s: %s %s', c.oid::regclass, r.rolname, p.priv)
          from pg_class c
          join project_schema s on s.oid = c.relnamespace
          cross join (values ('anon'), ('authenticated')) as r (rolname)
          cross join (values ('select'), ('insert'), ('update'), ('delete'), ('truncate'))
                       as p (priv)
         where s.nspname <> 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
           and has_table_privilege(r.rolname, c.oid, p.priv)
         order by 1),
  '{}'::text[], 'no table or view outside public grants anything to anon or authenticated');

select is(
  array(select c.oid::regclass::text from pg_class c
          join project_schema s on s.oid = c.relnamespace
         where s.nspname <> 'public' and c.relkind = 'v'
           and not coalesce('security_invoker=true' = any (c.reloptions)
                            or 'security_invoker=on' = any (c.reloptions), false)
         order by 1),
  '{}'::text[], 'views outside public are security_invoker too (they read public tables)');

select * from finish();
rollback;
