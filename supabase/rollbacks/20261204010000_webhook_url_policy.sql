-- Reverts 20261204010000_webhook_url_policy.sql: the old pattern check again. URLs the
-- migration set to NULL stay NULL (it kept no copy of them, on purpose), and its
-- webhook_url_refused audit rows stay (the log is append-only).

set local check_function_bodies = off;

alter table public.guardrails drop constraint guardrails_drift_webhook_url_check;
alter table public.guardrails add constraint guardrails_drift_webhook_url_check
  check (drift_webhook_url ~ '^https?://[^\s]+$');
comment on column public.guardrails.drift_webhook_url is
  'Optional URL drift-monitor POSTs to (through pg_net) when it finds breaking catalog drift for the tenant; NULL for none.';
drop function internal.webhook_url_problem(text, text);

delete from supabase_migrations.schema_migrations where version = '20261204010000';
