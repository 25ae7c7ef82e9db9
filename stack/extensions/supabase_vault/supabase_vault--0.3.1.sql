-- Local stand-in for supabase_vault 0.3: vault.secrets, vault.create_secret,
-- vault.update_secret and the vault.decrypted_secrets view, as on hosted Supabase.


-- The root key. Only the extension owner (the superuser) can read it; the SECURITY DEFINER
-- functions below are the only way in.
create table vault._root_key (key bytea not null);
insert into vault._root_key select extensions.gen_random_bytes(32);
revoke all on vault._root_key from public;

create table vault.secrets (
  id uuid primary key default extensions.gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea default extensions.gen_random_bytes(16),
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);
create unique index secrets_name_idx on vault.secrets (name) where name is not null;
comment on table vault.secrets is 'Table with encrypted `secret` column for storing sensitive information on disk.';

create function vault._crypto_encrypt(plain text) returns text
language sql volatile security definer set search_path = ''
as $$
  select encode(extensions.pgp_sym_encrypt(plain, encode(key, 'hex')), 'base64')
  from vault._root_key
$$;

create function vault._crypto_decrypt(cipher text) returns text
language sql stable security definer set search_path = ''
as $$
  select extensions.pgp_sym_decrypt(decode(cipher, 'base64'), encode(key, 'hex'))
  from vault._root_key
$$;

create function vault.create_secret(
  new_secret text,
  new_name text default null,
  new_description text default '',
  new_key_id uuid default null
) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  rec record;
begin
  insert into vault.secrets (secret, name, description, key_id)
  values (vault._crypto_encrypt(new_secret), new_name, coalesce(new_description, ''), new_key_id)
  returning * into rec;
  return rec.id;
end
$$;

create function vault.update_secret(
  secret_id uuid,
  new_secret text default null,
  new_name text default null,
  new_description text default null,
  new_key_id uuid default null
) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  update vault.secrets s set
    secret = coalesce(vault._crypto_encrypt(new_secret), s.secret),
    name = coalesce(new_name, s.name),
    description = coalesce(new_description, s.description),
    key_id = coalesce(new_key_id, s.key_id),
    updated_at = now()
  where s.id = secret_id;
end
$$;

create view vault.decrypted_secrets as
select s.id, s.name, s.description, s.secret,
       vault._crypto_decrypt(s.secret) as decrypted_secret,
       s.key_id, s.nonce, s.created_at, s.updated_at
from vault.secrets s;

revoke all on all functions in schema vault from public;
revoke all on all tables in schema vault from public;
