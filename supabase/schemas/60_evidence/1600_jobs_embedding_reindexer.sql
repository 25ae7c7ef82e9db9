-- Schedules: drain the queue every minute (each run chains itself while work remains);
-- nightly, re-embed the last 7 days and sources embedded only by another model.
select jobs.register('embedding-reindexer', 50000, 60);
select jobs.schedule('embedding-reindexer', '* * * * *', 'embedding-reindexer', '{}'::jsonb);
select jobs.schedule('embedding-reindexer-nightly', '17 3 * * *', 'embedding-reindexer',
                     '{"mode": "nightly", "window_days": 7}'::jsonb);
