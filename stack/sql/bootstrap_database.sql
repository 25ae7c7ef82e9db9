-- One database shaped like a hosted Supabase project: platform extensions pre-installed
-- (as supautils lets `postgres` create them there), the auth schema, default grants.
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
grant usage on schema cron to postgres;
grant all on all tables in schema cron to postgres;
grant all on all sequences in schema cron to postgres;
\endif

-- pg_net and Vault: usable by postgres and service_role, as on hosted.
grant usage on schema net to postgres, service_role;
grant all on all tables in schema net to postgres, service_role;
grant all on all sequences in schema net to postgres, service_role;
grant execute on all functions in schema net to postgres, service_role;
grant usage on schema vault to postgres, service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to postgres, service_role;
grant execute on all functions in schema vault to postgres, service_role;

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
