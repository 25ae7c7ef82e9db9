-- Reverts 20261123150000_outbox_drain.sql.
select jobs.unschedule('outbox-drain-every-minute');
delete from jobs.registry where slug = 'outbox-drain';
drop trigger outbox_kick_drain on public.outbox;
drop function internal.outbox_kick_drain();
drop table internal.outbox_kick;
drop function public.outbox_resolve(uuid, text, text, text);
drop function public.outbox_requeue_dlq(uuid, integer, text, uuid);
drop function public.outbox_settle(jsonb);
drop function public.outbox_release(uuid, uuid, text, jsonb);
drop function public.outbox_move_to_dlq(uuid, uuid, text, text, boolean, text, jsonb);
drop function public.outbox_park(uuid, uuid, text, text, timestamptz, text, jsonb);
drop function public.outbox_retry(uuid, uuid, bigint, text, text, jsonb);
drop function public.outbox_complete(uuid, uuid, jsonb, jsonb);
drop function public.outbox_mark_sending(uuid[], uuid[]);
drop function public.outbox_claim(text, integer, integer, uuid);
drop function internal.outbox_audit(public.outbox, text, text, text, jsonb);
drop index public.outbox_tenant_running_idx;
drop index public.outbox_tenant_due_idx;

delete from supabase_migrations.schema_migrations where version = '20261123150000';
