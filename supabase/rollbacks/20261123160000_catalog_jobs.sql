-- Reverts 20261123160000_catalog_jobs.sql. Leaves the platform extensions in place.
select jobs.unschedule(j)
  from unnest(array['catalog-sync-nightly', 'catalog-sync-tick', 'trickle-refresh-tick',
                    'drift-monitor-hourly']) as j;
delete from jobs.registry where slug in ('catalog-sync', 'trickle-refresh', 'drift-monitor');

drop trigger catalog_warm_scan on public.connected_accounts;
drop function internal.catalog_warm_scan();
drop function internal.catalog_drift_record(uuid, bigint, jsonb, integer, integer);
drop function internal.catalog_drift_compare(uuid, text, jsonb);
alter table public.guardrails drop column drift_webhook_url;
drop function internal.trickle_enqueue(uuid, text, timestamptz, integer);
drop function internal.trickle_claim_due(integer, uuid, text, boolean);
drop function internal.trickle_schedule_add(uuid, text);
drop function internal.trickle_window(uuid, text, timestamptz);
drop table internal.trickle_schedule;
drop function internal.catalog_deprecate_missing(uuid, text, text[]);
drop function internal.catalog_upsert(uuid, text, jsonb);
drop function internal.catalog_changed_slugs(uuid, text[], text[]);
drop function internal.catalog_defer_due(uuid, text);
drop function internal.catalog_clear_due(uuid, timestamptz);
drop function internal.catalog_mark_due(uuid);
drop table internal.catalog_sync_due;
delete from supabase_migrations.schema_migrations where version = '20261123160000';
