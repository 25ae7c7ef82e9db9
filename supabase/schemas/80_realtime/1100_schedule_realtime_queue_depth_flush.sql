-- Housekeeping (pg_cron, as postgres), as trim-cron-history: not a jobs.register'ed job.
select cron.schedule('realtime-queue-depth-flush', '* * * * *',
  $$select internal.realtime_flush_queue_depth()$$);
