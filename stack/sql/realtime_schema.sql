-- Schema realtime as hosted Realtime keeps it in a project's database, for Broadcast from
-- Database and Realtime Authorization: realtime.messages (partitioned by day on inserted_at),
-- realtime.send, realtime.broadcast_changes and realtime.topic(), owned by
-- supabase_realtime_admin (supabase/realtime priv/repo/tenant_schema/realtime: schema.sql,
-- tables/messages.sql, functions/send.sql, broadcast_changes.sql, topic.sql). What only
-- postgres_changes uses (realtime.subscription, apply_rls, list_changes, …) is left out: the
-- stand-in does not serve postgres_changes.
--
-- Idempotent. The bootstrap includes it, and every start runs it again before migrations,
-- as hosted Realtime migrates a project's schema when it connects. The daily partitions are
-- kept by realtime_partitions.sql.
--
-- One addition hosted does not have: a statement trigger that NOTIFYs the stand-in
-- (stack/realtime_server.ts) of committed messages, where hosted reads them from logical
-- replication. Postgres delivers a NOTIFY only on commit, so a rolled-back message is never
-- seen, as on hosted.

do $$ begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_realtime_admin') then
    create role supabase_realtime_admin nosuperuser noinherit nocreatedb nocreaterole nologin
      noreplication nobypassrls;
  end if;
end $$;

create schema if not exists realtime authorization supabase_admin;
grant usage on schema realtime to postgres, anon, authenticated, service_role;
grant create, usage on schema realtime to supabase_realtime_admin with grant option;

create table if not exists realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp without time zone not null default now(),
  inserted_at timestamp without time zone not null default now(),
  id uuid not null default gen_random_uuid(),
  binary_payload bytea,
  constraint messages_payload_exclusive check (payload is null or binary_payload is null),
  constraint messages_pkey primary key (id, inserted_at)
) partition by range (inserted_at);
create index if not exists messages_inserted_at_topic_index
  on realtime.messages (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;
alter table realtime.messages owner to supabase_realtime_admin;
alter table realtime.messages enable row level security;
grant select, insert, update on realtime.messages to postgres, anon, authenticated, service_role;

create or replace function realtime.topic() returns text
language sql
stable
as $$
select nullif(current_setting('realtime.topic', true), '')::text;
$$;
alter function realtime.topic() owner to supabase_realtime_admin;

-- As hosted: plpgsql, SECURITY INVOKER (the caller's privileges and RLS apply to the
-- insert), realtime.topic set for the rest of the transaction, errors turned into warnings
-- so a failed publish never fails the caller's transaction.
create or replace function realtime.send(payload jsonb, event text, topic text,
                                         private boolean default true)
returns void
language plpgsql
as $$
declare
  generated_id uuid;
  final_payload jsonb;
begin
  begin
    generated_id := gen_random_uuid();
    if payload ? 'id' then
      final_payload := payload;
    else
      final_payload := jsonb_set(payload, '{id}', to_jsonb(generated_id));
    end if;
    execute format('SET LOCAL realtime.topic TO %L', topic);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (generated_id, final_payload, event, topic, private, 'broadcast');
  exception
    when others then
      raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;
alter function realtime.send(jsonb, text, text, boolean) owner to supabase_realtime_admin;

create or replace function realtime.broadcast_changes(topic_name text, event_name text,
                                                      operation text, table_name text,
                                                      table_schema text, new record,
                                                      old record, level text default 'ROW')
returns void
language plpgsql
as $$
declare
  row_data jsonb := '{}'::jsonb;
begin
  if level = 'STATEMENT' then
    raise exception 'function can only be triggered for each row, not for each statement';
  end if;
  if operation = 'INSERT' or operation = 'UPDATE' or operation = 'DELETE' then
    row_data := jsonb_build_object('old_record', old, 'record', new, 'operation', operation,
                                   'table', table_name, 'schema', table_schema);
    perform realtime.send(row_data, event_name, topic_name);
  else
    raise exception 'Unexpected operation type: %', operation;
  end if;
exception
  when others then
    raise exception 'Failed to process the row: %', sqlerrm;
end;
$$;
alter function realtime.broadcast_changes(text, text, text, text, text, record, record, text)
  owner to supabase_realtime_admin;

-- Local stack only: tells the stand-in which messages committed, one JSON array
-- [id, private, topic] per line (the stand-in fetches only those someone listens to), in
-- NOTIFYs below Postgres' 8000-byte payload limit.
create or replace function realtime.stack_notify_committed() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  r record;
  v_chunk text := '';
begin
  for r in
    select pg_catalog.to_json(array[n.id::text, coalesce(n.private, false)::text, n.topic])::text
             as line
      from new_rows n
     where n.extension = 'broadcast'
  loop
    if octet_length(v_chunk) + octet_length(r.line) > 7900 then
      perform pg_catalog.pg_notify('realtime_messages', v_chunk);
      v_chunk := '';
    end if;
    v_chunk := v_chunk || case when v_chunk = '' then '' else E'\n' end || r.line;
  end loop;
  if v_chunk <> '' then
    perform pg_catalog.pg_notify('realtime_messages', v_chunk);
  end if;
  return null;
end
$$;
alter function realtime.stack_notify_committed() owner to supabase_realtime_admin;
comment on function realtime.stack_notify_committed() is
  'Local stack only (hosted Realtime reads realtime.messages through logical replication): NOTIFY realtime_messages with [id, private, topic] of each inserted broadcast, delivered on commit.';
create or replace trigger stack_notify_committed after insert on realtime.messages
  referencing new table as new_rows
  for each statement execute function realtime.stack_notify_committed();

-- The partitions (also run hourly by the stand-in).
\ir realtime_partitions.sql
