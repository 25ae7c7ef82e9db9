-- Reverts 20261204100000_realtime_channels.sql: the channels' schedule, triggers, policy,
-- throttle table and functions. Messages already in realtime.messages stay (the platform's
-- table; its partitions expire after three days).

select cron.unschedule('realtime-queue-depth-flush');

drop trigger realtime_publish on public.approvals;
drop trigger realtime_publish on public.guardrails;
drop trigger realtime_publish on public.tenants;
drop trigger realtime_publish_delete on public.outbox;
drop trigger realtime_publish_insert on public.outbox;
drop trigger realtime_publish_update on public.outbox;

drop policy tenant_channels_select_member on realtime.messages;

drop function internal.realtime_activity_publish();
drop function internal.realtime_approvals_publish();
drop function internal.realtime_flush_queue_depth();
drop function internal.realtime_outbox_publish();
drop function internal.realtime_publish_envelopes(uuid, text, integer, jsonb, jsonb);
drop function internal.realtime_publish_queue_depth(uuid[]);
drop function internal.realtime_queue_depth_of(uuid);
drop function internal.realtime_topic_tenant(text);
drop table internal.realtime_queue_depth;

delete from supabase_migrations.schema_migrations where version = '20261204100000';
