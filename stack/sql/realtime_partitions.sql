-- realtime.messages' partitions, as hosted Realtime keeps them: one per day from yesterday
-- to three days ahead, none older than 72 hours. Run by the bootstrap and before migrations
-- (realtime_schema.sql), and hourly by the stand-in (stack/realtime_server.ts). Idempotent.
do $$
declare
  d date;
  r record;
begin
  for d in select g::date from generate_series(current_date - 1, current_date + 3, '1 day') g
  loop
    if pg_catalog.to_regclass(format('realtime.messages_%s', to_char(d, 'YYYY_MM_DD'))) is null
    then
      execute format('create table realtime.%I partition of realtime.messages '
                     'for values from (%L) to (%L)',
                     'messages_' || to_char(d, 'YYYY_MM_DD'), d, d + 1);
      execute format('alter table realtime.%I owner to supabase_realtime_admin',
                     'messages_' || to_char(d, 'YYYY_MM_DD'));
    end if;
  end loop;
  for r in
    select c.relname from pg_catalog.pg_inherits i
      join pg_catalog.pg_class c on c.oid = i.inhrelid
     where i.inhparent = 'realtime.messages'::regclass
       and c.relname ~ '^messages_\d{4}_\d{2}_\d{2}$'
       and to_date(substr(c.relname, 10), 'YYYY_MM_DD') < (now() - interval '72 hours')::date
  loop
    execute format('drop table realtime.%I', r.relname);
  end loop;
end $$;
