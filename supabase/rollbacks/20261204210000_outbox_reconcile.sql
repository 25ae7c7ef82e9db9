-- Reverts 20261204210000_outbox_reconcile.sql: no read-backs, unknown outcomes wait for the
-- operator only. Declarations and reconcile state are dropped with their tables.
drop function public.outbox_reconcile_settle(jsonb);
drop function public.outbox_reconcile_claim(text, integer, integer, uuid);
drop table internal.outbox_reconcile;
drop table internal.tool_readbacks;
drop function internal.tool_readback_problem(jsonb, jsonb, text, text);
drop index public.outbox_unknown_outcome_idx;
delete from supabase_migrations.schema_migrations where version = '20261204210000';
