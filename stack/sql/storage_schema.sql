-- The storage schema as hosted Supabase has it before any project migration: what the
-- platform image (supabase/postgres, migrations/db) creates and the Storage server's own
-- migrations (supabase/storage, migrations/tenant) bring up to date, written here from
-- their definitions: the tables and columns policies and the Storage API use, the helpers
-- policies call (foldername, filename, extension, operation), the owner
-- supabase_storage_admin, the grants postgres and the API roles hold, and the triggers that
-- refuse direct DELETEs. A project migration that hosted would refuse (a table in schema
-- storage, a policy on a column that does not exist, a delete without the Storage API) is
-- refused here too.
--
-- Runs as the superuser. Idempotent: bootstrap_database.sql includes it for a new database,
-- and the stack applies it again before migrations (as the Storage server migrates its
-- schema on boot), so a cluster made before it existed is brought up to date without a
-- reset. Not modelled: analytics and vector buckets, Iceberg tables, object versioning's
-- columns, the S3 protocol's functions.

do $$ begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'supabase_storage_admin') then
    -- Hosted: NOINHERIT CREATEROLE LOGIN NOREPLICATION; it switches to the API roles
    -- (set role) to run each request's SQL as the caller.
    create role supabase_storage_admin noinherit createrole login noreplication
      password 'postgres';
  end if;
end $$;
grant anon, authenticated, service_role to supabase_storage_admin;
alter role supabase_storage_admin set search_path = storage;

create schema if not exists storage authorization supabase_storage_admin;
-- As hosted since 2025: postgres is no member of supabase_storage_admin and may not create
-- objects in the schema; it uses it, and holds the table grants below.
grant usage on schema storage to postgres with grant option;
grant usage on schema storage to anon, authenticated, service_role;

set role supabase_storage_admin;

alter default privileges in schema storage
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema storage
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema storage
  grant all on sequences to postgres, anon, authenticated, service_role;

do $$ begin
  create type storage.buckettype as enum ('STANDARD', 'ANALYTICS', 'VECTOR');
exception when duplicate_object then null;
end $$;

create table if not exists storage.migrations (
  id integer primary key,
  name varchar(100) unique not null,
  hash varchar(40) not null,
  executed_at timestamp default current_timestamp
);
alter table storage.migrations enable row level security;
revoke all on storage.migrations from anon, authenticated, service_role, postgres;

create table if not exists storage.buckets (
  id text not null primary key,
  name text not null,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text,
  type storage.buckettype not null default 'STANDARD'
);
create unique index if not exists bname on storage.buckets using btree (name);
alter table storage.buckets enable row level security;
comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';

create table if not exists storage.objects (
  id uuid not null default gen_random_uuid() primary key,
  bucket_id text,
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  owner_id text,
  user_metadata jsonb,
  constraint "objects_bucketId_fkey" foreign key (bucket_id) references storage.buckets (id)
);
create unique index if not exists bucketid_objname on storage.objects using btree (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);
create index if not exists idx_objects_bucket_id_name
  on storage.objects (bucket_id, name collate "C");
alter table storage.objects enable row level security;
comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';

create table if not exists storage.s3_multipart_uploads (
  id text primary key,
  in_progress_size bigint not null default 0,
  upload_signature text not null,
  bucket_id text not null references storage.buckets (id),
  key text collate "C" not null,
  version text not null,
  owner_id text,
  created_at timestamptz not null default now(),
  user_metadata jsonb,
  metadata jsonb
);
create table if not exists storage.s3_multipart_uploads_parts (
  id uuid primary key default gen_random_uuid(),
  upload_id text not null references storage.s3_multipart_uploads (id) on delete cascade,
  size bigint not null default 0,
  part_number integer not null,
  bucket_id text not null references storage.buckets (id),
  key text collate "C" not null,
  etag text not null,
  owner_id text,
  version text not null,
  created_at timestamptz not null default now()
);
alter table storage.s3_multipart_uploads enable row level security;
alter table storage.s3_multipart_uploads_parts enable row level security;
revoke all on storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts
  from anon, authenticated;
grant select on storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts
  to anon, authenticated;
grant all on storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts to service_role;

-- What postgres holds on the two tables projects write policies on (hosted grants these
-- with grant option); the API roles get everything and RLS decides.
grant all on storage.buckets, storage.objects to anon, authenticated, service_role;
grant all on storage.buckets, storage.objects to postgres with grant option;

-- The path helpers policies use: `(storage.foldername(name))[1]` is the first folder.
create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
as $$
declare
  v_parts text[] := string_to_array(name, '/');
begin
  return v_parts[1 : array_length(v_parts, 1) - 1];
end
$$;

create or replace function storage.filename(name text) returns text
language plpgsql immutable
as $$
declare
  v_parts text[] := string_to_array(name, '/');
begin
  return v_parts[array_length(v_parts, 1)];
end
$$;

create or replace function storage.extension(name text) returns text
language plpgsql immutable
as $$
declare
  v_parts text[] := string_to_array(name, '/');
begin
  -- What follows the file name's last dot (the whole name when it has none), as hosted.
  return reverse(split_part(reverse(v_parts[array_length(v_parts, 1)]), '.', 1));
