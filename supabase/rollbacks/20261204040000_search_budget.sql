-- Reverts 20261204040000_search_budget.sql.
drop function public.search_budget_take();
drop table public.search_budgets;
delete from supabase_migrations.schema_migrations where version = '20261204040000';
