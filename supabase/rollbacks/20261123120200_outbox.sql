-- Reverts 20261123120200_outbox.sql.
drop function public.reject_envelope(uuid, text, text);
drop function public.approve_envelope(uuid, text, text);
drop function internal.decide_envelope(uuid, text, text, text);
drop function public.enqueue_envelope(uuid, text, jsonb, text, text, jsonb, jsonb);
drop table public.edits;
drop table public.grades;
drop table public.approvals;
drop table public.outbox_dlq;
drop table public.outbox;

delete from supabase_migrations.schema_migrations where version = '20261123120200';
