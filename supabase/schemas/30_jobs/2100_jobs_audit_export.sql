-- The audit export: every few minutes the chain heads of every tenant leave the project for
-- a sink outside its authority (supabase/functions/audit-export, docs/audit.md). To export
-- more often, schedule again under the same name and register the matching interval, e.g.
-- select jobs.register('audit-export', 30000, 120);
-- select jobs.schedule('audit-export-tick', '*/2 * * * *', 'audit-export');
select jobs.register('audit-export', 30000, 300);
select jobs.schedule('audit-export-tick', '*/5 * * * *', 'audit-export', '{}');
