-- One database shaped like a hosted Supabase project: platform extensions pre-installed
-- (as supautils lets `postgres` create them there), the auth and realtime schemas, default
-- grants.
-- Runs as supabase_admin in the target database. :'with_cron' says whether pg_cron goes in
-- (pg_cron lives in one database only: cron.database_name).

alter schema public owner to pg_database_owner;
create schema extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on tables to postgres, service_role;
alter default privileges in schema extensions grant all on functions to public;

create extension "uuid-ossp" with schema extensions;
create extension pgcrypto with schema extensions;
create extension vector with schema extensions;
create extension pgtap with schema extensions;
create extension supabase_vault;
create extension pg_net with schema extensions;

select :'with_cron' = 'on' as with_cron \gset
\if :with_cron
create extension pg_cron with schema pg_catalog;
-- What hosted gives postgres on cron, no more: supabase/postgres
-- ansible/files/postgresql_extension_custom_scripts/pg_cron/after-create.sql and
-- migrations/db/migrations/20231020085357_revoke_writes_on_cron_job_from_postgres.sql.
-- postgres may only SELECT cron.job (schedules change through cron.schedule,
-- cron.unschedule and cron.alter_job) and may use every cron function, alter_job included.
grant usage on schema cron to postgres with grant option;
grant all on all functions in schema cron to postgres with grant option;
alter default privileges for user supabase_admin in schema cron grant all
  on sequences to postgres with grant option;
alter default privileges for user supabase_admin in schema cron grant all
  on tables to postgres with grant option;
alter default privileges for user supabase_admin in schema cron grant all
  on functions to postgres with grant option;
grant all privileges on all tables in schema cron to postgres with grant option;
revoke all on table cron.job from postgres;
grant select on table cron.job to postgres with grant option;
\endif

-- pg_net, as hosted: pg_net's own script (sql/pg_net.sql) grants its schema, tables and
-- sequences to PUBLIC and leaves its functions to PUBLIC; supabase/postgres'
-- grant_pg_net_access event trigger (migrations/db/init-scripts/00000000000003-post-setup.sql)
-- then makes http_get / http_post SECURITY DEFINER and executable by postgres and the API
-- roles only. The stand-in extension creates the objects closed; this gives them hosted's
-- grants.
grant usage on schema net to public;
grant all on all sequences in schema net to public;
grant all on all tables in schema net to public;
grant execute on all functions in schema net to public;
alter function net.http_get(url text, params jsonb, headers jsonb, timeout_milliseconds integer)
  security definer;
alter function net.http_post(url text, body jsonb, params jsonb, headers jsonb,
                             timeout_milliseconds integer) security definer;
alter function net.http_get(url text, params jsonb, headers jsonb, timeout_milliseconds integer)
  set search_path = net;
alter function net.http_post(url text, body jsonb, params jsonb, headers jsonb,
                             timeout_milliseconds integer) set search_path = net;
revoke all on function net.http_get(url text, params jsonb, headers jsonb,
                                    timeout_milliseconds integer) from public;
revoke all on function net.http_post(url text, body jsonb, params jsonb, headers jsonb,
                                     timeout_milliseconds integer) from public;
grant execute on function net.http_get(url text, params jsonb, headers jsonb,
                                       timeout_milliseconds integer)
  to postgres, anon, authenticated, service_role;
grant execute on function net.http_post(url text, body jsonb, params jsonb, headers jsonb,
                                        timeout_milliseconds integer)
  to postgres, anon, authenticated, service_role;
grant usage on schema net to postgres, anon, authenticated, service_role;

-- Vault, as hosted: supabase/postgres
-- ansible/files/postgresql_extension_custom_scripts/supabase_vault/after-create.sql (with the
-- service_role grants of supabase/postgres#1539). vault._crypto_decrypt is this stand-in's
-- name for the decrypting function the decrypted_secrets view calls.
grant usage on schema vault to postgres with grant option;
grant select, delete on vault.secrets, vault.decrypted_secrets to postgres with grant option;
grant execute on function vault.create_secret, vault.update_secret, vault._crypto_decrypt
  to postgres with grant option;
grant usage on schema vault to service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to service_role;
grant execute on function vault.create_secret, vault.update_secret, vault._crypto_decrypt
  to service_role;

-- auth: the parts Postgres code relies on (users for foreign keys, the claim helpers) and
-- the tables of the Auth stand-in (auth_schema.sql).
create schema auth;
grant usage on schema auth to postgres, anon, authenticated, service_role, supabase_auth_admin;

create table auth.users (
  instance_id uuid,
  id uuid primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255) unique,
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_anonymous boolean not null default false,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);
grant all on auth.users to postgres, service_role;
grant select on auth.users to supabase_auth_admin;
\ir auth_schema.sql

create function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

create function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;
grant execute on all functions in schema auth to postgres, anon, authenticated, service_role;

-- storage: the schema hosted Storage owns, before any migration (its own file: the stack
-- applies it again on every start).
\ir storage_schema.sql

-- realtime: what hosted Realtime creates in a project before any migration of ours runs
-- (messages, send, broadcast_changes, topic), so migrations can write policies on
-- realtime.messages as on hosted.
\ir realtime_schema.sql

-- public: default grants as on Supabase, so tables are reachable and RLS decides.
grant usage on schema public to postgres, anon, authenticated, service_role;
grant create on schema public to postgres;
alter default privileges for role postgres in schema public
  grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to anon, authenticated, service_role;

-- As on hosted: extensions is on every session's search_path.
do $$ begin
  execute format('alter database %I set search_path = "$user", public, extensions',
                 current_database());
end $$;