end
$$;

create or replace function storage.get_size_by_bucket()
returns table (size bigint, bucket_id text)
language plpgsql stable
as $$
begin
  return query
    select sum((o.metadata ->> 'size')::bigint)::bigint, o.bucket_id
      from storage.objects o
     group by o.bucket_id;
end
$$;

-- The Storage server sets storage.operation per request (storage.object.upload, …), so a
-- policy can allow one operation and not another.
create or replace function storage.operation() returns text
language plpgsql stable
as $$
begin
  return current_setting('storage.operation', true);
end
$$;

create or replace function storage.allow_only_operation(expected_operation text)
returns boolean
language sql stable
as $$
  select coalesce(expected_operation <> ''
                  and regexp_replace(storage.operation(), '^storage\.', '')
                      = regexp_replace(expected_operation, '^storage\.', ''), false)
$$;

create or replace function storage.allow_any_operation(expected_operations text[])
returns boolean
language sql stable
as $$
  select exists (
    select from unnest(expected_operations) as e (op)
     where e.op <> ''
       and regexp_replace(storage.operation(), '^storage\.', '')
           = regexp_replace(e.op, '^storage\.', ''))
$$;

-- The listing of one folder level (list v1): the objects and the folders directly under
-- `prefix`, as the caller may see them (SECURITY INVOKER: RLS decides).
create or replace function storage.search(
  prefix text,
  bucketname text,
  limits integer default 100,
  levels integer default 1,
  offsets integer default 0,
  search text default '',
  sortcolumn text default 'name',
  sortorder text default 'asc'
) returns table (name text, id uuid, updated_at timestamptz, created_at timestamptz,
                 last_accessed_at timestamptz, metadata jsonb)
language plpgsql stable
as $$
declare
  v_order text := case when lower(sortorder) = 'desc' then 'desc' else 'asc' end;
  v_column text := case when sortcolumn in ('name', 'updated_at', 'created_at',
                                            'last_accessed_at') then sortcolumn
                        else 'name' end;
begin
  return query execute format(
    'with entries as (
       select o.path_tokens[$3] as entry,
              case when array_length(o.path_tokens, 1) = $3 then o.id end as id,
              o.updated_at, o.created_at, o.last_accessed_at, o.metadata
         from storage.objects o
        where o.bucket_id = $2
          and o.name collate "C" like $1 || $4 || ''%%''
     ),
     grouped as (
       -- A folder is one row, however many objects lie under it.
       select distinct on (e.entry, e.id is null) e.entry as name, e.id,
              case when e.id is not null then e.updated_at end as updated_at,
              case when e.id is not null then e.created_at end as created_at,
              case when e.id is not null then e.last_accessed_at end as last_accessed_at,
              case when e.id is not null then e.metadata end as metadata
         from entries e
        order by e.entry, e.id is null
     )
     select g.name, g.id, g.updated_at, g.created_at, g.last_accessed_at, g.metadata
       from grouped g
      order by (g.id is not null), %I %s, g.name
      limit $5 offset $6', v_column, v_order)
  using prefix, bucketname, levels, coalesce(search, ''), limits, offsets;
end
$$;

create or replace function storage.can_insert_object(bucketid text, name text, owner uuid,
                                                     metadata jsonb)
returns void
language plpgsql
as $$
begin
  insert into storage.objects (bucket_id, name, owner, metadata)
  values (bucketid, name, owner, metadata);
  -- Undone on purpose: the caller only wants to know whether RLS would let it insert.
  raise sqlstate 'PT200' using message = 'ROLLBACK', detail = 'rollback successful insert';
end
$$;

create or replace function storage.update_updated_at_column() returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end
$$;

create or replace function storage.enforce_bucket_name_length() returns trigger
language plpgsql
as $$
begin
  if length(new.name) > 100 then
    raise exception 'bucket name "%" is too long (% characters). Max is 100.',
      new.name, length(new.name);
  end if;
  return new;
end
$$;

-- Objects are bytes elsewhere plus a row here: a row deleted without the Storage API
-- orphans the bytes. The Storage server sets storage.allow_delete_query in its own
-- transactions; anything else is refused.
create or replace function storage.protect_delete() returns trigger
language plpgsql
as $$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using hint = 'This prevents accidental data loss from orphaned objects.',
            errcode = '42501';
  end if;
  return null;
end
$$;

drop trigger if exists update_objects_updated_at on storage.objects;
create trigger update_objects_updated_at before update on storage.objects
  for each row execute function storage.update_updated_at_column();
drop trigger if exists enforce_bucket_name_length_trigger on storage.buckets;
create trigger enforce_bucket_name_length_trigger
  before insert or update of name on storage.buckets
  for each row execute function storage.enforce_bucket_name_length();
drop trigger if exists protect_buckets_delete on storage.buckets;
create trigger protect_buckets_delete before delete on storage.buckets
  for each statement execute function storage.protect_delete();
drop trigger if exists protect_objects_delete on storage.objects;
create trigger protect_objects_delete before delete on storage.objects
  for each statement execute function storage.protect_delete();

reset role;
