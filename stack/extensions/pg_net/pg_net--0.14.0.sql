-- Local stand-in for pg_net 0.14: same schema, tables, functions and defaults as the real
-- extension. The local stack's delivery worker LISTENs on channel 'pg_net' (NOTIFY is
-- delivered only after commit, so a rolled-back request is never sent), claims rows from
-- net.http_request_queue and writes each result to net._http_response under the same id.

create schema if not exists net;

create unlogged table net.http_request_queue (
  id bigserial not null,
  method text not null check (method in ('GET', 'POST', 'DELETE')),
  url text not null,
  headers jsonb not null,
  body bytea,
  timeout_milliseconds integer not null
);
create index on net.http_request_queue (id);

create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);
create index on net._http_response (created);

-- How long responses are kept (pg_net.ttl); the delivery worker deletes older rows.
create function net._ttl() returns interval
language sql stable
as $$ select coalesce(nullif(current_setting('pg_net.ttl', true), ''), '6 hours')::interval $$;

create function net._urlencode_params(url text, params jsonb) returns text
language sql immutable
as $$
  select case
    when params is null or params = '{}'::jsonb then url
    else url || case when url like '%?%' then '&' else '?' end || (
      select string_agg(
        replace(replace(replace(key, '%', '%25'), '&', '%26'), '=', '%3D') || '=' ||
        replace(replace(replace(replace(value, '%', '%25'), '&', '%26'), '=', '%3D'), ' ', '%20'),
        '&' order by key)
      from jsonb_each_text(params))
  end
$$;

create function net._enqueue(
  method text, url text, headers jsonb, body bytea, timeout_milliseconds integer
) returns bigint
language plpgsql
as $$
declare
  request_id bigint;
begin
  if url is null then
    raise exception 'url must not be null';
  end if;
  if timeout_milliseconds is null or timeout_milliseconds <= 0 then
    raise exception 'timeout_milliseconds must be positive';
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  -- pg_net drops headers whose value is NULL
  values (method, url, jsonb_strip_nulls(coalesce(headers, '{}'::jsonb)), body,
          timeout_milliseconds)
  returning id into request_id;
  perform pg_notify('pg_net', request_id::text);
  return request_id;
end
$$;

create function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile
as $$
  select net._enqueue('GET', net._urlencode_params(url, params), headers, null,
                      timeout_milliseconds)
$$;

create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile
as $$
  select net._enqueue('POST', net._urlencode_params(url, params), headers,
                      convert_to(body::text, 'UTF8'), timeout_milliseconds)
$$;

create function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000,
  body jsonb default null
) returns bigint
language sql volatile
as $$
  select net._enqueue('DELETE', net._urlencode_params(url, params), headers,
                      case when body is null then null else convert_to(body::text, 'UTF8') end,
                      timeout_milliseconds)
$$;

revoke all on all functions in schema net from public;
revoke all on schema net from public;
