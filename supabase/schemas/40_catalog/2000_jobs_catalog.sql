-- The catalog jobs and their schedules (pause with select jobs.pause('<slug>')). Both calls
-- are idempotent: registering or scheduling again updates the row.
select jobs.register('catalog-sync', 60000, 300);
select jobs.register('trickle-refresh', 30000, 300);
select jobs.register('drift-monitor', 60000, 3600);
select jobs.schedule('catalog-sync-nightly', '0 3 * * *', 'catalog-sync', '{"mark_due": true}');
select jobs.schedule('catalog-sync-tick', '*/5 * * * *', 'catalog-sync', '{}');
select jobs.schedule('trickle-refresh-tick', '*/5 * * * *', 'trickle-refresh', '{}');
select jobs.schedule('drift-monitor-hourly', '23 * * * *', 'drift-monitor', '{}');
