-- The drain's job and its safety-net schedule; the enqueue kick does the rest.
select jobs.register('outbox-drain', 45000, 60);
select jobs.schedule('outbox-drain-every-minute', '* * * * *', 'outbox-drain',
                     '{"trigger": "cron"}'::jsonb);
