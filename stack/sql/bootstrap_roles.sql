-- Cluster-wide roles as on hosted Supabase. Runs once per cluster as supabase_admin (the
-- superuser that initdb created).
alter role supabase_admin password 'postgres';

create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit password 'postgres';
grant anon, authenticated, service_role to authenticator;

-- Runs Custom Access Token Hooks on hosted; the hook's grants name it.
create role supabase_auth_admin nologin noinherit createrole;

-- Hosted postgres is not a superuser. Same attributes here, so a permission mistake fails
-- locally as it would on hosted.
create role postgres login nosuperuser createdb createrole replication bypassrls
  password 'postgres';
grant anon, authenticated, service_role to postgres with admin option;
grant authenticator to postgres;
grant pg_monitor, pg_signal_backend to postgres;
