-- The database looks like hosted Supabase: roles, attributes, extensions, auth helpers,
-- Vault and pg_net's SQL API.
begin;
select plan(24);

select has_role('anon');
select has_role('authenticated');
select has_role('service_role');
select has_role('authenticator');
select ok(not rolsuper and rolcreatedb and rolcreaterole and rolcanlogin and rolreplication
          and rolbypassrls, 'postgres has the hosted attributes and is not a superuser')
  from pg_roles where rolname = 'postgres';
select ok(rolbypassrls and not rolcanlogin, 'service_role bypasses RLS and cannot log in')
  from pg_roles where rolname = 'service_role';
select ok(not rolcanlogin and not rolbypassrls, 'anon and authenticated cannot log in')
  from pg_roles where rolname = 'anon';
select ok(rolcanlogin and not rolinherit, 'authenticator logs in without inheriting')
  from pg_roles where rolname = 'authenticator';
select ok(pg_has_role('postgres', 'authenticated', 'member'), 'postgres may set role authenticated');

select is(extnamespace::regnamespace::text, 'extensions', extname || ' lives in extensions')
  from pg_extension where extname in ('vector', 'pgcrypto') order by extname;
select is(extnamespace::regnamespace::text, 'pg_catalog', 'pg_cron lives in pg_catalog')
  from pg_extension where extname = 'pg_cron';
select is((select extversion from pg_extension where extname = 'vector'), '0.8.0', 'pgvector 0.8.0');
select has_function('net', 'http_post', array['text', 'jsonb', 'jsonb', 'jsonb', 'integer'],
                    'net.http_post has pg_net''s signature');

-- auth helpers read request.jwt.claims as PostgREST sets them.
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub":"00000000-0000-0000-0000-0000000000aa","role":"authenticated","email":"a@example.com"}', true);
select is(auth.uid(), '00000000-0000-0000-0000-0000000000aa'::uuid, 'auth.uid() is the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.email(), 'a@example.com', 'auth.email() is the email claim');
select is(auth.jwt() ->> 'sub', '00000000-0000-0000-0000-0000000000aa', 'auth.jwt() is the claims');
select throws_ok($$ select * from vault.decrypted_secrets $$, '42501', null,
                 'authenticated cannot read Vault');
reset role;

-- Vault round trip.
select vault.create_secret('s3cr3t-value', 'pgtap_secret', 'test');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'pgtap_secret'),
          's3cr3t-value', 'a Vault secret decrypts to what was stored');
select isnt((select secret from vault.secrets where name = 'pgtap_secret'), 's3cr3t-value',
            'the stored secret is encrypted');
select vault.update_secret((select id from vault.secrets where name = 'pgtap_secret'), 'rotated');
select is((select decrypted_secret from vault.decrypted_secrets where name = 'pgtap_secret'),
          'rotated', 'update_secret rotates the value');

-- pg_net queues the request (delivery happens after commit, outside this transaction).
select net.http_post('http://127.0.0.1:9/hook', '{"a":1}'::jsonb,
                     headers => '{"Content-Type":"application/json","X-Null":null}'::jsonb) as rid \gset
select is((select method || ' ' || url from net.http_request_queue where id = :rid),
          'POST http://127.0.0.1:9/hook', 'http_post queues the request');
select is((select headers from net.http_request_queue where id = :rid),
          '{"Content-Type":"application/json"}'::jsonb, 'NULL header values are dropped');

select * from finish();
rollback;
