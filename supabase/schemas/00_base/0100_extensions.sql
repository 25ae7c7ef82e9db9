-- Platform extensions the project relies on. Supabase pre-installs them (hosted, and the
-- local stack: stack/sql/bootstrap_database.sql), so these lines are no-ops there; they are
-- here to say what the schema needs. pg_cron lives in pg_catalog, as on hosted.
create extension if not exists vector with schema extensions;
create extension if not exists pg_net with schema extensions;
create extension if not exists pg_cron with schema pg_catalog;
create extension if not exists supabase_vault with schema vault;
